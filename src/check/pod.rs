//! The typed `pod { ... }` block: pod-level knobs of a component, checked
//! against the Kubernetes types they become.

use super::components::block_fields;
use super::values::Fields;
use super::Checker;
use crate::diag::Diagnostic;
use crate::source::Span;
use crate::syntax::ast::{Item, Value, ValueKind};
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::{json, Map, Value as Json};

/// The PodPolicy object and the container's volume mounts.
pub fn pod_policy(c: &mut Checker<'_>, item: &Item) -> Option<(Json, Option<Json>)> {
    use k8s_openapi::api::autoscaling::v2 as hpa;
    use k8s_openapi::api::core::v1 as core;
    let mut f = block_fields(c, item, "`pod` is a block of pod settings", "`pod`")?;
    let mut out = Map::new();
    let mut ok = true;
    let mut mounts = None;
    for (key, wire) in [("labels", "labels"), ("annotations", "annotations"), ("node_selector", "nodeSelector")] {
        if let Some(i) = f.take(key) {
            put(&mut out, &mut ok, wire, c.reader().string_map(&i.value).map(|m| json!(m)));
        }
    }
    if let Some(i) = f.take("service_account") {
        put(&mut out, &mut ok, "serviceAccountName", c.reader().string(&i.value).map(|s| json!(s)));
    }
    if let Some(i) = f.take("termination_grace_period") {
        put(
            &mut out,
            &mut ok,
            "terminationGracePeriodSeconds",
            c.reader().duration_ms(&i.value).map(|ms| json!(ms / 1000)),
        );
    }
    if let Some(i) = f.take("image_pull_secrets") {
        match c.reader().strings(&i.value) {
            Some(names) => {
                out.insert(
                    "imagePullSecrets".into(),
                    json!(names.iter().map(|n| json!({"name": n})).collect::<Vec<_>>()),
                );
            }
            None => ok = false,
        }
    }
    if let Some(i) = f.take("disable_default_affinity") {
        put(&mut out, &mut ok, "disableDefaultAffinity", c.reader().bool(&i.value).map(|b| json!(b)));
    }
    if let Some(i) = f.take("autoscaler") {
        const RULES: [(&str, &str); 6] = [
            ("cpu_80", "AverageUtilizationCPUPercent80"),
            ("cpu_50", "AverageUtilizationCPUPercent50"),
            ("cpu_20", "AverageUtilizationCPUPercent20"),
            ("memory_80", "AverageUtilizationMemoryPercent80"),
            ("memory_50", "AverageUtilizationMemoryPercent50"),
            ("memory_20", "AverageUtilizationMemoryPercent20"),
        ];
        let names: Vec<&'static str> = RULES.iter().map(|r| r.0).collect();
        let ValueKind::List(items) = &i.value.kind else {
            c.diags.push(Diagnostic::new(
                "E0202",
                "`autoscaler` is a list such as `[cpu_80, memory_50]`",
                i.value.span,
                "expected a list",
            ));
            return None;
        };
        let mut rules = Vec::new();
        let mut seen: Vec<(&str, Span)> = Vec::new();
        for v in items {
            let Some(w) = c.reader().word(v, &names) else {
                ok = false;
                continue;
            };
            let kind = if w.starts_with("cpu") { "cpu" } else { "memory" };
            if let Some((_, first)) = seen.iter().find(|(k, _)| *k == kind) {
                c.diags.push(
                    Diagnostic::new(
                        "E0413",
                        format!("two {kind} rules for the builtin autoscaler"),
                        v.span,
                        "second rule",
                    )
                    .label(*first, "first rule")
                    .note("the operator accepts at most one CPU rule and one memory rule"),
                );
                ok = false;
            }
            seen.push((kind, v.span));
            rules.extend(RULES.iter().find(|r| r.0 == w).map(|r| r.1));
        }
        out.insert("builtinAutoscaler".into(), json!(rules));
    }
    if let Some(i) = f.take("env") {
        put(&mut out, &mut ok, "env", env(c, &i.value));
    }
    if let Some(i) = f.take("liveness") {
        let mut lf = block_fields(c, i, "`liveness` is a block: `liveness { period = 10s }`", "`liveness`")?;
        let mut l = Map::new();
        for (key, wire, secs) in [
            ("period", "periodSeconds", true),
            ("initial_delay", "initialDelaySeconds", true),
            ("success_threshold", "successThreshold", false),
            ("failure_threshold", "failureThreshold", false),
        ] {
            if let Some(x) = lf.take(key) {
                let v = if secs {
                    c.reader().duration_ms(&x.value).map(|ms| ms / 1000)
                } else {
                    c.reader().int(&x.value, 0, i64::from(i32::MAX))
                };
                if key == "success_threshold" && v.is_some_and(|n| n > 1) {
                    c.diags.push(Diagnostic::new(
                        "E0206",
                        "a liveness probe's `success_threshold` must be 1",
                        x.value.span,
                        "Kubernetes requires 1",
                    ));
                    ok = false;
                }
                match v {
                    Some(n) => {
                        l.insert(wire.into(), json!(n));
                    }
                    None => ok = false,
                }
            }
        }
        lf.finish(&mut c.diags);
        out.insert("liveness".into(), Json::Object(l));
    }
    // Values whose shape is a Kubernetes type: written with Kubernetes' own
    // field names (snake_case is accepted too) and checked against the type.
    macro_rules! typed {
        ($key:literal, $wire:literal, $ty:ty) => {
            if let Some(i) = f.take($key) {
                put(&mut out, &mut ok, $wire, kube_value::<$ty>(c, &i.value, $key).map(|j| j));
            }
        };
    }
    typed!("tolerations", "tolerations", Vec<core::Toleration>);
    typed!("affinity", "affinity", core::Affinity);
    typed!("security_context", "securityContext", core::PodSecurityContext);
    typed!("volumes", "volumes", Vec<core::Volume>);
    typed!("init_containers", "initContainers", Vec<core::Container>);
    typed!("sidecars", "sidecars", Vec<core::Container>);
    typed!("startup_probe", "startupProbe", core::Probe);
    typed!("autoscaling_metrics", "autoScalingMetrics", Vec<hpa::MetricSpec>);
    typed!("autoscaling_behavior", "autoScalingBehavior", hpa::HorizontalPodAutoscalerBehavior);
    if let Some(i) = f.take("volume_mounts") {
        match kube_value::<Vec<core::VolumeMount>>(c, &i.value, "volume_mounts") {
            Some(j) => mounts = Some(j),
            None => ok = false,
        }
    }
    if let Some(i) = f.take("vpa") {
        put(&mut out, &mut ok, "vpa", vpa(c, &i.value));
    }
    f.finish(&mut c.diags);
    ok.then_some((Json::Object(out), mounts))
}

