//! `passthrough { }` checked against the Function Mesh CRDs. The block is
//! merged into the emitted spec as written, so a misspelt key or a value of
//! the wrong JSON type would only surface when the API server refuses the
//! object (or, for an unknown key, never: the server prunes it). The field
//! names and types below are those of the `compute.functionmesh.io/v1alpha1`
//! Function, Source and Sink specs (FunctionMesh items have the same ones);
//! they are checked two levels deep: the spec's own fields, and the fields of
//! its typed objects (`pod`, `java`, `input`, ...).

use super::values::suggest;
use super::Checker;
use crate::diag::Diagnostic;
use crate::ir::ComponentKind;
use crate::syntax::ast::{Value, ValueKind};
use serde_json::{Map, Value as Json};

/// The JSON type of a field, as the CRD's OpenAPI schema declares it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum J {
    String,
    Integer,
    Boolean,
    Array,
    Object,
}

impl J {
    pub(crate) fn describe(self) -> &'static str {
        match self {
            J::String => "a string",
            J::Integer => "an integer",
            J::Boolean => "a boolean",
            J::Array => "a list",
            J::Object => "a block",
        }
    }

    fn admits(self, v: &Json) -> bool {
        match self {
            J::String => v.is_string(),
            J::Integer => v.as_i64().is_some() || v.as_u64().is_some(),
            J::Boolean => v.is_boolean(),
            J::Array => v.is_array(),
            J::Object => v.is_object(),
        }
    }
}

/// The type of a spec field.
pub(crate) enum Ty {
    Plain(J),
    /// An object with these fields, whose own values are checked by JSON type only.
    Fields(&'static [(&'static str, J)]),
    /// An object with free keys and values of one type (`secretsMap`).
    MapOf(J),
    /// An object of any content (`x-kubernetes-preserve-unknown-fields`).
    Free,
}

pub(crate) struct Prop {
    pub name: &'static str,
    /// The kinds whose spec has the field: `F`, `SO`, `SI`.
    pub kinds: u8,
    pub ty: Ty,
}

const F: u8 = 1;
const SO: u8 = 2;
const SI: u8 = 4;

