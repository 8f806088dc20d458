//! `--wait`: polls until every component is ready, by the operator's status
//! (custom resources) and the StatefulSets' ready replicas, showing progress
//! per component; on timeout, names what is not ready and its latest events.

use super::{api, describe, resource_of, ClusterError, Target};
use kube::api::{ApiResource, ListParams};
use serde_json::Value;
use std::time::{Duration, Instant};

/// One thing to wait for.
#[derive(Clone, Debug)]
pub struct Component {
    /// `Function/enrich`, as messages name it.
    pub label: String,
    /// The object whose status tells readiness (`None`: only the StatefulSet).
    resource: Option<(ApiResource, String)>,
    /// The StatefulSet that runs it (`None` for a FunctionMesh).
    statefulset: Option<String>,
    /// Prefixes of object names whose events concern it.
    event_names: Vec<String>,
}

/// What to wait for in a bundle: its custom resources, or its StatefulSets
/// when the bundle has no custom resources (the workloads target).
pub fn components(objects: &[Value]) -> Vec<Component> {
    let mut out = Vec::new();
    for obj in objects {
        let kind = obj.get("kind").and_then(Value::as_str).unwrap_or_default();
        let api_version = obj.get("apiVersion").and_then(Value::as_str).unwrap_or_default();
        let name = obj.pointer("/metadata/name").and_then(Value::as_str).unwrap_or_default().to_string();
        let label = format!("{kind}/{name}");
        match kind {
            "Function" | "Source" | "Sink" => {
                // The operator names the StatefulSet after the resource and its kind.
                let sts = format!("{name}-{}", kind.to_ascii_lowercase());
                out.push(Component {
                    label,
                    resource: resource_of(api_version, kind).map(|r| (r, name.clone())),
                    statefulset: Some(sts.clone()),
                    event_names: vec![name, sts],
                });
            }
            "FunctionMesh" => out.push(Component {
                label,
                resource: resource_of(api_version, kind).map(|r| (r, name.clone())),
                statefulset: None,
                event_names: vec![name],
            }),
            "StatefulSet" => {
                out.push(Component { label, resource: None, statefulset: Some(name.clone()), event_names: vec![name] })
            }
            _ => {}
        }
    }
    let has_crs = out.iter().any(|c| c.resource.is_some());
    if has_crs {
        out.retain(|c| c.resource.is_some());
    }
    out
}

/// Why a component is not ready yet, or `None` when it is.
fn cr_not_ready(kind: &str, cr: &Value) -> Option<String> {
    let status = cr.get("status");
    let generation = cr.pointer("/metadata/generation").and_then(Value::as_i64);
    let observed = status.and_then(|s| s.get("observedGeneration")).and_then(Value::as_i64);
    if let (Some(g), Some(o)) = (generation, observed) {
        if o < g {
            return Some("the operator has not seen the latest change".into());
        }
    }
    if kind == "FunctionMesh" {
        let condition = status.and_then(|s| s.get("condition"));
        return match condition.and_then(|c| c.get("status")).and_then(Value::as_str) {
            Some("True") => None,
            _ => Some("the mesh is not ready".into()),
        };
    }
    let Some(conditions) = status.and_then(|s| s.get("conditions")).and_then(Value::as_object) else {
        return Some("no status from the operator yet".into());
    };
    let pending: Vec<&str> = conditions
        .iter()
        .filter(|(_, c)| c.get("status").and_then(Value::as_str) != Some("True"))
        .map(|(k, _)| k.as_str())
        .collect();
    if !conditions.contains_key("StatefulSet") {
        return Some("StatefulSet not reported yet".into());
    }
    if pending.is_empty() {
        None
    } else {
        Some(format!("waiting for {}", pending.join(", ")))
    }
}

fn statefulset_not_ready(sts: &Value) -> Option<String> {
    let want = sts.pointer("/spec/replicas").and_then(Value::as_i64).unwrap_or(1);
    let ready = sts.pointer("/status/readyReplicas").and_then(Value::as_i64).unwrap_or(0);
    let generation = sts.pointer("/metadata/generation").and_then(Value::as_i64);
    let observed = sts.pointer("/status/observedGeneration").and_then(Value::as_i64);
    if let (Some(g), Some(o)) = (generation, observed) {
        if o < g {
            return Some("rollout not observed yet".into());
        }
    }
    (ready < want).then(|| format!("{ready}/{want} replicas ready"))
}

