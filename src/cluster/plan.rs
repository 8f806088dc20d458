//! What an apply would do: the desired objects prepared for the cluster
//! (namespace, membership label, digest, fields left to autoscalers), the live
//! members of the inventory, and per object create / update / unchanged /
//! delete, in the order they must happen.

use super::inventory;
use super::{api, describe, group_kind, resource, resource_of, ClusterError, Target};
use crate::ir::Program;
use kube::api::{ApiResource, ListParams};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::{Digest, Sha256};
use std::collections::{BTreeMap, BTreeSet};

/// The order components are applied in: consumers of a topic before its
/// producers, so no producer registers a schema before its readers exist.
/// Each step holds `kind/name` keys (`function/enrich`) that may go in parallel.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Topology {
    pub steps: Vec<Vec<String>>,
}

impl Topology {
    pub fn from_program(p: &Program) -> Topology {
        let n = p.components.len();
        // producers[t]: who writes topic t; a component's level is one more than
        // the deepest level among those that read what it writes.
        let mut producers: BTreeMap<usize, Vec<usize>> = BTreeMap::new();
        for (i, c) in p.components.iter().enumerate() {
            if let Some(t) = c.output {
                producers.entry(t).or_default().push(i);
            }
        }
        let mut downstream = vec![0usize; n];
        for c in &p.components {
            for input in &c.inputs {
                for &u in producers.get(&input.topic).into_iter().flatten() {
                    downstream[u] += 1;
                }
            }
        }
        // Kahn's algorithm from the components nobody reads from; iterative, so
        // a chain of any length is fine. Components on a cycle keep level 0.
        let mut level = vec![0usize; n];
        let mut ready: Vec<usize> = (0..n).filter(|&i| downstream[i] == 0).collect();
        while let Some(x) = ready.pop() {
            for input in &p.components[x].inputs {
                for &u in producers.get(&input.topic).into_iter().flatten() {
                    level[u] = level[u].max(level[x] + 1);
                    downstream[u] -= 1;
                    if downstream[u] == 0 {
                        ready.push(u);
                    }
                }
            }
        }
        let mut steps: BTreeMap<usize, Vec<String>> = BTreeMap::new();
        for (i, c) in p.components.iter().enumerate() {
            steps.entry(level[i]).or_default().push(format!("{}/{}", c.kind.keyword(), c.kube_name));
        }
        Topology { steps: steps.into_values().collect() }
    }

    fn step_of(&self, key: &str) -> Option<usize> {
        self.steps.iter().position(|s| s.iter().any(|k| k == key))
    }
}

/// What an object is, as far as ordering goes: `None` for configuration
/// applied first, else the component it belongs to (`function/enrich`).
fn component_key(obj: &Value) -> Option<String> {
    let kind = obj.get("kind").and_then(Value::as_str).unwrap_or_default();
    let name = obj.pointer("/metadata/name").and_then(Value::as_str).unwrap_or_default();
    match kind {
        "Function" | "Source" | "Sink" => Some(format!("{}/{name}", kind.to_ascii_lowercase())),
        "FunctionMesh" => Some(format!("mesh/{name}")),
        _ => {
            let labels = obj.pointer("/metadata/labels")?;
            let component = labels.get("compute.functionmesh.io/component")?.as_str()?;
            let name = labels.get("compute.functionmesh.io/name")?.as_str()?;
            Some(format!("{component}/{name}"))
        }
    }
}

/// Step 0 is configuration; components follow in topology order. Without a
/// topology entry, sinks go before functions and functions before sources,
/// which is consumers-first for every pipeline without function chains.
pub fn step_of(obj: &Value, topology: &Topology) -> usize {
    let Some(key) = component_key(obj) else { return 0 };
    if let Some(s) = topology.step_of(&key) {
        return 1 + s;
    }
    let base = topology.steps.len() + 1;
    match key.split('/').next() {
        Some("sink") => base,
        Some("function") | Some("mesh") => base + 1,
        _ => base + 2,
    }
}

/// Names an object by its group-kind and name, the identity of inventory members.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Key {
    pub group_kind: String,
    pub name: String,
}

impl Key {
    pub fn of(obj: &Value) -> Key {
        let s = |p: &str| obj.pointer(p).and_then(Value::as_str).unwrap_or_default().to_string();
        Key { group_kind: group_kind(&s("/apiVersion"), &s("/kind")), name: s("/metadata/name") }
    }
}