const SPEC: &[Prop] = &[
    Prop { name: "autoAck", kinds: F | SI, ty: Ty::Plain(J::Boolean) },
    Prop { name: "batchSourceConfig", kinds: SO, ty: Ty::Fields(BATCH_SOURCE_CONFIG) },
    Prop { name: "className", kinds: F | SO | SI, ty: Ty::Plain(J::String) },
    Prop { name: "cleanupImage", kinds: F | SO | SI, ty: Ty::Plain(J::String) },
    Prop { name: "cleanupSubscription", kinds: F | SI, ty: Ty::Plain(J::Boolean) },
    Prop { name: "clusterName", kinds: F | SO | SI, ty: Ty::Plain(J::String) },
    Prop { name: "deadLetterTopic", kinds: F | SI, ty: Ty::Plain(J::String) },
    Prop { name: "downloaderImage", kinds: F | SO | SI, ty: Ty::Plain(J::String) },
    Prop { name: "filebeatImage", kinds: F | SO | SI, ty: Ty::Plain(J::String) },
    Prop { name: "forwardSourceMessageProperty", kinds: F | SO, ty: Ty::Plain(J::Boolean) },
    Prop { name: "funcConfig", kinds: F, ty: Ty::Free },
    Prop { name: "genericRuntime", kinds: F | SO | SI, ty: Ty::Fields(GENERIC_RUNTIME) },
    Prop { name: "golang", kinds: F | SO | SI, ty: Ty::Fields(GOLANG) },
    Prop { name: "image", kinds: F | SO | SI, ty: Ty::Plain(J::String) },
    Prop { name: "imageHasGet", kinds: F | SO | SI, ty: Ty::Plain(J::Boolean) },
    Prop { name: "imageHasPulsarctl", kinds: F | SO | SI, ty: Ty::Plain(J::Boolean) },
    Prop { name: "imagePullPolicy", kinds: F | SO | SI, ty: Ty::Plain(J::String) },
    Prop { name: "input", kinds: F | SI, ty: Ty::Fields(INPUT) },
    Prop { name: "java", kinds: F | SO | SI, ty: Ty::Fields(JAVA) },
    Prop { name: "logTopic", kinds: F | SO | SI, ty: Ty::Plain(J::String) },
    Prop { name: "logTopicAgent", kinds: F | SO | SI, ty: Ty::Plain(J::String) },
    Prop { name: "maxMessageRetry", kinds: F | SI, ty: Ty::Plain(J::Integer) },
    Prop { name: "maxPendingAsyncRequests", kinds: F, ty: Ty::Plain(J::Integer) },
    Prop { name: "maxReplicas", kinds: F | SO | SI, ty: Ty::Plain(J::Integer) },
    Prop { name: "minReplicas", kinds: F | SO | SI, ty: Ty::Plain(J::Integer) },
    Prop { name: "name", kinds: F | SO | SI, ty: Ty::Plain(J::String) },
    Prop { name: "namespace", kinds: F | SO | SI, ty: Ty::Plain(J::String) },
    Prop { name: "negativeAckRedeliveryDelayMs", kinds: SI, ty: Ty::Plain(J::Integer) },
    Prop { name: "output", kinds: F | SO, ty: Ty::Fields(OUTPUT) },
    Prop {
        name: "persistentVolumeClaimRetentionPolicy",
        kinds: F,
        ty: Ty::Fields(PERSISTENT_VOLUME_CLAIM_RETENTION_POLICY),
    },
    Prop { name: "pod", kinds: F | SO | SI, ty: Ty::Fields(POD) },
    Prop { name: "processingGuarantee", kinds: F | SO | SI, ty: Ty::Plain(J::String) },
    Prop { name: "pulsar", kinds: F | SO | SI, ty: Ty::Fields(PULSAR) },
    Prop { name: "pulsarPackageService", kinds: F | SO | SI, ty: Ty::Fields(PULSAR) },
    Prop { name: "python", kinds: F | SO | SI, ty: Ty::Fields(PYTHON) },
    Prop { name: "replicas", kinds: F | SO | SI, ty: Ty::Plain(J::Integer) },
    Prop { name: "resources", kinds: F | SO | SI, ty: Ty::Fields(RESOURCES) },
    Prop { name: "retainKeyOrdering", kinds: F | SI, ty: Ty::Plain(J::Boolean) },
    Prop { name: "retainOrdering", kinds: F | SI, ty: Ty::Plain(J::Boolean) },
    Prop { name: "runtimeFlags", kinds: F | SO | SI, ty: Ty::Plain(J::String) },
    Prop { name: "secretsMap", kinds: F | SO | SI, ty: Ty::MapOf(J::Object) },
    Prop { name: "showPreciseParallelism", kinds: F | SO | SI, ty: Ty::Plain(J::Boolean) },
    Prop { name: "sinkConfig", kinds: F, ty: Ty::Fields(SINK_CONFIG_F) },
    Prop { name: "sinkConfig", kinds: SI, ty: Ty::Free },
    Prop { name: "sinkType", kinds: SI, ty: Ty::Plain(J::String) },
    Prop { name: "skipToLatest", kinds: F, ty: Ty::Plain(J::Boolean) },
    Prop { name: "sourceConfig", kinds: F, ty: Ty::Fields(SOURCE_CONFIG_F) },
    Prop { name: "sourceConfig", kinds: SO, ty: Ty::Free },
    Prop { name: "sourceType", kinds: SO, ty: Ty::Plain(J::String) },
    Prop { name: "statefulConfig", kinds: F | SO | SI, ty: Ty::Fields(STATEFUL_CONFIG) },
    Prop { name: "subscriptionName", kinds: F | SI, ty: Ty::Plain(J::String) },
    Prop { name: "subscriptionPosition", kinds: F | SI, ty: Ty::Plain(J::String) },
    Prop { name: "tenant", kinds: F | SO | SI, ty: Ty::Plain(J::String) },
    Prop { name: "timeout", kinds: F | SI, ty: Ty::Plain(J::Integer) },
    Prop { name: "volumeClaimTemplates", kinds: F, ty: Ty::Plain(J::Array) },
    Prop { name: "volumeMounts", kinds: F | SO | SI, ty: Ty::Plain(J::Array) },
    Prop { name: "windowConfig", kinds: F, ty: Ty::Fields(WINDOW_CONFIG) },
];
const BATCH_SOURCE_CONFIG: &[(&str, J)] =
    &[("discoveryTriggererClassName", J::String), ("discoveryTriggererConfig", J::Object)];