async fn get(target: &Target, resource: &ApiResource, name: &str) -> Result<Option<Value>, ClusterError> {
    match api(target, resource).get_opt(name).await {
        Ok(v) => Ok(v.map(|v| serde_json::to_value(v).unwrap_or(Value::Null))),
        Err(e) => Err(ClusterError(format!("cannot read {}/{name}: {}", resource.kind, describe(&e)))),
    }
}

/// Checks one component: `None` when ready, else why not.
async fn check(target: &Target, c: &Component) -> Result<Option<String>, ClusterError> {
    if let Some((resource, name)) = &c.resource {
        match get(target, resource, name).await? {
            None => return Ok(Some("not found".into())),
            Some(cr) => {
                if let Some(why) = cr_not_ready(&resource.kind, &cr) {
                    return Ok(Some(why));
                }
            }
        }
    }
    if let Some(sts) = &c.statefulset {
        let resource = super::resource("apps/v1", "StatefulSet")?;
        match get(target, &resource, sts).await? {
            None => return Ok(Some(format!("StatefulSet {sts} not created yet"))),
            Some(s) => {
                if let Some(why) = statefulset_not_ready(&s) {
                    return Ok(Some(format!("StatefulSet {sts}: {why}")));
                }
            }
        }
    }
    Ok(None)
}

/// Waits for every component. `show` receives progress: (component, state) on every change.
pub async fn wait(
    target: &Target,
    components: &[Component],
    timeout: Duration,
    poll: Duration,
    show: &(dyn Fn(&str, &str) + Sync),
) -> Result<(), ClusterError> {
    let start = Instant::now();
    let mut state: Vec<Option<String>> = vec![Some("pending".into()); components.len()];
    loop {
        for (i, c) in components.iter().enumerate() {
            if state[i].is_none() {
                continue;
            }
            let now = check(target, c).await?;
            if now != state[i] {
                show(&c.label, now.as_deref().unwrap_or("ready"));
                state[i] = now;
            }
        }
        if state.iter().all(Option::is_none) {
            return Ok(());
        }
        if start.elapsed() >= timeout {
            break;
        }
        tokio::time::sleep(poll.min(timeout.saturating_sub(start.elapsed()))).await;
    }
    let events = recent_events(target).await;
    let mut text = format!("timed out after {} waiting for:", humanize(timeout));
    for (c, s) in components.iter().zip(&state) {
        let Some(why) = s else { continue };
        text.push_str(&format!("\n  {} ({why})", c.label));
        let mine: Vec<&(String, String)> = events
            .iter()
            .filter(|(object, _)| {
                let name = object.split('/').nth(1).unwrap_or_default();
                c.event_names.iter().any(|n| name == n || name.starts_with(&format!("{n}-")))
            })
            .collect();
        for (object, line) in mine.iter().rev().take(3).rev() {
            text.push_str(&format!("\n    {object}: {line}"));
        }
    }
    Err(ClusterError(text))
}

/// The namespace's events, oldest first, as (`kind/name`, `Type Reason: message`).
async fn recent_events(target: &Target) -> Vec<(String, String)> {
    let Some(resource) = resource_of("v1", "Event") else { return Vec::new() };
    let Ok(list) = api(target, &resource).list(&ListParams::default()).await else { return Vec::new() };
    let mut events: Vec<(String, String, String)> = list
        .items
        .into_iter()
        .map(|e| {
            let v = serde_json::to_value(e).unwrap_or(Value::Null);
            let s = |p: &str| v.pointer(p).and_then(Value::as_str).unwrap_or_default().to_string();
            let when = [s("/lastTimestamp"), s("/eventTime"), s("/metadata/creationTimestamp")]
                .into_iter()
                .find(|t| !t.is_empty())
                .unwrap_or_default();
            let object = format!("{}/{}", s("/involvedObject/kind"), s("/involvedObject/name"));
            (when, object, format!("{} {}: {}", s("/type"), s("/reason"), s("/message")))
        })
        .collect();
    events.sort();
    events.into_iter().map(|(_, o, l)| (o, l)).collect()
}