impl std::fmt::Display for Key {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let kind = self.group_kind.split('.').next().unwrap_or_default();
        write!(f, "{kind}/{}", self.name)
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Op {
    Create,
    Update,
    Unchanged,
    Delete,
}

impl Op {
    pub fn past(self) -> &'static str {
        match self {
            Op::Create => "created",
            Op::Update => "updated",
            Op::Unchanged => "unchanged",
            Op::Delete => "deleted",
        }
    }
}

#[derive(Clone, Debug)]
pub struct Change {
    pub op: Op,
    pub key: Key,
    pub resource: ApiResource,
    /// What mesh applies (`None` for deletions).
    pub desired: Option<Value>,
    pub live: Option<Value>,
    pub step: usize,
}

/// Everything an apply, a diff or a sync pass needs to know.
#[derive(Clone, Debug)]
pub struct Plan {
    pub parent: String,
    /// The parent as it must be before members change (`None`: no write needed).
    pub parent_before: Option<Value>,
    /// The parent as it must be after pruning (`None`: no write needed).
    pub parent_after: Option<Value>,
    pub changes: Vec<Change>,
}

impl Plan {
    pub fn count(&self, op: Op) -> usize {
        self.changes.iter().filter(|c| c.op == op).count()
    }

    pub fn deletions(&self) -> impl Iterator<Item = &Change> {
        self.changes.iter().filter(|c| c.op == Op::Delete)
    }

    /// `2 to create, 1 to update, 10 unchanged, 1 to delete`.
    pub fn summary(&self, done: bool) -> String {
        let part = |op: Op, future: &str| {
            let n = self.count(op);
            if done {
                format!("{n} {}", op.past())
            } else {
                format!("{n} {future}")
            }
        };
        [
            part(Op::Create, "to create"),
            part(Op::Update, "to update"),
            part(Op::Unchanged, "unchanged"),
            part(Op::Delete, "to delete"),
        ]
        .join(", ")
    }

    /// The table shown before anything is deleted, kapp-style.
    pub fn table(&self) -> String {
        let rows: Vec<(&str, String)> = self
            .changes
            .iter()
            .filter(|c| c.op != Op::Unchanged)
            .map(|c| {
                let op = match c.op {
                    Op::Create => "create",
                    Op::Update => "update",
                    Op::Delete => "delete",
                    Op::Unchanged => "",
                };
                (op, c.key.to_string())
            })
            .collect();
        let mut out = String::from("Op      Object\n");
        for (op, name) in rows {
            out.push_str(&format!("{op:<7} {name}\n"));
        }
        out
    }
}

/// The desired objects as they are sent: in the target namespace, members of
/// the set, without fields an autoscaler owns, and carrying their digest.
pub fn prepare(objects: &[Value], namespace: &str, applyset_id: &str) -> Result<Vec<Value>, ClusterError> {
    let scaled: BTreeSet<(String, String)> = objects
        .iter()
        .filter(|o| o.get("kind").and_then(Value::as_str) == Some("HorizontalPodAutoscaler"))
        .filter_map(|o| {
            let target = o.pointer("/spec/scaleTargetRef")?;
            Some((target.get("kind")?.as_str()?.to_string(), target.get("name")?.as_str()?.to_string()))
        })
        .collect();
    let mut out = Vec::with_capacity(objects.len());
    for obj in objects {
        let mut obj = obj.clone();
        let kind = obj.get("kind").and_then(Value::as_str).unwrap_or_default().to_string();
        let name = obj.pointer("/metadata/name").and_then(Value::as_str).unwrap_or_default().to_string();
        let api_version = obj.get("apiVersion").and_then(Value::as_str).unwrap_or_default().to_string();
        resource(&api_version, &kind)?;
        let Some(meta) = obj.get_mut("metadata").and_then(Value::as_object_mut) else {
            return Err(ClusterError(format!("{kind} `{name}` has no metadata")));
        };
        match meta.get("namespace").and_then(Value::as_str) {
            Some(ns) if ns != namespace => {
                return Err(ClusterError(format!(
                    "{kind}/{name} belongs to namespace `{ns}`, but the bundle goes to `{namespace}`; drop -n or \
                     change the program's namespace"
                )))
            }
            _ => {
                meta.insert("namespace".into(), Value::String(namespace.to_string()));
            }
        }
        // An autoscaler moves the replica count; owning it would fight the autoscaler on every apply.
        let autoscaled = match kind.as_str() {
            "Function" | "Source" | "Sink" => obj.pointer("/spec/maxReplicas").is_some(),
            _ => scaled.contains(&(kind.clone(), name.clone())),
        };
        if autoscaled {
            if let Some(spec) = obj.get_mut("spec").and_then(Value::as_object_mut) {
                spec.remove("replicas");
            }
        }
        inventory::mark_member(&mut obj, applyset_id);
        let digest = digest(&obj);
        if let Some(meta) = obj.get_mut("metadata").and_then(Value::as_object_mut) {
            let annotations = meta.entry("annotations").or_insert_with(|| serde_json::json!({}));
            if let Some(a) = annotations.as_object_mut() {
                a.insert(inventory::ANNOTATION_DIGEST.into(), Value::String(digest));
            }
        }
        out.push(obj);
    }
    Ok(out)
}