const GENERIC_RUNTIME: &[(&str, J)] =
    &[("functionFile", J::String), ("functionFileLocation", J::String), ("language", J::String)];
const GOLANG: &[(&str, J)] = &[("go", J::String), ("goLocation", J::String), ("log", J::Object)];
const INPUT: &[(&str, J)] = &[
    ("customSchemaSources", J::Object),
    ("customSerdeSources", J::Object),
    ("sourceSpecs", J::Object),
    ("topicPattern", J::String),
    ("topics", J::Array),
    ("typeClassName", J::String),
];
const JAVA: &[(&str, J)] = &[
    ("entryClass", J::String),
    ("extraDependenciesDir", J::String),
    ("instancePath", J::String),
    ("jar", J::String),
    ("jarLocation", J::String),
    ("javaOpts", J::Array),
    ("log", J::Object),
];
const OUTPUT: &[(&str, J)] = &[
    ("customSchemaSinks", J::Object),
    ("producerConf", J::Object),
    ("sinkSchemaType", J::String),
    ("sinkSerdeClassName", J::String),
    ("topic", J::String),
    ("typeClassName", J::String),
];
const PERSISTENT_VOLUME_CLAIM_RETENTION_POLICY: &[(&str, J)] = &[("whenDeleted", J::String), ("whenScaled", J::String)];
const POD: &[(&str, J)] = &[
    ("affinity", J::Object),
    ("annotations", J::Object),
    ("autoScalingBehavior", J::Object),
    ("autoScalingMetrics", J::Array),
    ("builtinAutoscaler", J::Array),
    ("disableDefaultAffinity", J::Boolean),
    ("env", J::Array),
    ("imagePullSecrets", J::Array),
    ("initContainers", J::Array),
    ("labels", J::Object),
    ("liveness", J::Object),
    ("nodeSelector", J::Object),
    ("securityContext", J::Object),
    ("serviceAccountName", J::String),
    ("sidecars", J::Array),
    ("startupProbe", J::Object),
    ("terminationGracePeriodSeconds", J::Integer),
    ("tolerations", J::Array),
    ("volumes", J::Array),
    ("vpa", J::Object),
];
const PULSAR: &[(&str, J)] = &[
    ("authConfig", J::Object),
    ("authSecret", J::String),
    ("cleanupAuthConfig", J::Object),
    ("pulsarConfig", J::String),
    ("tlsConfig", J::Object),
    ("tlsSecret", J::String),
];
const PYTHON: &[(&str, J)] = &[("log", J::Object), ("py", J::String), ("pyLocation", J::String)];
const RESOURCES: &[(&str, J)] = &[("claims", J::Array), ("limits", J::Object), ("requests", J::Object)];
const SINK_CONFIG_F: &[(&str, J)] =
    &[("className", J::String), ("configs", J::Object), ("sinkType", J::String), ("typeClassName", J::String)];
