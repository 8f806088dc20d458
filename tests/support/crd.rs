//! Validation of emitted Kubernetes objects against the official Function Mesh CRD schemas.
//!
//! The CRDs are read from `../shared/reference/crds` relative to the crate root. A fresh clone does not
//! have that directory, so [`CrdValidator::load`] returns `None` (after printing a note) and the calling
//! test is expected to return early instead of failing.
//!
//! Each CRD's OpenAPI v3 schema is translated into a JSON Schema (draft 2020-12) that is stricter than the
//! API server: where the server would silently prune a field, this validator reports it, because a pruned
//! field in compiler output is a bug.
#![allow(dead_code)] // Each integration test binary uses a different part of the support code.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde_json::{json, Map, Value};

/// The only API version the CRDs serve.
pub const API_VERSION: &str = "compute.functionmesh.io/v1alpha1";

/// CRD file name (under the CRD directory) for each Function Mesh kind.
const CRD_FILES: [(&str, &str); 5] = [
    ("Function", "compute.functionmesh.io_functions.yaml"),
    ("Source", "compute.functionmesh.io_sources.yaml"),
    ("Sink", "compute.functionmesh.io_sinks.yaml"),
    ("FunctionMesh", "compute.functionmesh.io_functionmeshes.yaml"),
    ("BackendConfig", "compute.functionmesh.io_backendconfigs.yaml"),
];

/// Where the CRD YAMLs live: next to the crate, in the shared reference tree (same layout in CI).
/// A validator's errors for one object, as `path: message` lines, sorted and without repeats.
pub fn schema_errors(validator: &jsonschema::Validator, obj: &Value) -> Vec<String> {
    let mut errors: Vec<String> = validator
        .iter_errors(obj)
        .map(|error| {
            let path = error.instance_path().as_str();
            format!("{}: {error}", if path.is_empty() { "(root)" } else { path })
        })
        .collect();
    errors.sort();
    errors.dedup();
    errors
}

pub fn crds_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/reference/crds")
}

/// Compiled JSON Schema validators, one per Function Mesh kind.
pub struct CrdValidator {
    validators: BTreeMap<String, jsonschema::Validator>,
}

impl CrdValidator {
    /// Loads and compiles the five CRDs. Returns `None` (and prints a skip note) when the CRD directory is
    /// absent. Panics when the directory exists but a CRD is missing or malformed: that is a broken
    /// checkout, not a missing optional input.
    pub fn load() -> Option<CrdValidator> {
        let dir = crds_dir();
        if !dir.is_dir() {
            eprintln!("skipping: ../shared/reference/crds not found");
            return None;
        }
        let validators = CRD_FILES
            .iter()
            .map(|&(kind, file)| {
                let path = dir.join(file);
                let text = std::fs::read_to_string(&path)
                    .unwrap_or_else(|e| panic!("cannot read CRD {}: {e}", path.display()));
                let crd: Value =
                    serde_yaml::from_str(&text).unwrap_or_else(|e| panic!("cannot parse CRD {}: {e}", path.display()));
                let schema = json_schema_for_crd(&crd)
                    .unwrap_or_else(|| panic!("CRD {} has no v1alpha1 openAPIV3Schema", path.display()));
                let validator = jsonschema::options()
                    .with_draft(jsonschema::Draft::Draft202012)
                    .build(&schema)
                    .unwrap_or_else(|e| panic!("translated schema of {} does not compile: {e}", path.display()));
                (kind.to_string(), validator)
            })
            .collect();
        Some(CrdValidator { validators })
    }

    /// Validates one object. Returns sorted, human-readable `"path: message"` errors (JSON Pointer paths,
    /// `(root)` for the object itself); an empty vector means valid. Objects that are not Function Mesh
    /// kinds (ConfigMap, Secret, ...) yield a single error saying so; callers filter those out beforehand.
    pub fn validate(&self, obj: &Value) -> Vec<String> {
        let api_version = obj.get("apiVersion").and_then(Value::as_str).unwrap_or("<none>");
        let kind = obj.get("kind").and_then(Value::as_str).unwrap_or("<none>");
        let validator = match self.validators.get(kind) {
            Some(validator) if api_version == API_VERSION => validator,
            _ => {
                return vec![format!(
                    "(root): {api_version}/{kind} is not a Function Mesh kind (expected {API_VERSION} with kind \
                     Function, Source, Sink, FunctionMesh or BackendConfig)"
                )]
            }
        };
        schema_errors(validator, obj)
    }
}

/// Extracts `spec.versions[name=v1alpha1].schema.openAPIV3Schema` and translates it.
fn json_schema_for_crd(crd: &Value) -> Option<Value> {
    let versions = crd.pointer("/spec/versions")?.as_array()?;
    let version = versions.iter().find(|v| v.get("name").and_then(Value::as_str) == Some("v1alpha1"))?;
    let openapi = version.pointer("/schema/openAPIV3Schema")?;
    let mut schema = translate(openapi, true);
    // The CRD declares metadata as a bare `type: object`; the API server validates it separately.
    if let Some(properties) = schema.get_mut("properties").and_then(Value::as_object_mut) {
        properties.insert("metadata".to_string(), metadata_schema());
    }
    Some(schema)
}