fn digest(obj: &Value) -> String {
    let text = serde_json::to_string(obj).unwrap_or_default();
    let hash = Sha256::digest(text.as_bytes());
    hash.iter().take(16).map(|b| format!("{b:02x}")).collect()
}

/// True when every field of `want` is in `have` with the same value: the
/// server adds defaults and status, never removes what was applied.
pub fn contained(want: &Value, have: &Value) -> bool {
    match (want, have) {
        (Value::Object(w), Value::Object(h)) => w
            .iter()
            .all(|(k, v)| h.get(k).is_some_and(|hv| contained(v, hv) || (is_quantity_key(k) && same_quantity(v, hv)))),
        (Value::Array(w), Value::Array(h)) => w.len() == h.len() && w.iter().zip(h).all(|(a, b)| contained(a, b)),
        (Value::Number(a), Value::Number(b)) => a.as_f64() == b.as_f64(),
        (a, b) => a == b,
    }
}

/// Resource names whose values the API server stores in canonical form
/// (`1000m` comes back as `1`).
fn is_quantity_key(key: &str) -> bool {
    matches!(key, "cpu" | "memory" | "storage" | "ephemeral-storage")
}

fn same_quantity(a: &Value, b: &Value) -> bool {
    let q = |v: &Value| match v {
        Value::String(s) => crate::quantity::parse(s),
        Value::Number(n) => n.as_f64(),
        _ => None,
    };
    matches!((q(a), q(b)), (Some(x), Some(y)) if (x - y).abs() <= f64::EPSILON * x.abs().max(1.0))
}

/// Unchanged: the live object carries the digest of what mesh would send and
/// still holds every field of it (nobody edited them since).
pub fn unchanged(desired: &Value, live: &Value) -> bool {
    let digest_of =
        |v: &Value| v.pointer("/metadata/annotations").and_then(|a| a.get(inventory::ANNOTATION_DIGEST)).cloned();
    digest_of(desired).is_some() && digest_of(desired) == digest_of(live) && contained(desired, live)
}

/// The live members of the set, by key: one list request per group-kind.
pub async fn live_members(
    target: &Target,
    group_kinds: &BTreeSet<String>,
    applyset_id: &str,
) -> Result<BTreeMap<Key, (ApiResource, Value)>, ClusterError> {
    let mut out = BTreeMap::new();
    let selector = format!("{}={applyset_id}", inventory::LABEL_PART_OF);
    for gk in group_kinds {
        let Some((api_version, kind)) = super::api_version_of(gk) else { continue };
        let Some(resource) = resource_of(&api_version, &kind) else { continue };
        let list = match api(target, &resource).list(&ListParams::default().labels(&selector)).await {
            Ok(list) => list,
            // A kind whose API is gone (CRDs uninstalled) has no members left to prune.
            Err(e) if super::status_code(&e) == Some(404) => continue,
            Err(e) => return Err(ClusterError(format!("cannot list {kind} objects: {}", describe(&e)))),
        };
        for item in list.items {
            let mut value = serde_json::to_value(&item).unwrap_or(Value::Null);
            // Lists leave apiVersion/kind off their items on some servers.
            if let Some(o) = value.as_object_mut() {
                o.insert("apiVersion".into(), Value::String(api_version.clone()));
                o.insert("kind".into(), Value::String(kind.clone()));
            }
            out.insert(Key::of(&value), (resource.clone(), value));
        }
    }
    Ok(out)
}