/// `vpa { ... }`: the VPA types, plus what the types cannot say.
fn vpa(c: &mut Checker<'_>, v: &Value) -> Option<Json> {
    let vpa = kube_value::<Vpa>(c, v, "vpa")?;
    let policies =
        vpa.pointer("/resourcePolicy/containerPolicies").and_then(Json::as_array).cloned().unwrap_or_default();
    let mut ok = true;
    // V21: the operator refuses a container policy without a container name ("*" means every container).
    if policies.iter().any(|p| p.get("containerName").and_then(Json::as_str) == Some("")) {
        c.diags.push(
            Diagnostic::new(
                "E0203",
                "a `vpa` container policy needs a `container_name`",
                v.span,
                "empty container name",
            )
            .help("name the container, e.g. `container_name = \"pulsar-function\"`, or `\"*\"` for all of them"),
        );
        ok = false;
    }
    let bounds = policies.iter().flat_map(|p| ["minAllowed", "maxAllowed"].map(|k| p.get(k))).flatten();
    for text in bounds.filter_map(Json::as_object).flat_map(|m| m.values()).filter_map(Json::as_str) {
        if crate::quantity::parse(text).is_none() {
            c.diags.push(
                Diagnostic::new("E0207", format!("`{text}` is not a Kubernetes quantity"), v.span, "in this `vpa`")
                    .help("write a number with an optional suffix: m, k, M, G, T, P, E, Ki, Mi, Gi, Ti, Pi, Ei"),
            );
            ok = false;
        }
    }
    ok.then_some(vpa)
}

