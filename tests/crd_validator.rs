//! Tests for the CRD validator in `support/crd.rs`: it must accept the real manifests shipped with Function
//! Mesh and reject the kinds of mistakes a compiler could make.

mod support;

use std::path::PathBuf;

use serde::Deserialize;
use serde_json::{json, Value};
use support::crd::{CrdValidator, API_VERSION};

/// Corpus documents that the CRD schema rejects, with the exact errors. Everything else must validate.
const KNOWN_INVALID: &[(&str, &[&str])] = &[(
    // Relies on the defaulting webhook adding the CRD-required field (reference doc, section 7, item 4).
    "integration__logging-window-function__manifests.yaml",
    &["/spec/windowConfig: \"actualWindowFunctionClassName\" is a required property"],
)];

/// Number of Function/Source/Sink/FunctionMesh documents in the corpus that validate (measured).
const EXPECTED_VALID_DOCUMENTS: usize = 44;

fn corpus_dir() -> PathBuf {
    support::corpus::dir()
}

/// The Function Mesh objects of a multi-document YAML stream (ConfigMaps, Secrets etc. are dropped).
fn function_mesh_documents(yaml: &str) -> Vec<Value> {
    serde_yaml::Deserializer::from_str(yaml)
        .map(|doc| Value::deserialize(doc).unwrap())
        .filter(|doc| doc.get("apiVersion").and_then(Value::as_str) == Some(API_VERSION))
        .collect()
}

/// A minimal valid Java function, the base for the negative tests.
fn function() -> Value {
    json!({
        "apiVersion": API_VERSION,
        "kind": "Function",
        "metadata": {"name": "word-count", "namespace": "default", "labels": {"app": "word-count"}},
        "spec": {
            "className": "org.example.WordCount",
            "replicas": 1,
            "input": {"topics": ["persistent://public/default/in"], "typeClassName": "java.lang.String"},
            "output": {"topic": "persistent://public/default/out", "typeClassName": "java.lang.String"},
            "resources": {"requests": {"cpu": "100m", "memory": "1Gi"}, "limits": {"cpu": "1", "memory": "1Gi"}},
            "pulsar": {"pulsarConfig": "test-pulsar"},
            "java": {"jar": "/pulsar/examples/api-examples.jar"},
        },
    })
}

/// Sets the value at a JSON Pointer whose parent exists.
fn with(mut obj: Value, pointer: &str, value: Value) -> Value {
    let (parent, key) = pointer.rsplit_once('/').unwrap();
    obj.pointer_mut(parent).unwrap().as_object_mut().unwrap().insert(key.to_string(), value);
    obj
}

/// Asserts that validation fails with at least one error that contains every given fragment.
fn assert_rejected(validator: &CrdValidator, obj: &Value, fragments: &[&str]) {
    let errors = validator.validate(obj);
    assert!(
        errors.iter().any(|e| fragments.iter().all(|f| e.contains(f))),
        "expected an error containing {fragments:?}, got {errors:#?}"
    );
}

#[test]
fn corpus_documents_validate_except_known_ones() {
    let Some(validator) = CrdValidator::load() else { return };
    let dir = corpus_dir();
    if !dir.is_dir() {
        eprintln!("skipping: ../shared/corpus/function-mesh not found");
        return;
    }
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "yaml"))
        .collect();
    files.sort();

    let mut valid = Vec::new();
    let mut invalid = Vec::new();
    for path in &files {
        let file_name = path.file_name().unwrap().to_string_lossy().into_owned();
        for doc in function_mesh_documents(&std::fs::read_to_string(path).unwrap()) {
            let errors = validator.validate(&doc);
            if errors.is_empty() {
                valid.push(file_name.clone());
            } else {
                invalid.push((file_name.clone(), errors));
            }
        }
    }

    let expected_invalid: Vec<(String, Vec<String>)> = KNOWN_INVALID
        .iter()
        .map(|(file, errors)| (file.to_string(), errors.iter().map(|e| e.to_string()).collect()))
        .collect();
    assert_eq!(invalid, expected_invalid, "unexpected set of corpus documents failing CRD validation");
    assert_eq!(valid.len(), EXPECTED_VALID_DOCUMENTS, "valid corpus documents: {valid:#?}");
}

