//! IR to Kubernetes objects.

pub mod crd;
pub mod types;
pub mod workloads;

/// One object of a bundle, serialised, with what renderers need to name it.
#[derive(Clone, Debug, PartialEq)]
pub struct Object {
    pub api_version: String,
    pub kind: String,
    pub name: String,
    pub value: serde_json::Value,
}

impl Object {
    pub fn new(value: serde_json::Value) -> Object {
        let s = |k: &str| value.get(k).and_then(|v| v.as_str()).unwrap_or_default().to_string();
        let name = value.pointer("/metadata/name").and_then(|v| v.as_str()).unwrap_or_default().to_string();
        Object { api_version: s("apiVersion"), kind: s("kind"), name, value }
    }
}

/// Labels mesh puts on every object it writes, so tools can tell what it manages.
pub fn mesh_labels(mesh_name: &str) -> std::collections::BTreeMap<String, String> {
    std::collections::BTreeMap::from([
        ("app.kubernetes.io/managed-by".to_string(), "mesh".to_string()),
        ("app.kubernetes.io/part-of".to_string(), mesh_name.to_string()),
    ])
}
