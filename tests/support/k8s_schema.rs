//! Validation of emitted Kubernetes objects against the OpenAPI schemas of their built-in types.
//!
//! k8s-openapi generates its types from the Kubernetes OpenAPI spec (v1.34 here), and with its `schemars`
//! feature each type also carries that spec's schema, so the schemas need neither network nor files. The
//! VerticalPodAutoscaler is a CRD of the Kubernetes autoscaler project and has no k8s-openapi type: its
//! schema is written below from the VPA v1 API, reusing the Kubernetes types it embeds.
//!
//! The translation to JSON Schema (draft 2020-12) is stricter than the spec reads literally, the way
//! `kubectl --validate=strict` is: a field an object type does not declare is an error, `int32`/`int64`
//! ranges are enforced, `apiVersion`, `kind` and `metadata.name` are required, and quantities must parse.
#![allow(dead_code)] // Each integration test binary uses a different part of the support code.

use k8s_openapi::api::apps::v1::{Deployment, StatefulSet};
use k8s_openapi::api::autoscaling::v1::CrossVersionObjectReference;
use k8s_openapi::api::autoscaling::v2::HorizontalPodAutoscaler;
use k8s_openapi::api::core::v1::{ConfigMap, Service, ServiceAccount};
use k8s_openapi::api::rbac::v1::{Role, RoleBinding};
use k8s_openapi::apimachinery::pkg::api::resource::Quantity;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use k8s_openapi::schemars::generate::{SchemaGenerator, SchemaSettings};
use k8s_openapi::schemars::JsonSchema;
use k8s_openapi::Resource;
use serde_json::{json, Map, Value};

/// The API server parses quantities with this grammar; the OpenAPI spec only says "int or string". The
/// pattern is the one controller-gen writes into CRDs for `resource.Quantity`.
const QUANTITY_PATTERN: &str = r"^(\+|-)?(([0-9]+(\.[0-9]*)?)|(\.[0-9]+))(([KMGTPE]i)|[numkMGTPE]|([eE](\+|-)?(([0-9]+(\.[0-9]*)?)|(\.[0-9]+))))?$";
const QUANTITY_DEF: &str = "io.k8s.apimachinery.pkg.api.resource.Quantity";

pub const VPA_API_VERSION: &str = "autoscaling.k8s.io/v1";
pub const VPA_KIND: &str = "VerticalPodAutoscaler";

/// One compiled validator per `(apiVersion, kind)` the workloads target and the controller manifests emit.
pub struct K8sValidator {
    validators: Vec<(String, String, jsonschema::Validator)>,
}

impl Default for K8sValidator {
    fn default() -> Self {
        Self::new()
    }
}

impl K8sValidator {
    pub fn new() -> K8sValidator {
        let schemas = [
            of::<StatefulSet>(),
            of::<Service>(),
            of::<HorizontalPodAutoscaler>(),
            of::<ConfigMap>(),
            (VPA_API_VERSION, VPA_KIND, vpa_schema()),
            // What `mesh controller manifests` prints.
            of::<Deployment>(),
            of::<ServiceAccount>(),
            of::<Role>(),
            of::<RoleBinding>(),
        ];
        let validators = schemas
            .into_iter()
            .map(|(api_version, kind, schema)| {
                let validator = jsonschema::options()
                    .with_draft(jsonschema::Draft::Draft202012)
                    .build(&schema)
                    .unwrap_or_else(|e| panic!("schema of {api_version} {kind} does not compile: {e}"));
                (api_version.to_string(), kind.to_string(), validator)
            })
            .collect();
        K8sValidator { validators }
    }

    /// The `apiVersion`/`kind` pairs this validator knows.
    pub fn kinds(&self) -> Vec<(String, String)> {
        self.validators.iter().map(|(a, k, _)| (a.clone(), k.clone())).collect()
    }

    /// Validates one object. Returns sorted `"path: message"` errors (JSON Pointer paths, `(root)` for the
    /// object itself); empty means valid. An object of a type without a schema is one error.
    pub fn validate(&self, obj: &Value) -> Vec<String> {
        let api_version = obj.get("apiVersion").and_then(Value::as_str).unwrap_or("<none>");
        let kind = obj.get("kind").and_then(Value::as_str).unwrap_or("<none>");
        let Some((_, _, validator)) = self.validators.iter().find(|(a, k, _)| a == api_version && k == kind) else {
            return vec![format!("(root): no schema for {api_version} {kind}")];
        };
        super::crd::schema_errors(validator, obj)
    }
}

fn generator() -> SchemaGenerator {
    SchemaSettings::draft2020_12().into_generator()
}

/// The strict schema of a k8s-openapi resource type.
fn of<T: JsonSchema + Resource>() -> (&'static str, &'static str, Value) {
    let schema = generator().root_schema_for::<T>().to_value();
    (T::API_VERSION, T::KIND, root(strict(&schema), T::API_VERSION, T::KIND))
}

/// Pins `apiVersion` and `kind` and requires a name: the spec leaves all three optional because the
/// server can fill them from the request path, but a manifest must carry them.
fn root(mut schema: Value, api_version: &str, kind: &str) -> Value {
    if let Some(props) = schema.get_mut("properties").and_then(Value::as_object_mut) {
        props.insert("apiVersion".into(), json!({"const": api_version}));
        props.insert("kind".into(), json!({"const": kind}));
        if let Some(meta) = props.get_mut("metadata").and_then(Value::as_object_mut) {
            meta.insert("required".into(), json!(["name"]));
        }
    }
    let required = schema.as_object_mut().map(|o| o.entry("required").or_insert_with(|| json!([])));
    if let Some(Value::Array(req)) = required {
        for key in ["apiVersion", "kind", "metadata"] {
            if !req.contains(&json!(key)) {
                req.push(json!(key));
            }
        }
    }
    schema
}