#[test]
fn minimal_function_is_valid() {
    let Some(validator) = CrdValidator::load() else { return };
    assert_eq!(validator.validate(&function()), Vec::<String>::new());
}

#[test]
fn unknown_field_under_spec_is_rejected() {
    let Some(validator) = CrdValidator::load() else { return };
    let obj = with(function(), "/spec/replicaCount", json!(2));
    assert_rejected(&validator, &obj, &["/spec:", "'replicaCount' was unexpected"]);
}

#[test]
fn unknown_field_in_nested_typed_object_is_rejected() {
    let Some(validator) = CrdValidator::load() else { return };
    let obj = with(function(), "/spec/input/topic", json!("in"));
    assert_rejected(&validator, &obj, &["/spec/input:", "'topic' was unexpected"]);
}

#[test]
fn unknown_field_at_root_is_rejected() {
    // The CRD root preserves unknown fields, but in generated output such a key is always a mistake.
    let Some(validator) = CrdValidator::load() else { return };
    let obj = with(function(), "/extra", json!({"a": 1}));
    assert_rejected(&validator, &obj, &["(root):", "'extra' was unexpected"]);
}

#[test]
fn wrong_type_is_rejected() {
    let Some(validator) = CrdValidator::load() else { return };
    let obj = with(function(), "/spec/replicas", json!("two"));
    assert_rejected(&validator, &obj, &["/spec/replicas:", "\"two\"", "integer"]);
}

#[test]
fn int32_range_is_enforced() {
    let Some(validator) = CrdValidator::load() else { return };
    let obj = with(function(), "/spec/replicas", json!(3_000_000_000_u64));
    assert_rejected(&validator, &obj, &["/spec/replicas:", "maximum"]);
}

#[test]
fn enum_is_enforced() {
    let Some(validator) = CrdValidator::load() else { return };
    let obj = with(function(), "/spec/processingGuarantee", json!("exactly_once"));
    assert_rejected(&validator, &obj, &["/spec/processingGuarantee:", "exactly_once"]);
}

#[test]
fn missing_required_nested_key_is_rejected() {
    let Some(validator) = CrdValidator::load() else { return };
    let obj = with(function(), "/spec/java", json!({"jarLocation": "function://public/default/wc"}));
    assert_eq!(validator.validate(&obj), vec!["/spec/java: \"jar\" is a required property".to_string()]);
}

#[test]
fn free_form_func_config_accepts_arbitrary_content() {
    let Some(validator) = CrdValidator::load() else { return };
    let config = json!({
        "mongodb.hosts": "a:27017,b:27017",
        "nested": {"deep": [1, 2.5, {"x": true, "y": null}], "empty": {}},
        "count": 3,
    });
    let obj = with(function(), "/spec/funcConfig", config);
    assert_eq!(validator.validate(&obj), Vec::<String>::new());
}

#[test]
fn free_form_fields_of_source_and_sink_accept_arbitrary_content() {
    let Some(validator) = CrdValidator::load() else { return };
    let config = json!({"database.hostname": "db", "tables": ["a", "b"], "retry": {"max": 3}});
    let mut source = function();
    source["kind"] = json!("Source");
    let spec = source["spec"].as_object_mut().unwrap();
    spec.remove("input");
    spec.insert("sourceConfig".to_string(), config.clone());
    assert_eq!(validator.validate(&source), Vec::<String>::new());

    let mut sink = function();
    sink["kind"] = json!("Sink");
    let spec = sink["spec"].as_object_mut().unwrap();
    spec.remove("output");
    spec.insert("sinkConfig".to_string(), config);
    assert_eq!(validator.validate(&sink), Vec::<String>::new());
}