/// A deliberately small ObjectMeta schema: what a generated manifest may reasonably carry.
fn metadata_schema() -> Value {
    let string_map = json!({"type": "object", "additionalProperties": {"type": "string"}});
    json!({
        "type": "object",
        "required": ["name"],
        "additionalProperties": false,
        "properties": {
            "name": {"type": "string", "minLength": 1},
            "namespace": {"type": "string"},
            "labels": string_map,
            "annotations": string_map,
            "ownerReferences": {"type": "array", "items": {"type": "object"}},
            "finalizers": {"type": "array", "items": {"type": "string"}},
            "generateName": {"type": "string"},
            "uid": {"type": "string"},
            "resourceVersion": {"type": "string"},
            "generation": {"type": "integer"},
            "creationTimestamp": {"type": ["string", "null"]},
            "managedFields": {"type": "array", "items": {"type": "object"}},
        },
    })
}

/// Translates one OpenAPI v3 (Kubernetes structural) schema node into JSON Schema. `is_root` marks the
/// top-level node, where the preserve-unknown-fields flag is deliberately ignored.
fn translate(node: &Value, is_root: bool) -> Value {
    let Some(source) = node.as_object() else {
        return node.clone();
    };
    let flag = |name: &str| source.get(name).and_then(Value::as_bool).unwrap_or(false);
    let preserve_unknown = flag("x-kubernetes-preserve-unknown-fields");
    let int_or_string = flag("x-kubernetes-int-or-string");
    let nullable = flag("nullable");

    let mut out = Map::new();
    for (key, value) in source {
        match key.as_str() {
            // Kubernetes extensions are consumed here; `nullable` is OpenAPI-only; descriptions only add bulk.
            k if k.starts_with("x-kubernetes-") => {}
            "nullable" | "description" => {}
            "properties" => {
                let properties = value.as_object().map(|props| {
                    props.iter().map(|(name, sub)| (name.clone(), translate(sub, false))).collect::<Map<_, _>>()
                });
                out.insert(key.clone(), properties.map_or_else(|| value.clone(), Value::Object));
            }
            "items" | "additionalProperties" | "not" => {
                out.insert(key.clone(), translate(value, false));
            }
            "anyOf" | "allOf" | "oneOf" => {
                let branches = value.as_array().map(|subs| subs.iter().map(|s| translate(s, false)).collect());
                out.insert(key.clone(), branches.map_or_else(|| value.clone(), Value::Array));
            }
            _ => {
                out.insert(key.clone(), value.clone());
            }
        }
    }

    if int_or_string {
        // The type lives in the anyOf; a leftover `type` would contradict one of the branches.
        out.remove("type");
        out.insert("anyOf".to_string(), json!([{"type": "integer"}, {"type": "string"}]));
    }

    add_integer_range(&mut out);

    let is_object = out.get("type").and_then(Value::as_str) == Some("object") || out.contains_key("properties");
    if is_object && !out.contains_key("additionalProperties") && (is_root || !preserve_unknown) {
        // The API server prunes keys an object schema does not declare (for a property-less object that is
        // every key); report them instead. Free-form fields (preserve-unknown-fields) stay open, except at
        // the root, where an unknown top-level key in generated output is always a mistake.
        out.insert("additionalProperties".to_string(), Value::Bool(false));
        // With an explicit `properties` the crate reports "'key' was unexpected" instead of naming the value.
        out.entry("properties").or_insert_with(|| json!({}));
    }

    if nullable {
        allow_null(&mut out);
    }
    Value::Object(out)
}

/// JSON Schema treats `format: int32`/`int64` as annotations only, so enforce the ranges explicitly.
fn add_integer_range(schema: &mut Map<String, Value>) {
    let (min, max) = match schema.get("format").and_then(Value::as_str) {
        Some("int32") => (json!(i32::MIN), json!(i32::MAX)),
        Some("int64") => (json!(i64::MIN), json!(i64::MAX)),
        _ => return,
    };
    schema.remove("format");
    schema.entry("minimum").or_insert(min);
    schema.entry("maximum").or_insert(max);
}

/// Applies OpenAPI `nullable: true`: null is accepted in addition to the declared type.
fn allow_null(schema: &mut Map<String, Value>) {
    if let Some(Value::String(ty)) = schema.get("type") {
        let ty = ty.clone();
        schema.insert("type".to_string(), json!([ty, "null"]));
    }
    if let Some(Value::Array(branches)) = schema.get_mut("anyOf") {
        branches.push(json!({"type": "null"}));
    }
    if let Some(Value::Array(values)) = schema.get_mut("enum") {
        if !values.contains(&Value::Null) {
            values.push(Value::Null);
        }
    }
}