/// Reads the cluster and works out every change. Makes no writes.
pub async fn plan(
    target: &Target,
    mesh_name: &str,
    objects: &[Value],
    topology: &Topology,
    prune: bool,
) -> Result<Plan, ClusterError> {
    let parent = inventory::parent_name(mesh_name);
    let id = inventory::applyset_id(&parent, &target.namespace);
    let desired = prepare(objects, &target.namespace, &id)?;
    let config_maps = resource("v1", "ConfigMap")?;
    let live_parent = match api(target, &config_maps).get_opt(&parent).await {
        Ok(p) => p.map(|p| serde_json::to_value(p).unwrap_or(Value::Null)),
        Err(e) => return Err(ClusterError(format!("cannot read the inventory `{parent}`: {}", describe(&e)))),
    };
    let old_kinds = match &live_parent {
        Some(p) => inventory::read_parent(p).map_err(|e| ClusterError(format!("ConfigMap/{parent}: {e}")))?,
        None => BTreeSet::new(),
    };
    if let Some(p) = &live_parent {
        let id_label = p.pointer("/metadata/labels").and_then(|l| l.get(inventory::LABEL_ID)).and_then(Value::as_str);
        if id_label != Some(id.as_str()) {
            return Err(ClusterError(format!(
                "ConfigMap/{parent} exists but is not the inventory of this bundle (its {} label is {}); rename the \
                 pipeline or remove that ConfigMap",
                inventory::LABEL_ID,
                id_label.map_or("missing".to_string(), |l| format!("`{l}`"))
            )));
        }
    }
    let new_kinds: BTreeSet<String> = desired.iter().map(|o| Key::of(o).group_kind).collect();
    let all_kinds: BTreeSet<String> = old_kinds.union(&new_kinds).cloned().collect();
    let mut live = live_members(target, &all_kinds, &id).await?;

    let mut changes = Vec::with_capacity(desired.len());
    let mut seen = BTreeSet::new();
    for obj in desired {
        let key = Key::of(&obj);
        if !seen.insert(key.clone()) {
            return Err(ClusterError(format!("the bundle has {key} twice")));
        }
        let api_version = obj.get("apiVersion").and_then(Value::as_str).unwrap_or_default();
        let kind = obj.get("kind").and_then(Value::as_str).unwrap_or_default();
        let resource = super::resource(api_version, kind)?;
        let live_obj = live.remove(&key).map(|(_, v)| v);
        let op = match &live_obj {
            None => Op::Create,
            Some(l) if unchanged(&obj, l) => Op::Unchanged,
            Some(_) => Op::Update,
        };
        let step = step_of(&obj, topology);
        changes.push(Change { op, key, resource, desired: Some(obj), live: live_obj, step });
    }
    if prune {
        let last = changes.iter().map(|c| c.step).max().unwrap_or(0) + 1;
        let deepest = topology.steps.len() + 3;
        for (key, (resource, value)) in live {
            // Producers go first on the way out, the reverse of the apply order.
            let step = last + deepest.saturating_sub(step_of(&value, topology));
            changes.push(Change { op: Op::Delete, key, resource, desired: None, live: Some(value), step });
        }
    }
    let parent_before = (live_parent.is_none() || !new_kinds.is_subset(&old_kinds))
        .then(|| inventory::parent_object(&parent, &target.namespace, &all_kinds));
    let final_kinds = if prune { &new_kinds } else { &all_kinds };
    let parent_after = (*final_kinds != all_kinds || (parent_before.is_none() && *final_kinds != old_kinds))
        .then(|| inventory::parent_object(&parent, &target.namespace, final_kinds));
    Ok(Plan { parent, parent_before, parent_after, changes })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn containment_ignores_server_additions_but_not_edits() {
        let want = json!({"spec": {"a": 1, "b": [{"x": "y"}]}});
        assert!(contained(&want, &json!({"spec": {"a": 1.0, "b": [{"x": "y", "z": 0}], "c": true}, "status": {}})));
        assert!(!contained(&want, &json!({"spec": {"a": 2, "b": [{"x": "y"}]}})));
        assert!(!contained(&want, &json!({"spec": {"a": 1, "b": []}})));
        assert!(!contained(&want, &json!({"spec": {"b": [{"x": "y"}]}})));
        // Quantities the server canonicalised are the same quantity.
        let resources = json!({"limits": {"cpu": "1000m", "memory": "1Gi"}});
        assert!(contained(&resources, &json!({"limits": {"cpu": "1", "memory": "1073741824"}})));
        assert!(!contained(&resources, &json!({"limits": {"cpu": "2", "memory": "1Gi"}})));
        assert!(!contained(&json!({"name": "1000m"}), &json!({"name": "1"})));
    }

    #[test]
    fn prepare_labels_digests_and_leaves_autoscaled_replicas_alone() {
        let objects = vec![
            json!({"apiVersion": "compute.functionmesh.io/v1alpha1", "kind": "Function", "metadata": {"name": "f"},
                   "spec": {"replicas": 2, "maxReplicas": 4}}),
            json!({"apiVersion": "apps/v1", "kind": "StatefulSet", "metadata": {"name": "s"}, "spec": {"replicas": 2}}),
            json!({"apiVersion": "autoscaling/v2", "kind": "HorizontalPodAutoscaler", "metadata": {"name": "h"},
                   "spec": {"scaleTargetRef": {"kind": "StatefulSet", "name": "s"}}}),
            json!({"apiVersion": "apps/v1", "kind": "StatefulSet", "metadata": {"name": "t"}, "spec": {"replicas": 3}}),
        ];
        let out = prepare(&objects, "ns", "id1").unwrap();
        assert!(out[0].pointer("/spec/replicas").is_none());
        assert!(out[1].pointer("/spec/replicas").is_none());
        assert_eq!(out[3].pointer("/spec/replicas"), Some(&json!(3)));
        for o in &out {
            assert_eq!(o.pointer("/metadata/namespace"), Some(&json!("ns")));
            assert_eq!(o.pointer("/metadata/labels/applyset.kubernetes.io~1part-of"), Some(&json!("id1")));
            assert!(unchanged(o, o));
        }
        let mut edited = out[3].clone();
        edited["spec"]["replicas"] = json!(5);
        assert!(!unchanged(&out[3], &edited));
        let wrong_ns = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c", "namespace": "x"}});
        assert!(prepare(&[wrong_ns], "ns", "id").unwrap_err().0.contains("namespace `x`"));
        let unknown = json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"}});
        assert!(prepare(&[unknown], "ns", "id").is_err());
    }

    #[test]
    fn topology_puts_consumers_first() {
        let src = r#"
pulsar p { web_service_url = "http://b:8080", broker_service_url = "pulsar://b:6650" }
topic a : string
topic b : string
topic c : string
source s = connector("com.S") { jar = "s.nar", value = string }
function f(string) -> string = java("com.F") { jar = "f.jar" }
function g(string) -> string = java("com.G") { jar = "g.jar" }
sink k = connector("com.K") { jar = "k.nar" }
pipeline x { s -> a -> f -> b -> g -> c -> k }
"#;
        let loaded = crate::load::load_text("t.mesh", src);
        let (program, diags) = crate::check::check(&loaded, &Default::default());
        let program = program.unwrap_or_else(|| panic!("{diags:?}"));
        let t = Topology::from_program(&program);
        assert_eq!(t.steps, vec![vec!["sink/k"], vec!["function/g"], vec!["function/f"], vec!["source/s"]]);
        let config = json!({"kind": "ConfigMap", "metadata": {"name": "p"}});
        assert_eq!(step_of(&config, &t), 0);
        let sts = json!({"kind": "StatefulSet", "metadata": {"name": "f-function", "labels": {
            "compute.functionmesh.io/component": "function", "compute.functionmesh.io/name": "f"}}});
        assert_eq!(step_of(&sts, &t), 3);
        // Without a topology: sinks, then functions, then sources.
        let empty = Topology::default();
        let sink = json!({"kind": "Sink", "metadata": {"name": "k"}});
        let source = json!({"kind": "Source", "metadata": {"name": "s"}});
        assert!(step_of(&sink, &empty) < step_of(&sts, &empty) && step_of(&sts, &empty) < step_of(&source, &empty));
    }
}