/// Translates one schemars node (and everything under it, `$defs` included) into the strict form.
fn strict(node: &Value) -> Value {
    let Some(source) = node.as_object() else {
        return node.clone();
    };
    let mut out = Map::new();
    for (key, value) in source {
        match key.as_str() {
            // Documentation only adds bulk to error messages and compile time.
            "description" | "title" => {}
            "x-kubernetes-int-or-string" => {}
            "properties" | "$defs" => {
                let map = value.as_object().map(|m| m.iter().map(|(k, v)| (k.clone(), strict(v))).collect());
                out.insert(key.clone(), map.map_or_else(|| value.clone(), Value::Object));
            }
            "items" | "additionalProperties" | "not" => {
                out.insert(key.clone(), strict(value));
            }
            "anyOf" | "allOf" | "oneOf" => {
                let branches = value.as_array().map(|subs| subs.iter().map(strict).collect());
                out.insert(key.clone(), branches.map_or_else(|| value.clone(), Value::Array));
            }
            _ => {
                out.insert(key.clone(), value.clone());
            }
        }
    }
    if source.get("x-kubernetes-int-or-string").and_then(Value::as_bool) == Some(true) {
        out.remove("type");
        out.insert(
            "anyOf".into(),
            json!([{"type": "integer", "minimum": i32::MIN, "maximum": i32::MAX}, {"type": "string"}]),
        );
    }
    // JSON Schema treats formats as annotations; the integer ones are ranges Kubernetes enforces.
    let range = match out.get("format").and_then(Value::as_str) {
        Some("int32") => Some((json!(i32::MIN), json!(i32::MAX))),
        Some("int64") => Some((json!(i64::MIN), json!(i64::MAX))),
        _ => None,
    };
    if let Some((min, max)) = range {
        out.remove("format");
        out.entry("minimum").or_insert(min);
        out.entry("maximum").or_insert(max);
    }
    // An object type with declared fields is closed (strict field validation). Objects without declared
    // fields are free-form in Kubernetes (FieldsV1, RawExtension) and stay open.
    if out.contains_key("properties") && !out.contains_key("additionalProperties") {
        out.insert("additionalProperties".into(), Value::Bool(false));
    }
    if let Some(Value::Object(defs)) = out.get_mut("$defs") {
        if let Some(q) = defs.get_mut(QUANTITY_DEF) {
            // Quantities are int64-sized numbers or strings in the quantity grammar.
            *q = json!({"anyOf": [{"type": "integer"}, {"type": "string", "pattern": QUANTITY_PATTERN}]});
        }
    }
    Value::Object(out)
}

/// `autoscaling.k8s.io/v1` VerticalPodAutoscaler, from the VPA v1 API types (`VerticalPodAutoscalerSpec`,
/// `PodUpdatePolicy`, `PodResourcePolicy`, `ContainerResourcePolicy`, `VerticalPodAutoscalerRecommenderSelector`),
/// with the enums the reference lists. `status` is left out: a manifest never carries it. The embedded
/// Kubernetes types (ObjectMeta, the autoscaling/v1 CrossVersionObjectReference of `targetRef`, Quantity)
/// come from k8s-openapi like the other schemas.
fn vpa_schema() -> Value {
    let mut g = generator();
    let meta = g.subschema_for::<ObjectMeta>().to_value();
    let target_ref = g.subschema_for::<CrossVersionObjectReference>().to_value();
    let quantity = g.subschema_for::<Quantity>().to_value();
    let defs: Map<String, Value> = g.take_definitions(true).into_iter().collect();
    let resources = json!({"type": "object", "additionalProperties": quantity});
    let schema = json!({
        "type": "object",
        "properties": {
            "apiVersion": {"type": "string"},
            "kind": {"type": "string"},
            "metadata": meta,
            "spec": {
                "type": "object",
                "required": ["targetRef"],
                "properties": {
                    "targetRef": target_ref,
                    "updatePolicy": {
                        "type": "object",
                        "properties": {
                            "updateMode": {"type": "string", "enum": ["Off", "Initial", "Recreate", "Auto"]},
                            "minReplicas": {"type": "integer", "format": "int32"},
                        },
                    },
                    "resourcePolicy": {
                        "type": "object",
                        "properties": {
                            "containerPolicies": {
                                "type": "array",
                                "items": {
                                    "type": "object",
                                    "properties": {
                                        "containerName": {"type": "string"},
                                        "mode": {"type": "string", "enum": ["Auto", "Off"]},
                                        "minAllowed": resources,
                                        "maxAllowed": resources,
                                        "controlledResources": {"type": "array", "items": {"type": "string"}},
                                        "controlledValues": {
                                            "type": "string",
                                            "enum": ["RequestsAndLimits", "RequestsOnly"],
                                        },
                                    },
                                },
                            },
                        },
                    },
                    "recommenders": {
                        "type": "array",
                        "items": {
                            "type": "object",
                            "required": ["name"],
                            "properties": {"name": {"type": "string"}},
                        },
                    },
                },
            },
        },
        "required": ["spec"],
        "$defs": defs,
    });
    root(strict(&schema), VPA_API_VERSION, VPA_KIND)
}