/// `5m`, `90s`, `1m30s`.
pub fn humanize(d: Duration) -> String {
    let s = d.as_secs();
    match (s / 60, s % 60) {
        (0, s) => format!("{s}s"),
        (m, 0) => format!("{m}m"),
        (m, s) => format!("{m}m{s}s"),
    }
}

/// Parses `5m`, `90s`, `1h`, `1m30s`, `500ms` (the language's duration units,
/// combined as kubectl does), or plain seconds.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let invalid = || format!("`{text}` is not a duration such as 30s, 5m or 1h");
    let mut rest = text.trim();
    if let Ok(n) = rest.parse::<u64>() {
        return Ok(Duration::from_secs(n));
    }
    if rest.is_empty() {
        return Err(invalid());
    }
    let mut total_ms: u64 = 0;
    while !rest.is_empty() {
        let digits = rest.find(|c: char| !c.is_ascii_digit()).unwrap_or(rest.len());
        let letters = rest[digits..].find(|c: char| c.is_ascii_digit()).map_or(rest.len(), |i| digits + i);
        let n: u64 = rest[..digits].parse().map_err(|_| invalid())?;
        let unit = crate::quantity::duration_unit_ms(&rest[digits..letters]).ok_or_else(invalid)?;
        total_ms = n.checked_mul(unit).and_then(|ms| total_ms.checked_add(ms)).ok_or_else(invalid)?;
        rest = &rest[letters..];
    }
    Ok(Duration::from_millis(total_ms))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn durations() {
        assert_eq!(parse_duration("5m"), Ok(Duration::from_secs(300)));
        assert_eq!(parse_duration("1m30s"), Ok(Duration::from_secs(90)));
        assert_eq!(parse_duration("250ms"), Ok(Duration::from_millis(250)));
        assert_eq!(parse_duration("2h"), Ok(Duration::from_secs(7200)));
        assert_eq!(parse_duration("12"), Ok(Duration::from_secs(12)));
        for bad in ["", "m", "5x", "5m3", "-1s"] {
            assert!(parse_duration(bad).is_err(), "{bad}");
        }
        assert_eq!(humanize(Duration::from_secs(90)), "1m30s");
    }

    #[test]
    fn readiness_rules() {
        let ready = json!({"metadata": {"generation": 2}, "status": {"observedGeneration": 2, "conditions": {
            "StatefulSet": {"condition": "StatefulSetReady", "status": "True"},
            "Service": {"condition": "ServiceReady", "status": "True"}}}});
        assert_eq!(cr_not_ready("Function", &ready), None);
        let mut stale = ready.clone();
        stale["metadata"]["generation"] = json!(3);
        assert!(cr_not_ready("Function", &stale).is_some());
        let mut pending = ready.clone();
        pending["status"]["conditions"]["Service"]["status"] = json!("False");
        assert_eq!(cr_not_ready("Function", &pending).as_deref(), Some("waiting for Service"));
        assert!(cr_not_ready("Function", &json!({})).is_some());
        let mesh = json!({"status": {"condition": {"condition": "MeshReady", "status": "True"}}});
        assert_eq!(cr_not_ready("FunctionMesh", &mesh), None);
        assert_eq!(statefulset_not_ready(&json!({"spec": {"replicas": 2}, "status": {"readyReplicas": 2}})), None);
        assert_eq!(
            statefulset_not_ready(&json!({"spec": {"replicas": 2}, "status": {"readyReplicas": 1}})).as_deref(),
            Some("1/2 replicas ready")
        );
    }

    #[test]
    fn bundles_wait_on_their_resources_or_statefulsets() {
        let crd = vec![
            json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"}}),
            json!({"apiVersion": "compute.functionmesh.io/v1alpha1", "kind": "Sink", "metadata": {"name": "k"}}),
        ];
        let c = components(&crd);
        assert_eq!(c.len(), 1);
        assert_eq!(c[0].statefulset.as_deref(), Some("k-sink"));
        let workloads = vec![json!({"apiVersion": "apps/v1", "kind": "StatefulSet", "metadata": {"name": "k-sink"}})];
        assert_eq!(components(&workloads)[0].label, "StatefulSet/k-sink");
    }
}