const SOURCE_CONFIG_F: &[(&str, J)] = &[
    ("batchSourceConfig", J::Object),
    ("className", J::String),
    ("configs", J::Object),
    ("sourceType", J::String),
    ("typeClassName", J::String),
];
const STATEFUL_CONFIG: &[(&str, J)] = &[("pulsar", J::Object)];
const WINDOW_CONFIG: &[(&str, J)] = &[
    ("actualWindowFunctionClassName", J::String),
    ("lateDataTopic", J::String),
    ("maxLagMs", J::Integer),
    ("processingGuarantees", J::String),
    ("slidingIntervalCount", J::Integer),
    ("slidingIntervalDurationMs", J::Integer),
    ("timestampExtractorClassName", J::String),
    ("watermarkEmitIntervalMs", J::Integer),
    ("windowLengthCount", J::Integer),
    ("windowLengthDurationMs", J::Integer),
];

fn mask(kind: ComponentKind) -> u8 {
    match kind {
        ComponentKind::Function => F,
        ComponentKind::Source => SO,
        ComponentKind::Sink => SI,
    }
}

pub(crate) fn kind_name(kind: ComponentKind) -> &'static str {
    match kind {
        ComponentKind::Function => "Function",
        ComponentKind::Source => "Source",
        ComponentKind::Sink => "Sink",
    }
}

/// What is wrong with one field.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Problem {
    /// The spec (or the typed object) has no such field. `suggestion` is a
    /// close field name; `owners` the kinds whose spec has it, when others do.
    Unknown { suggestion: Option<&'static str>, owners: Vec<&'static str> },
    /// The field has another JSON type.
    Type { expected: J },
}

/// A problem and the keys leading to it, from the spec down.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Finding {
    pub path: Vec<String>,
    pub problem: Problem,
}

/// The problems of spec fields given as JSON, in key order.
pub(crate) fn findings(kind: ComponentKind, spec: &Map<String, Json>) -> Vec<Finding> {
    let m = mask(kind);
    let mut out = Vec::new();
    let at = |keys: &[&str]| keys.iter().map(|k| k.to_string()).collect::<Vec<_>>();
    for (k, v) in spec {
        let Some(prop) = SPEC.iter().find(|p| p.name == k && p.kinds & m != 0) else {
            let owners: Vec<&'static str> = [(F, "Function"), (SO, "Source"), (SI, "Sink")]
                .into_iter()
                .filter(|(bit, _)| SPEC.iter().any(|p| p.name == k && p.kinds & bit != 0))
                .map(|(_, n)| n)
                .collect();
            // A field of another kind is no typo: it gets the note on its owners instead.
            let candidates = SPEC.iter().filter(|p| p.kinds & m != 0).map(|p| p.name);
            let suggestion = if owners.is_empty() { suggest(k, candidates) } else { None };
            out.push(Finding { path: at(&[k]), problem: Problem::Unknown { suggestion, owners } });
            continue;
        };
        let (own, inner) = match prop.ty {
            Ty::Plain(j) => (j, None),
            Ty::Free => (J::Object, None),
            Ty::Fields(f) => (J::Object, Some(Ok(f))),
            Ty::MapOf(j) => (J::Object, Some(Err(j))),
        };
        if !own.admits(v) {
            out.push(Finding { path: at(&[k]), problem: Problem::Type { expected: own } });
            continue;
        }
        let Some(obj) = v.as_object() else { continue };
        for (k2, v2) in obj {
            let expected = match inner {
                Some(Ok(fields)) => match fields.iter().find(|(n, _)| n == k2) {
                    Some((_, j)) => *j,
                    None => {
                        let suggestion = suggest(k2, fields.iter().map(|(n, _)| *n));
                        let problem = Problem::Unknown { suggestion, owners: Vec::new() };
                        out.push(Finding { path: at(&[k, k2]), problem });
                        continue;
                    }
                },
                Some(Err(j)) => j,
                None => continue,
            };
            if !expected.admits(v2) {
                out.push(Finding { path: at(&[k, k2]), problem: Problem::Type { expected } });
            }
        }
    }
    out
}