/// Whether `pod { vpa = ... }` writes this `pod.vpa` back unchanged and
/// passes `vpa`'s own checks (for `mesh import`).
pub(crate) fn vpa_exact(v: &Json) -> bool {
    let Some(back) = serde_json::from_value::<Vpa>(v.clone()).ok().and_then(|t| serde_json::to_value(t).ok()) else {
        return false;
    };
    let policies = back.pointer("/resourcePolicy/containerPolicies").and_then(Json::as_array);
    let named = policies.into_iter().flatten().all(|p| p.get("containerName").and_then(Json::as_str) != Some(""));
    let bounds = policies.into_iter().flatten().flat_map(|p| ["minAllowed", "maxAllowed"].map(|k| p.get(k))).flatten();
    let quantities = bounds
        .filter_map(Json::as_object)
        .flat_map(|m| m.values())
        .filter_map(Json::as_str)
        .all(|q| crate::quantity::parse(q).is_some());
    back == *v && named && quantities
}

/// `pod.vpa`: the VPA v1 policy types (VPA API v0.11, the version the operator builds with), declared
/// here because k8s-openapi has no VPA types. Checked like the Kubernetes-typed settings.
#[derive(serde::Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
struct Vpa {
    #[serde(skip_serializing_if = "Option::is_none")]
    update_policy: Option<VpaUpdatePolicy>,
    #[serde(skip_serializing_if = "Option::is_none")]
    resource_policy: Option<VpaResourcePolicy>,
}

#[derive(serde::Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
struct VpaUpdatePolicy {
    #[serde(skip_serializing_if = "Option::is_none")]
    update_mode: Option<VpaUpdateMode>,
    #[serde(skip_serializing_if = "Option::is_none")]
    min_replicas: Option<i32>,
}

#[derive(serde::Deserialize, Serialize)]
enum VpaUpdateMode {
    Off,
    Initial,
    Recreate,
    Auto,
}

#[derive(serde::Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
struct VpaResourcePolicy {
    #[serde(skip_serializing_if = "Option::is_none")]
    container_policies: Option<Vec<VpaContainerPolicy>>,
}

#[derive(serde::Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
struct VpaContainerPolicy {
    container_name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    mode: Option<VpaContainerMode>,
    #[serde(skip_serializing_if = "Option::is_none")]
    min_allowed: Option<std::collections::BTreeMap<String, IntOrString>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    max_allowed: Option<std::collections::BTreeMap<String, IntOrString>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    controlled_resources: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    controlled_values: Option<VpaControlledValues>,
}

#[derive(serde::Deserialize, Serialize)]
enum VpaContainerMode {
    Auto,
    Off,
}

#[derive(serde::Deserialize, Serialize)]
enum VpaControlledValues {
    RequestsAndLimits,
    RequestsOnly,
}

/// Records a setting's JSON under its CRD name, or that it was invalid.
fn put(out: &mut Map<String, Json>, ok: &mut bool, wire: &str, value: Option<Json>) {
    match value {
        Some(v) => {
            out.insert(wire.to_string(), v);
        }
        None => *ok = false,
    }
}

