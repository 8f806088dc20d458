//! `mesh diff` and `mesh apply --dry-run`: what the API server says each
//! object would become (server-side dry run, so webhooks and defaults take
//! part), against what it is, as a unified diff per object.

use super::apply::{apply_object, describe_apply_error};
use super::plan::{Op, Plan};
use super::{ClusterError, Target};
use futures::stream::{self, StreamExt};
use serde_json::Value;

/// Fields that change on every write or belong to the server, not to the
/// declaration: shown in neither side of a diff.
fn strip(mut obj: Value) -> Value {
    if let Some(o) = obj.as_object_mut() {
        o.remove("status");
        if let Some(meta) = o.get_mut("metadata").and_then(Value::as_object_mut) {
            for k in ["managedFields", "resourceVersion", "generation", "uid", "creationTimestamp"] {
                meta.remove(k);
            }
        }
    }
    obj
}

fn yaml(obj: &Option<Value>) -> String {
    match obj {
        Some(v) => serde_yaml::to_string(v).unwrap_or_default(),
        None => String::new(),
    }
}

/// One object's diff.
#[derive(Clone, Debug)]
pub struct ObjectDiff {
    pub op: Op,
    pub name: String,
    pub text: String,
}

/// Diffs every change of the plan. Objects the plan found unchanged need no
/// request; the others are dry-run applied. An update the server turns into
/// no change at all counts as unchanged.
pub async fn diff(
    target: &Target,
    plan: &Plan,
    force: bool,
    parallelism: usize,
) -> Result<Vec<ObjectDiff>, ClusterError> {
    let results: Vec<Result<Option<ObjectDiff>, String>> = stream::iter(&plan.changes)
        .map(|c| async move {
            let before = c.live.clone().map(strip);
            let after = match (c.op, &c.desired) {
                (Op::Unchanged, _) => return Ok(None),
                (Op::Delete, _) | (_, None) => None,
                (_, Some(obj)) => match apply_object(target, obj, force, true).await {
                    Ok(v) => Some(strip(v)),
                    Err(e) => return Err(describe_apply_error(&c.key.to_string(), &e)),
                },
            };
            let (old, new) = (yaml(&before), yaml(&after));
            if old == new {
                return Ok(Some(ObjectDiff { op: Op::Unchanged, name: c.key.to_string(), text: String::new() }));
            }
            let name = c.key.to_string();
            let text = similar::TextDiff::from_lines(&old, &new)
                .unified_diff()
                .context_radius(3)
                .header(&format!("{name} (live)"), &format!("{name} (mesh)"))
                .to_string();
            Ok(Some(ObjectDiff { op: c.op, name, text }))
        })
        .buffered(parallelism.max(1))
        .collect()
        .await;
    let mut diffs = Vec::new();
    let mut errors = Vec::new();
    for r in results {
        match r {
            Ok(Some(d)) => diffs.push(d),
            Ok(None) => {}
            Err(e) => errors.push(e),
        }
    }
    if errors.is_empty() {
        Ok(diffs)
    } else {
        Err(ClusterError(errors.join("\n")))
    }
}

/// Colours a unified diff for a terminal: additions green, removals red, headers bold.
pub fn colorize(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + text.len() / 4);
    for line in text.lines() {
        let color = if line.starts_with("+++") || line.starts_with("---") {
            "\x1b[1m"
        } else if line.starts_with('+') {
            "\x1b[32m"
        } else if line.starts_with('-') {
            "\x1b[31m"
        } else if line.starts_with("@@") {
            "\x1b[36m"
        } else {
            ""
        };
        if color.is_empty() {
            out.push_str(line);
        } else {
            out.push_str(color);
            out.push_str(line);
            out.push_str("\x1b[0m");
        }
        out.push('\n');
    }
    out
}

/// The summary line after the diffs, counting what the server confirmed.
pub fn summary(plan: &Plan, diffs: &[ObjectDiff]) -> String {
    let confirmed_unchanged = diffs.iter().filter(|d| d.op == Op::Unchanged).count();
    let count = |op: Op| diffs.iter().filter(|d| d.op == op).count();
    format!(
        "{} to create, {} to update, {} unchanged, {} to delete",
        count(Op::Create),
        count(Op::Update),
        plan.count(Op::Unchanged) + confirmed_unchanged,
        count(Op::Delete)
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn server_fields_are_stripped() {
        let live = json!({"metadata": {"name": "a", "managedFields": [], "resourceVersion": "7", "uid": "u"},
                          "spec": {"x": 1}, "status": {"ready": true}});
        assert_eq!(strip(live), json!({"metadata": {"name": "a"}, "spec": {"x": 1}}));
    }

    #[test]
    fn colours_only_changed_lines() {
        let text = "--- a\n+++ b\n@@ -1 +1 @@\n-x: 1\n+x: 2\n y: 3\n";
        let out = colorize(text);
        assert!(out.contains("\x1b[31m-x: 1\x1b[0m") && out.contains("\x1b[32m+x: 2\x1b[0m"));
        assert!(out.contains("\n y: 3\n"));
    }
}