#[test]
fn untyped_object_that_the_api_server_prunes_is_rejected() {
    // `javaProvider.config` is a bare `type: object` without preserve-unknown-fields: every key is pruned.
    let Some(validator) = CrdValidator::load() else { return };
    let stateful = json!({"pulsar": {"serviceUrl": "bk://bookie:4181", "javaProvider": {
        "className": "org.example.Provider", "config": {"key": "value"}}}});
    let obj = with(function(), "/spec/statefulConfig", stateful);
    assert_rejected(&validator, &obj, &["/spec/statefulConfig/pulsar/javaProvider/config:", "'key' was unexpected"]);
}

#[test]
fn quantities_accept_string_and_integer() {
    let Some(validator) = CrdValidator::load() else { return };
    for quantity in [json!("1Gi"), json!(1), json!("500m"), json!("1.5")] {
        let obj = with(function(), "/spec/resources/limits/memory", quantity.clone());
        assert_eq!(validator.validate(&obj), Vec::<String>::new(), "quantity {quantity}");
    }
}

#[test]
fn malformed_quantities_are_rejected() {
    // A fractional JSON number is neither integer nor string, so the API server rejects it: emit "0.5".
    let Some(validator) = CrdValidator::load() else { return };
    for quantity in [json!(0.5), json!("lots"), json!(true)] {
        let obj = with(function(), "/spec/resources/requests/cpu", quantity.clone());
        assert_rejected(&validator, &obj, &["/spec/resources/requests/cpu:"]);
    }
}

#[test]
fn function_mesh_items_are_validated() {
    let Some(validator) = CrdValidator::load() else { return };
    let mut item = function()["spec"].clone();
    item["name"] = json!("wc");
    let mesh = json!({
        "apiVersion": API_VERSION,
        "kind": "FunctionMesh",
        "metadata": {"name": "pipeline"},
        "spec": {"functions": [item.clone()]},
    });
    assert_eq!(validator.validate(&mesh), Vec::<String>::new());

    item["bogus"] = json!(1);
    let mesh = with(mesh, "/spec/functions", json!([item]));
    assert_rejected(&validator, &mesh, &["/spec/functions/0:", "'bogus' was unexpected"]);
}

#[test]
fn metadata_is_checked() {
    let Some(validator) = CrdValidator::load() else { return };
    let no_name = with(function(), "/metadata", json!({"namespace": "default"}));
    assert_rejected(&validator, &no_name, &["/metadata:", "\"name\" is a required property"]);

    let empty_name = with(function(), "/metadata/name", json!(""));
    assert_rejected(&validator, &empty_name, &["/metadata/name:"]);

    let unknown_key = with(function(), "/metadata/labelz", json!({}));
    assert_rejected(&validator, &unknown_key, &["/metadata:", "'labelz' was unexpected"]);

    let numeric_label = with(function(), "/metadata/labels/replicas", json!(3));
    assert_rejected(&validator, &numeric_label, &["/metadata/labels/replicas:", "string"]);
}

#[test]
fn other_kinds_are_reported_as_not_function_mesh() {
    let Some(validator) = CrdValidator::load() else { return };
    let config_map = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "test-pulsar"}});
    assert_rejected(&validator, &config_map, &["v1/ConfigMap", "not a Function Mesh kind"]);

    let wrong_version = with(function(), "/apiVersion", json!("compute.functionmesh.io/v1beta1"));
    assert_rejected(&validator, &wrong_version, &["not a Function Mesh kind"]);
}

#[test]
fn errors_are_sorted_and_deterministic() {
    let Some(validator) = CrdValidator::load() else { return };
    let mut obj = with(function(), "/spec/replicas", json!("two"));
    obj = with(obj, "/spec/zzz", json!(1));
    obj = with(obj, "/aaa", json!(1));
    obj = with(obj, "/spec/java", json!({}));
    let errors = validator.validate(&obj);
    assert!(errors.len() >= 4, "{errors:#?}");
    let mut sorted = errors.clone();
    sorted.sort();
    assert_eq!(errors, sorted);
    assert_eq!(errors, validator.validate(&obj));
}
