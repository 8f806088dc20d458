pub mod apiserver;
pub mod corpus;
pub mod crd;
pub mod k8s_schema;
pub mod programs;

/// The object documents of a multi-document YAML text, as JSON values.
#[allow(dead_code)] // Not every test binary reads YAML.
pub fn yaml_docs(text: &str) -> Vec<serde_json::Value> {
    use serde::Deserialize;
    serde_yaml::Deserializer::from_str(text)
        .filter_map(|d| serde_yaml::Value::deserialize(d).ok())
        .filter_map(|v| serde_json::to_value(v).ok())
        .filter(serde_json::Value::is_object)
        .collect()
}