fn env(c: &mut Checker<'_>, v: &Value) -> Option<Json> {
    let ValueKind::Map(block) = &v.kind else {
        c.diags.push(Diagnostic::new(
            "E0202",
            "`env` is a block: `env { NAME = \"value\", TOKEN = secret(\"s\", \"k\") }`",
            v.span,
            "expected `{ ... }`",
        ));
        return None;
    };
    let _ = Fields::new(Some(block), "`env`", &mut c.diags);
    let mut out = Vec::new();
    let mut ok = true;
    for item in &block.items {
        let resolved = c.reader().resolve(&item.value).clone();
        match &resolved.kind {
            ValueKind::Call { callee, args } if callee.joined() == "secret" => {
                match c.reader().secret_args(item.value.span, args) {
                    Some(s) => out.push(
                        json!({"name": item.key.name, "valueFrom": {"secretKeyRef": {"name": s.name, "key": s.key}}}),
                    ),
                    None => ok = false,
                }
            }
            ValueKind::Int(_) | ValueKind::Bool(_) | ValueKind::Float(..) => {
                let text = match &resolved.kind {
                    ValueKind::Int(i) => i.to_string(),
                    ValueKind::Bool(b) => b.to_string(),
                    ValueKind::Float(_, t) => t.clone(),
                    _ => String::new(),
                };
                out.push(json!({"name": item.key.name, "value": text}));
            }
            _ => match c.reader().string(&item.value) {
                Some(s) => out.push(json!({"name": item.key.name, "value": s})),
                None => ok = false,
            },
        }
    }
    ok.then_some(Json::Array(out))
}

/// Converts a value to JSON, renames unquoted snake_case keys to camelCase,
/// and checks the result against a Kubernetes type: a wrong type or a field
/// the type does not have is an error.
fn kube_value<T: DeserializeOwned + Serialize>(c: &mut Checker<'_>, v: &Value, what: &str) -> Option<Json> {
    let raw = c.reader().json(v)?;
    let j = camel_keys(raw, v);
    let typed: T = match serde_json::from_value(j.clone()) {
        Ok(t) => t,
        Err(e) => {
            c.diags.push(Diagnostic::new(
                "E0202",
                format!("invalid `{what}`: {e}"),
                v.span,
                "does not match the Kubernetes type",
            ));
            return None;
        }
    };
    let back = match serde_json::to_value(&typed) {
        Ok(b) => b,
        Err(e) => {
            c.diags.push(Diagnostic::new(
                "E0202",
                format!("invalid `{what}`: {e}"),
                v.span,
                "does not match the Kubernetes type",
            ));
            return None;
        }
    };
    if let Some(path) = dropped_field(&j, &back, String::new()) {
        c.diags.push(
            Diagnostic::new(
                "E0201",
                format!("unknown field `{path}` in `{what}`"),
                v.span,
                "not a field of the Kubernetes type",
            )
            .help("fields use the Kubernetes API's names, e.g. `tolerationSeconds` or `toleration_seconds`"),
        );
        return None;
    }
    Some(back)
}

/// The first key of `given` that did not survive the round trip through the typed value.
fn dropped_field(given: &Json, back: &Json, path: String) -> Option<String> {
    match (given, back) {
        (Json::Object(a), Json::Object(b)) => a.iter().find_map(|(k, v)| {
            let p = if path.is_empty() { k.clone() } else { format!("{path}.{k}") };
            match b.get(k) {
                None if !v.is_null() => Some(p),
                None => None,
                Some(bv) => dropped_field(v, bv, p),
            }
        }),
        (Json::Array(a), Json::Array(b)) => {
            a.iter().zip(b).enumerate().find_map(|(i, (x, y))| dropped_field(x, y, format!("{path}[{i}]")))
        }
        _ => None,
    }
}

/// Renames the keys the user wrote unquoted from snake_case to camelCase;
/// quoted keys (`"app.kubernetes.io/name"`) are kept as written.
fn camel_keys(j: Json, v: &Value) -> Json {
    match (j, &v.kind) {
        (Json::Object(m), ValueKind::Map(block)) => {
            let mut out = Map::new();
            for (k, val) in m {
                let item = block.items.iter().find(|i| i.key.name == k);
                let key = match item {
                    Some(i) if !i.quoted_key => crate::names::camel_case(&k),
                    _ => k,
                };
                let val = match item {
                    Some(i) => camel_keys(val, &i.value),
                    None => val,
                };
                out.insert(key, val);
            }
            Json::Object(out)
        }
        (Json::Array(a), ValueKind::List(items)) => {
            Json::Array(a.into_iter().zip(items).map(|(x, v)| camel_keys(x, v)).collect())
        }
        (j, _) => j,
    }
}
