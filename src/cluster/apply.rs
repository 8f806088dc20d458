//! Carrying out a plan: server-side apply under the `mesh` field manager, step
//! by step with bounded parallelism inside a step, then pruning, with the
//! inventory parent widened before and narrowed after.

use super::plan::{Change, Op, Plan};
use super::{api, describe, ClusterError, Target, FIELD_MANAGER};
use futures::stream::{self, StreamExt};
use kube::api::{DeleteParams, Patch, PatchParams};
use serde_json::Value;
use std::collections::BTreeMap;

#[derive(Clone, Copy, Debug)]
pub struct ApplyOptions {
    /// Take over fields another field manager owns instead of failing.
    pub force_conflicts: bool,
    /// Requests in flight at once within a step.
    pub parallelism: usize,
}

impl Default for ApplyOptions {
    fn default() -> Self {
        ApplyOptions { force_conflicts: false, parallelism: 8 }
    }
}

/// Explains a failed apply of one object; a conflict names the other field
/// manager and the field.
pub fn describe_apply_error(what: &str, err: &kube::Error) -> String {
    if let kube::Error::Api(status) = err {
        if status.code == 409 && (status.reason == "Conflict" || status.message.contains("conflict")) {
            let causes: Vec<String> = status
                .details
                .as_ref()
                .map(|d| {
                    d.causes
                        .iter()
                        .map(|c| match manager_in(&c.message) {
                            Some(m) if !c.field.is_empty() => format!("{} is owned by field manager \"{m}\"", c.field),
                            _ if !c.field.is_empty() => format!("{}: {}", c.field, c.message),
                            _ => c.message.clone(),
                        })
                        .collect()
                })
                .unwrap_or_default();
            let detail = if causes.is_empty() {
                match manager_in(&status.message) {
                    Some(m) => format!("{} (field manager \"{m}\")", status.message),
                    None => status.message.clone(),
                }
            } else {
                causes.join("; ")
            };
            return format!(
                "{what}: conflict: {detail}; re-run with --force-conflicts to take the field over, or remove it from \
                 the other manager"
            );
        }
    }
    format!("{what}: {}", describe(err))
}

/// The manager named in `conflict with "kubectl" using apps/v1`.
fn manager_in(message: &str) -> Option<&str> {
    let rest = &message[message.find("conflict with \"")? + "conflict with \"".len()..];
    rest.split('"').next()
}

pub async fn apply_object(target: &Target, obj: &Value, force: bool, dry_run: bool) -> Result<Value, kube::Error> {
    let api_version = obj.get("apiVersion").and_then(Value::as_str).unwrap_or_default();
    let kind = obj.get("kind").and_then(Value::as_str).unwrap_or_default();
    let name = obj.pointer("/metadata/name").and_then(Value::as_str).unwrap_or_default();
    let resource = super::resource(api_version, kind)
        .map_err(|e| kube::Error::Api(Box::new(kube::core::Status::failure(&e.0, "BadRequest"))))?;
    let mut params = PatchParams::apply(FIELD_MANAGER);
    if force {
        params = params.force();
    }
    if dry_run {
        params = params.dry_run();
    }
    let result = api(target, &resource).patch(name, &params, &Patch::Apply(obj)).await?;
    Ok(serde_json::to_value(result).unwrap_or(Value::Null))
}

async fn delete_object(target: &Target, change: &Change) -> Result<(), kube::Error> {
    let params = DeleteParams::background();
    match api(target, &change.resource).delete(&change.key.name, &params).await {
        Ok(_) => Ok(()),
        // Already gone: the goal is reached.
        Err(e) if super::status_code(&e) == Some(404) => Ok(()),
        Err(e) => Err(e),
    }
}

/// Applies a plan. `report` receives one line per object changed. Stops
/// before the next step when a step had failures, so producers never start
/// ahead of consumers that failed to apply; the error lists every failure.
pub async fn execute(
    target: &Target,
    plan: &Plan,
    opts: ApplyOptions,
    report: &(dyn Fn(&str) + Sync),
) -> Result<(), ClusterError> {
    if let Some(parent) = &plan.parent_before {
        apply_object(target, parent, false, false)
            .await
            .map_err(|e| ClusterError(describe_apply_error(&format!("inventory ConfigMap/{}", plan.parent), &e)))?;
    }
    let mut steps: BTreeMap<usize, Vec<&Change>> = BTreeMap::new();
    for c in plan.changes.iter().filter(|c| c.op != Op::Unchanged) {
        steps.entry(c.step).or_default().push(c);
    }
    let parallelism = opts.parallelism.max(1);
    for (_, changes) in steps {
        let results: Vec<Result<(), String>> = stream::iter(changes)
            .map(|c| async move {
                let result = match (&c.desired, c.op) {
                    (_, Op::Delete) => delete_object(target, c).await,
                    (Some(obj), _) => apply_object(target, obj, opts.force_conflicts, false).await.map(|_| ()),
                    (None, _) => Ok(()),
                };
                match result {
                    Ok(()) => {
                        report(&format!("{} {}", c.key, c.op.past()));
                        Ok(())
                    }
                    Err(e) => Err(describe_apply_error(&c.key.to_string(), &e)),
                }
            })
            .buffer_unordered(parallelism)
            .collect()
            .await;
        let mut errors: Vec<String> = results.into_iter().filter_map(Result::err).collect();
        if !errors.is_empty() {
            errors.sort();
            return Err(ClusterError(errors.join("\n")));
        }
    }
    if let Some(parent) = &plan.parent_after {
        apply_object(target, parent, false, false)
            .await
            .map_err(|e| ClusterError(describe_apply_error(&format!("inventory ConfigMap/{}", plan.parent), &e)))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn conflicts_name_the_manager_and_the_field() {
        let mut status = kube::core::Status::failure(
            "Apply failed with 1 conflict: conflict with \"kubectl-edit\" using apps/v1: .spec.replicas",
            "Conflict",
        );
        status.code = 409;
        let err = kube::Error::Api(Box::new(status.clone()));
        let text = describe_apply_error("StatefulSet/s", &err);
        assert!(text.contains("\"kubectl-edit\"") && text.contains("--force-conflicts"), "{text}");
        // Deserialised, as the client receives it from a real API server.
        status.details = serde_json::from_value(serde_json::json!({"causes": [{
            "reason": "FieldManagerConflict", "message": "conflict with \"hpa\" using apps/v1", "field": ".spec.replicas"
        }]}))
        .ok();
        let text = describe_apply_error("StatefulSet/s", &kube::Error::Api(Box::new(status)));
        assert!(text.contains(".spec.replicas is owned by field manager \"hpa\""), "{text}");
    }
}