/// Checks a `passthrough` block (already read as `json`) against the spec of
/// its component's kind; every problem is reported where it was written.
pub(super) fn check(c: &mut Checker<'_>, kind: ComponentKind, written: &Value, json: &Map<String, Json>) -> bool {
    let found = findings(kind, json);
    let spec = kind_name(kind);
    for f in &found {
        // Down the written blocks to the item the path names (`let` names resolved).
        let mut value = written;
        let mut item = None;
        for key in &f.path {
            let ValueKind::Map(block) = &c.reader().resolve(value).kind else { break };
            let Some(i) = block.items.iter().find(|i| i.key.name == *key) else { break };
            item = Some(i);
            value = &i.value;
        }
        let Some(item) = item else { continue };
        let path = f.path.join(".");
        let d = match &f.problem {
            Problem::Unknown { suggestion, owners } => {
                let mut d = Diagnostic::new(
                    "E0201",
                    format!("`passthrough` field `{path}` is not in the {spec} spec"),
                    item.key.span,
                    "unknown field",
                );
                if let Some(s) = suggestion {
                    d = d.help(format!("did you mean `{s}`?"));
                } else if !owners.is_empty() {
                    d = d.note(format!("only the {} spec has `{path}`", owners.join(" and ")));
                }
                d.note("passthrough keys are the CRD's own field names, written as in YAML")
            }
            Problem::Type { expected } => {
                let found = c.reader().resolve(&item.value).kind.describe();
                Diagnostic::new(
                    "E0202",
                    format!("`passthrough` field `{path}` must be {}, found {found}", expected.describe()),
                    item.value.span,
                    format!("expected {}", expected.describe()),
                )
            }
        };
        c.diags.push(d);
    }
    found.is_empty()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn problems(kind: ComponentKind, spec: Json) -> Vec<Finding> {
        findings(kind, spec.as_object().unwrap())
    }

    #[test]
    fn fields_are_checked_by_kind_and_type() {
        let ok = json!({"imagePullPolicy": "Always", "pod": {"labels": {}}, "secretsMap": {"a": {"path": "p"}}});
        assert!(problems(ComponentKind::Function, ok).is_empty());
        let f = problems(ComponentKind::Sink, json!({"windowConfig": {}}));
        assert_eq!(f[0].problem, Problem::Unknown { suggestion: None, owners: vec!["Function"] });
        let f = problems(ComponentKind::Source, json!({"replica": 2}));
        assert_eq!(f[0].problem, Problem::Unknown { suggestion: Some("replicas"), owners: vec![] });
        let f = problems(ComponentKind::Function, json!({"replicas": 1.5, "pod": {"nodeSelecter": {}}}));
        assert_eq!(f[0].problem, Problem::Type { expected: J::Integer });
        assert_eq!(f[1].path, ["pod", "nodeSelecter"]);
        assert_eq!(f[1].problem, Problem::Unknown { suggestion: Some("nodeSelector"), owners: vec![] });
        let f = problems(ComponentKind::Function, json!({"secretsMap": {"a": "b"}, "java": {"javaOpts": "-X"}}));
        assert_eq!(f[0].path, ["secretsMap", "a"]);
        assert_eq!(f[0].problem, Problem::Type { expected: J::Object });
        assert_eq!(f[1].path, ["java", "javaOpts"]);
    }

    #[test]
    fn free_objects_take_anything() {
        let spec = json!({"funcConfig": {"any": [1, {"x": null}]}, "resources": {"requests": {"cpu": 1}}});
        assert!(problems(ComponentKind::Function, spec).is_empty());
        assert!(problems(ComponentKind::Sink, json!({"sinkConfig": {"x": 1}})).is_empty());
        // A Function's sinkConfig is a typed object.
        let f = problems(ComponentKind::Function, json!({"sinkConfig": {"x": 1}}));
        assert_eq!(f[0].path, ["sinkConfig", "x"]);
    }
}
