//! The `workloads` target: per component, the objects the Function Mesh
//! operator itself would create from the custom resource (reference 4.1-4.10),
//! so a pipeline runs on a cluster without the operator: the cluster
//! ConfigMap, a StatefulSet `X-s`, a headless Service `X-s-headless` and, with
//! `max_replicas`, an HPA `X-s`, or with `pod { vpa }`, a VPA `X-s`.
//!
//! The emitter works from the CRD spec the `crd` target writes (serialised to
//! JSON), exactly as the operator works from the CR, so both targets agree.
//!
//! Deliberate differences from the operator:
//! - No ownerReferences (there is no CR); every object carries the mesh labels instead.
//! - There is no CR UID: `--function_id` uses the kube name as a stable id.
//! - The HPA scales, and the VPA targets, the StatefulSet, since there is no CR with a
//!   scale subresource.
//! - The VPA is emitted whenever `pod.vpa` asks for one; the operator first checks that
//!   the cluster serves `autoscaling.k8s.io/v1`.
//! - Operator defaults are assumed: init containers off (inline download), default
//!   affinity on, `RUN_AS_NON_ROOT` false, built-in runner images, no BackendConfig,
//!   no cleanup Job.
//! - The rendered log4j / Python logging / filebeat configs are minimal equivalents
//!   of the operator's templates (same files, levels, rolling on/off), not byte copies.
//! - Every value that comes from the program is shell-quoted (issue 7), where the
//!   operator leaves most of them bare; the Go instance config is one quoted word.

use super::{mesh_labels, Object};
use crate::ir::{self, ComponentKind, Program};
use k8s_openapi::api::apps::v1::{StatefulSet, StatefulSetSpec, StatefulSetUpdateStrategy};
use k8s_openapi::api::autoscaling::v2::{
    CrossVersionObjectReference, HorizontalPodAutoscaler, HorizontalPodAutoscalerBehavior, HorizontalPodAutoscalerSpec,
    MetricSpec, MetricTarget, ResourceMetricSource,
};
use k8s_openapi::api::core::v1::{
    Affinity, Capabilities, ConfigMapEnvSource, ConfigMapVolumeSource, Container, ContainerPort, EnvFromSource, EnvVar,
    EnvVarSource, HTTPGetAction, KeyToPath, LocalObjectReference, ObjectFieldSelector, PodAffinityTerm,
    PodAntiAffinity, PodSecurityContext, PodSpec, PodTemplateSpec, Probe, ResourceRequirements, SeccompProfile,
    SecretEnvSource, SecretKeySelector, SecretVolumeSource, SecurityContext, Service, ServicePort, ServiceSpec,
    Toleration, Volume, VolumeMount, WeightedPodAffinityTerm,
};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{LabelSelector, ObjectMeta};
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use serde_json::{json, Map, Value};
use std::collections::BTreeMap;

type Labels = BTreeMap<String, String>;

const JAVA_RUNNER: &str = "streamnative/pulsar-functions-java-runner:2.10.0.0-rc10";
const PYTHON_RUNNER: &str = "streamnative/pulsar-functions-python-runner:2.10.0.0-rc10";
const GO_RUNNER: &str = "streamnative/pulsar-functions-go-runner:2.10.0.0-rc10";
const PULSAR_ALL: &str = "streamnative/pulsar-all:2.10.0.0-rc10";
const FILEBEAT_IMAGE: &str = "streamnative/filebeat:v0.6.0";
const IDENTITY_FUNCTION: &str = "org.apache.pulsar.functions.api.utils.IdentityFunction";
const WINDOW_EXECUTOR: &str = "org.apache.pulsar.functions.windowing.WindowFunctionExecutor";
const BATCH_EXECUTOR: &str = "org.apache.pulsar.functions.source.batch.BatchSourceExecutor";
const OAUTH2_PLUGIN: &str = "org.apache.pulsar.client.impl.auth.oauth2.AuthenticationOAuth2";
const TLS_MOUNT: &str = "/etc/tls/pulsar-functions";
const OAUTH2_MOUNT: &str = "/etc/oauth2";
const JAVA_LOG_DIR: &str = "/pulsar/conf/java-log/";
const PYTHON_LOG_DIR: &str = "/pulsar/conf/python-log/";
const PYTHON_LOG_FILE: &str = "/pulsar/conf/python-log/python_instance_logging.ini";
const GRPC_PORT: i32 = 9093;
const METRICS_PORT: i32 = 9094;

pub fn emit(p: &Program) -> Vec<Object> {
    let mut out = super::crd::cluster_config_maps(p);
    for comp in &p.components {
        out.extend(component(p, comp));
    }
    out
}

fn to_json<T: serde::Serialize>(v: &T) -> Value {
    // Serialising k8s-openapi and plain structs cannot fail: every map key is a string.
    serde_json::to_value(v).unwrap_or(Value::Null)
}

/// The component's CR spec as the `crd` target writes it, pass-through fields merged.
fn spec_of(p: &Program, comp: &ir::Component) -> Value {
    let mut spec = to_json(&crate::emit::crd::component_spec(p, comp, &comp.pulsar_name));
    if let (Some(extra), Some(obj)) = (&comp.passthrough, spec.as_object_mut()) {
        for (k, v) in extra {
            merge(obj.entry(k.clone()).or_insert(Value::Null), v);
        }
    }
    spec
}

fn merge(into: &mut Value, from: &Value) {
    match (into, from) {
        (Value::Object(a), Value::Object(b)) => {
            for (k, v) in b {
                merge(a.entry(k.clone()).or_insert(Value::Null), v);
            }
        }
        (slot, v) => *slot = v.clone(),
    }
}

// ---- small JSON accessors (the spec is CRD-shaped JSON) ----

fn st<'a>(v: &'a Value, ptr: &str) -> Option<&'a str> {
    v.pointer(ptr).and_then(Value::as_str).filter(|s| !s.is_empty())
}
fn int(v: &Value, ptr: &str) -> Option<i64> {
    v.pointer(ptr).and_then(Value::as_i64)
}
fn flag(v: &Value, ptr: &str) -> bool {
    v.pointer(ptr).and_then(Value::as_bool).unwrap_or(false)
}
/// A typed value out of free-form JSON; malformed input is dropped rather than panicking.
fn typed<T: serde::de::DeserializeOwned>(v: &Value, ptr: &str) -> Option<T> {
    v.pointer(ptr).and_then(|x| serde_json::from_value(x.clone()).ok())
}
fn str_map(v: &Value, ptr: &str) -> Labels {
    v.pointer(ptr)
        .and_then(Value::as_object)
        .map(|m| m.iter().filter_map(|(k, v)| v.as_str().map(|s| (k.clone(), s.to_string()))).collect())
        .unwrap_or_default()
}

/// Everything about one component the builders below need.
struct Ctx<'a> {
    p: &'a Program,
    comp: &'a ir::Component,
    spec: Value,
    /// `function` / `source` / `sink`.
    kind: &'static str,
    /// `X-s`.
    sts: String,
}

impl Ctx<'_> {
    fn pod(&self, key: &str) -> Option<&Value> {
        self.spec.get("pod").and_then(|p| p.get(key))
    }
    fn is_function(&self) -> bool {
        self.comp.kind == ComponentKind::Function
    }
    fn log_topic(&self) -> Option<&str> {
        st(&self.spec, "/logTopic")
    }
    fn sidecar_logs(&self) -> bool {
        self.log_topic().is_some() && st(&self.spec, "/logTopicAgent") == Some("sidecar")
    }
    fn runtime_key(&self) -> &'static str {
        match self.comp.runtime {
            ir::Runtime::Java { .. } => "java",
            ir::Runtime::Python { .. } => "python",
            ir::Runtime::Go { .. } => "golang",
            ir::Runtime::Generic { .. } => "genericRuntime",
        }
    }
    fn log_conf(&self) -> Value {
        self.spec.pointer(&format!("/{}/log", self.runtime_key())).cloned().unwrap_or(Value::Null)
    }
}

fn component(p: &Program, comp: &ir::Component) -> Vec<Object> {
    let kind = match comp.kind {
        ComponentKind::Function => "function",
        ComponentKind::Source => "source",
        ComponentKind::Sink => "sink",
    };
    let cx = Ctx { p, comp, spec: spec_of(p, comp), kind, sts: format!("{}-{kind}", comp.kube_name) };
    let base = base_labels(&cx);
    let mut meta_labels = base.clone();
    meta_labels.extend(mesh_labels(&p.mesh_name));
    let meta = |name: &str| ObjectMeta {
        name: Some(name.to_string()),
        namespace: p.kube_namespace.clone(),
        labels: Some(meta_labels.clone()),
        ..ObjectMeta::default()
    };
    let mut out = vec![
        Object::new(to_json(&stateful_set(&cx, &base, meta(&cx.sts)))),
        Object::new(to_json(&service(&base, meta(&format!("{}-headless", cx.sts))))),
    ];
    // HPA and VPA are exclusive (V20, E0414); should both be asked for anyway (through
    // `passthrough`), the HPA wins, because the replica range is the explicit request.
    if let Some(hpa) = hpa(&cx, meta(&cx.sts)) {
        out.push(Object::new(to_json(&hpa)));
    } else if let Some(vpa) = vpa(&cx, meta(&cx.sts)) {
        out.push(Object::new(to_json(&vpa)));
    }
    out
}

/// Reference 4.2: ten labels for functions, eight for sources and sinks.
fn base_labels(cx: &Ctx) -> Labels {
    // Labels need a namespace even when the program leaves it to kubectl; "default"
    // is where such objects land without `-n`.
    let ns = cx.p.kube_namespace.clone().unwrap_or_else(|| "default".to_string());
    let name = cx.comp.kube_name.clone();
    let mut l = Labels::from([
        ("app.kubernetes.io/name".to_string(), cx.sts.clone()),
        ("app.kubernetes.io/instance".to_string(), cx.sts.clone()),
        ("compute.functionmesh.io/component".to_string(), cx.kind.to_string()),
        ("compute.functionmesh.io/name".to_string(), name.clone()),
        ("compute.functionmesh.io/namespace".to_string(), ns.clone()),
        ("component".to_string(), cx.kind.to_string()),
        ("name".to_string(), name),
        ("namespace".to_string(), ns),
    ]);
    if cx.is_function() {
        l.insert("compute.functionmesh.io/app".to_string(), "function-mesh".to_string());
        l.insert("app".to_string(), "function-mesh".to_string());
    }
    l
}

fn ports() -> Vec<ContainerPort> {
    [("tcp-grpc", GRPC_PORT), ("http-metrics", METRICS_PORT)]
        .into_iter()
        .map(|(n, port)| ContainerPort {
            name: Some(n.to_string()),
            container_port: port,
            protocol: Some("TCP".to_string()),
            ..ContainerPort::default()
        })
        .collect()
}

fn service(base: &Labels, metadata: ObjectMeta) -> Service {
    let ports = [("tcp-grpc", GRPC_PORT), ("http-metrics", METRICS_PORT)]
        .into_iter()
        .map(|(n, port)| ServicePort {
            name: Some(n.to_string()),
            port,
            target_port: Some(IntOrString::Int(port)),
            ..ServicePort::default()
        })
        .collect();
    Service {
        metadata,
        spec: Some(ServiceSpec {
            cluster_ip: Some("None".to_string()),
            selector: Some(base.clone()),
            ports: Some(ports),
            ..ServiceSpec::default()
        }),
        ..Service::default()
    }
}

fn stateful_set(cx: &Ctx, base: &Labels, metadata: ObjectMeta) -> StatefulSet {
    // Pod labels: base, then the mesh labels (playing the operator's resourceLabels), then pod.labels.
    let mut pod_labels = base.clone();
    pod_labels.extend(mesh_labels(&cx.p.mesh_name));
    pod_labels.extend(str_map(&cx.spec, "/pod/labels"));
    let mut annotations = Labels::from([
        ("prometheus.io/scrape".to_string(), "true".to_string()),
        ("prometheus.io/port".to_string(), METRICS_PORT.to_string()),
    ]);
    annotations.extend(str_map(&cx.spec, "/pod/annotations"));

    let mut containers: Vec<Container> = cx.pod("sidecars").and_then(|v| typed(v, "")).unwrap_or_default();
    containers.push(main_container(cx));
    if cx.sidecar_logs() {
        containers.push(filebeat(cx));
    }
    let init: Option<Vec<Container>> = cx.pod("initContainers").and_then(|v| typed(v, ""));
    let mut pull_secrets: Vec<LocalObjectReference> =
        cx.pod("imagePullSecrets").and_then(|v| typed(v, "")).unwrap_or_default();
    pull_secrets.retain(|s| !s.name.is_empty());
    let volumes = volumes(cx);
    let pod = PodSpec {
        affinity: affinity(cx, &pod_labels),
        containers,
        init_containers: init.filter(|v| !v.is_empty()),
        image_pull_secrets: (!pull_secrets.is_empty()).then_some(pull_secrets),
        node_selector: Some(str_map(&cx.spec, "/pod/nodeSelector")).filter(|m| !m.is_empty()),
        security_context: Some(cx.pod("securityContext").and_then(|v| typed(v, "")).unwrap_or_else(|| {
            PodSecurityContext {
                run_as_user: Some(10000),
                run_as_group: Some(10001),
                run_as_non_root: Some(false),
                fs_group: Some(10001),
                seccomp_profile: Some(SeccompProfile {
                    type_: "RuntimeDefault".to_string(),
                    ..SeccompProfile::default()
                }),
                ..PodSecurityContext::default()
            }
        })),
        service_account_name: cx.pod("serviceAccountName").and_then(Value::as_str).map(str::to_string),
        termination_grace_period_seconds: cx.pod("terminationGracePeriodSeconds").and_then(Value::as_i64),
        tolerations: cx.pod("tolerations").and_then(|v| typed::<Vec<Toleration>>(v, "")).filter(|v| !v.is_empty()),
        volumes: (!volumes.is_empty()).then_some(volumes),
        ..PodSpec::default()
    };
    StatefulSet {
        metadata,
        spec: Some(StatefulSetSpec {
            replicas: i32::try_from(cx.comp.replicas).ok(),
            selector: LabelSelector { match_labels: Some(base.clone()), ..LabelSelector::default() },
            service_name: Some(format!("{}-headless", cx.sts)),
            pod_management_policy: Some("Parallel".to_string()),
            update_strategy: Some(StatefulSetUpdateStrategy {
                type_: Some("RollingUpdate".to_string()),
                ..StatefulSetUpdateStrategy::default()
            }),
            template: PodTemplateSpec {
                metadata: Some(ObjectMeta {
                    labels: Some(pod_labels),
                    annotations: Some(annotations),
                    ..ObjectMeta::default()
                }),
                spec: Some(pod),
            },
            ..StatefulSetSpec::default()
        }),
        ..StatefulSet::default()
    }
}

/// `pod.affinity` plus the default preferred anti-affinity term (4.6).
fn affinity(cx: &Ctx, pod_labels: &Labels) -> Option<Affinity> {
    let mut a: Option<Affinity> = cx.pod("affinity").and_then(|v| typed(v, ""));
    if cx.pod("disableDefaultAffinity").and_then(Value::as_bool).unwrap_or(false) {
        return a;
    }
    let term = WeightedPodAffinityTerm {
        weight: 100,
        pod_affinity_term: PodAffinityTerm {
            label_selector: Some(LabelSelector { match_labels: Some(pod_labels.clone()), ..LabelSelector::default() }),
            topology_key: "kubernetes.io/hostname".to_string(),
            ..PodAffinityTerm::default()
        },
    };
    let aff = a.get_or_insert_with(Affinity::default);
    let anti = aff.pod_anti_affinity.get_or_insert_with(PodAntiAffinity::default);
    anti.preferred_during_scheduling_ignored_during_execution.get_or_insert_with(Vec::new).push(term);
    a
}

/// Lower-case, runs outside `[-a-z0-9]` to `-`, at most 63 characters, no leading/trailing `-` (4.1).
pub fn sanitize(s: &str) -> String {
    let mut out = String::new();
    let mut dash = false;
    for c in s.to_lowercase().chars() {
        if c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' {
            out.push(c);
            dash = false;
        } else if !dash {
            out.push('-');
            dash = true;
        }
    }
    let cut: String = out.chars().take(63).collect();
    cut.trim_matches('-').to_string()
}

fn secret_volume(name: &str, secret: &str, key: &str) -> Volume {
    Volume {
        name: name.to_string(),
        secret: Some(SecretVolumeSource {
            secret_name: Some(secret.to_string()),
            items: Some(vec![KeyToPath { key: key.to_string(), path: key.to_string(), ..KeyToPath::default() }]),
            ..SecretVolumeSource::default()
        }),
        ..Volume::default()
    }
}

fn mount(name: &str, path: &str) -> VolumeMount {
    VolumeMount { name: name.to_string(), mount_path: path.to_string(), ..VolumeMount::default() }
}

/// Crypto secrets of the producer, then of each consumer: (secret, key, mount path).
fn crypto_secrets(spec: &Value) -> Vec<(String, String, String)> {
    let mut lists: Vec<&Value> = spec.pointer("/output/producerConf/cryptoConfig/cryptoSecrets").into_iter().collect();
    if let Some(specs) = spec.pointer("/input/sourceSpecs").and_then(Value::as_object) {
        lists.extend(specs.values().filter_map(|s| s.pointer("/cryptoConfig/cryptoSecrets")));
    }
    lists
        .into_iter()
        .filter_map(Value::as_array)
        .flatten()
        .filter_map(|s| {
            let path = st(s, "/asVolume")?;
            Some((st(s, "/secretName")?.to_string(), st(s, "/secretKey")?.to_string(), path.to_string()))
        })
        .collect()
}

/// The log-config ConfigMap volume: (volume name, ConfigMap, key, projected file, mount dir).
fn log_config_map(cx: &Ctx) -> Option<(String, String, String, &'static str, &'static str)> {
    let log = cx.log_conf();
    let name = st(&log, "/logConfig/name")?.to_string();
    let key = st(&log, "/logConfig/key")?.to_string();
    match cx.comp.runtime {
        ir::Runtime::Java { .. } => {
            let file = if st(&log, "/javaLog4JConfigFileType") == Some("yaml") {
                "java_instance_log4j.yaml"
            } else {
                "java_instance_log4j.xml"
            };
            Some((sanitize(&format!("{name}-java-log-conf")), name, key, file, JAVA_LOG_DIR))
        }
        ir::Runtime::Python { .. } => Some((
            sanitize(&format!("{name}-python-log-conf")),
            name,
            key,
            "python_instance_logging.ini",
            PYTHON_LOG_DIR,
        )),
        _ => None,
    }
}

fn volumes(cx: &Ctx) -> Vec<Volume> {
    let mut v: Vec<Volume> = cx.pod("volumes").and_then(|x| typed(x, "")).unwrap_or_default();
    if cx.sidecar_logs() {
        v.push(Volume { name: "filebeat-logs".to_string(), empty_dir: Some(Default::default()), ..Volume::default() });
    }
    if let (Some(n), Some(k)) =
        (st(&cx.spec, "/pulsar/tlsConfig/certSecretName"), st(&cx.spec, "/pulsar/tlsConfig/certSecretKey"))
    {
        v.push(secret_volume(&sanitize(&format!("{n}-{k}")), n, k));
    }
    if let Some((n, k)) = oauth2_key(&cx.spec) {
        v.push(secret_volume(&sanitize(&format!("{n}-{k}")), n, k));
    }
    for (n, k, _) in crypto_secrets(&cx.spec) {
        v.push(secret_volume(&sanitize(&format!("{n}-{k}")), &n, &k));
    }
    if let Some((vol, cm, key, file, _)) = log_config_map(cx) {
        v.push(Volume {
            name: vol,
            config_map: Some(ConfigMapVolumeSource {
                name: cm,
                items: Some(vec![KeyToPath { key, path: file.to_string(), ..KeyToPath::default() }]),
                ..ConfigMapVolumeSource::default()
            }),
            ..Volume::default()
        });
    }
    v
}

fn oauth2_key(spec: &Value) -> Option<(&str, &str)> {
    Some((
        st(spec, "/pulsar/authConfig/oauth2Config/keySecretName")?,
        st(spec, "/pulsar/authConfig/oauth2Config/keySecretKey")?,
    ))
}

fn mounts(cx: &Ctx) -> Vec<VolumeMount> {
    let mut m: Vec<VolumeMount> = typed(&cx.spec, "/volumeMounts").unwrap_or_default();
    if cx.sidecar_logs() {
        m.push(mount("filebeat-logs", "/pulsar/logs/functions"));
    }
    if let (Some(n), Some(k)) =
        (st(&cx.spec, "/pulsar/tlsConfig/certSecretName"), st(&cx.spec, "/pulsar/tlsConfig/certSecretKey"))
    {
        m.push(mount(&sanitize(&format!("{n}-{k}")), TLS_MOUNT));
    }
    if let Some((n, k)) = oauth2_key(&cx.spec) {
        m.push(mount(&sanitize(&format!("{n}-{k}")), OAUTH2_MOUNT));
    }
    for (n, k, path) in crypto_secrets(&cx.spec) {
        m.push(mount(&sanitize(&format!("{n}-{k}")), &path));
    }
    if let Some((vol, _, _, _, dir)) = log_config_map(cx) {
        m.push(mount(&vol, dir));
    }
    m
}

fn env_from(spec: &Value, secrets_swapped: bool) -> Vec<EnvFromSource> {
    let mut out = Vec::new();
    if let Some(cm) = st(spec, "/pulsar/pulsarConfig") {
        out.push(EnvFromSource {
            config_map_ref: Some(ConfigMapEnvSource { name: cm.to_string(), ..ConfigMapEnvSource::default() }),
            ..EnvFromSource::default()
        });
    }
    let secret = |name: &str| EnvFromSource {
        secret_ref: Some(SecretEnvSource { name: name.to_string(), ..SecretEnvSource::default() }),
        ..EnvFromSource::default()
    };
    // The operator passes the two secret names swapped to filebeat (4.6), so its order differs.
    let order = if secrets_swapped {
        ["/pulsar/tlsSecret", "/pulsar/authSecret"]
    } else {
        ["/pulsar/authSecret", "/pulsar/tlsSecret"]
    };
    out.extend(order.iter().filter_map(|k| st(spec, k)).map(secret));
    out
}

fn field_env(name: &str, path: &str) -> EnvVar {
    EnvVar {
        name: name.to_string(),
        value_from: Some(EnvVarSource {
            field_ref: Some(ObjectFieldSelector { field_path: path.to_string(), ..ObjectFieldSelector::default() }),
            ..EnvVarSource::default()
        }),
        ..EnvVar::default()
    }
}

fn value_env(name: &str, value: &str) -> EnvVar {
    EnvVar { name: name.to_string(), value: Some(value.to_string()), ..EnvVar::default() }
}

fn main_container(cx: &Ctx) -> Container {
    let mut env = vec![field_env("POD_NAME", "metadata.name")];
    // The operator iterates a Go map here (unordered); sorted keys keep the output deterministic.
    for (k, r) in &cx.comp.secrets {
        env.push(EnvVar {
            name: k.clone(),
            value_from: Some(EnvVarSource {
                secret_key_ref: Some(SecretKeySelector {
                    name: r.name.clone(),
                    key: r.key.clone(),
                    ..SecretKeySelector::default()
                }),
                ..EnvVarSource::default()
            }),
            ..EnvVar::default()
        });
    }
    env.extend(cx.pod("env").and_then(|v| typed::<Vec<EnvVar>>(v, "")).unwrap_or_default());
    if matches!(cx.comp.runtime, ir::Runtime::Go { .. }) {
        let log = cx.log_conf();
        if st(&log, "/logConfig/name").is_none() {
            env.push(value_env("LOGGING_LEVEL", st(&log, "/level").unwrap_or("info")));
        }
    }
    let (shell, script) = command(cx);
    let mounts = mounts(cx);
    Container {
        name: format!("pulsar-{}", cx.kind),
        image: Some(image(cx)),
        image_pull_policy: Some("IfNotPresent".to_string()),
        command: Some(vec![shell.to_string(), "-c".to_string(), script]),
        ports: Some(ports()),
        env: Some(env),
        env_from: Some(env_from(&cx.spec, false)).filter(|v| !v.is_empty()),
        resources: typed::<ResourceRequirements>(&cx.spec, "/resources")
            .filter(|r| r.requests.is_some() || r.limits.is_some()),
        security_context: Some(SecurityContext {
            capabilities: Some(Capabilities { drop: Some(vec!["ALL".to_string()]), ..Capabilities::default() }),
            allow_privilege_escalation: Some(false),
            ..SecurityContext::default()
        }),
        volume_mounts: (!mounts.is_empty()).then_some(mounts),
        liveness_probe: liveness(cx),
        startup_probe: cx.pod("startupProbe").and_then(|v| typed(v, "")),
        ..Container::default()
    }
}

fn liveness(cx: &Ctx) -> Option<Probe> {
    let l = cx.pod("liveness")?;
    let period = int(l, "/periodSeconds").filter(|p| *p > 0)?;
    let i32_of = |k: &str| int(l, k).and_then(|v| i32::try_from(v).ok());
    let period = i32::try_from(period).ok()?;
    Some(Probe {
        http_get: Some(HTTPGetAction {
            path: Some("/".to_string()),
            port: IntOrString::Int(METRICS_PORT),
            scheme: Some("HTTP".to_string()),
            ..HTTPGetAction::default()
        }),
        initial_delay_seconds: Some(i32_of("/initialDelaySeconds").unwrap_or(0).max(0)),
        timeout_seconds: Some(period),
        period_seconds: Some(period),
        success_threshold: i32_of("/successThreshold"),
        failure_threshold: i32_of("/failureThreshold"),
        ..Probe::default()
    })
}

/// Reference 4.7 with the built-in runner images.
fn image(cx: &Ctx) -> String {
    if let Some(i) = st(&cx.spec, "/image") {
        return i.to_string();
    }
    match (&cx.comp.runtime, cx.comp.kind) {
        (ir::Runtime::Java { jar, location: Some(l), .. }, ComponentKind::Source | ComponentKind::Sink)
            if !jar.is_empty() && ["function://", "sink://", "source://"].iter().any(|s| l.starts_with(s)) =>
        {
            JAVA_RUNNER
        }
        (_, ComponentKind::Source | ComponentKind::Sink) => PULSAR_ALL,
        (ir::Runtime::Java { jar, .. }, _) if !jar.is_empty() => JAVA_RUNNER,
        (ir::Runtime::Python { py, .. }, _) if !py.is_empty() => PYTHON_RUNNER,
        (ir::Runtime::Go { go, .. }, _) if !go.is_empty() => GO_RUNNER,
        (ir::Runtime::Generic { language, .. }, _) => match language.as_str() {
            "nodejs" => "streamnative/pulsar-functions-generic-nodejs-runner:0.1.0",
            "python" => "streamnative/pulsar-functions-generic-python-runner:0.1.0",
            "executable" | "wasm" => "streamnative/pulsar-functions-generic-base-runner:0.1.0",
            _ => "",
        },
        _ => PULSAR_ALL,
    }
    .to_string()
}

// ---- HPA (4.10) ----

fn ratio(cx: &Ctx, res: &str) -> f64 {
    let q = |w: &str| st(&cx.spec, &format!("/resources/{w}/{res}")).and_then(crate::quantity::parse);
    match (q("limits"), q("requests")) {
        (Some(l), Some(r)) if r > 0.0 => l / r,
        _ => 1.0,
    }
}

fn resource_metric(name: &str, utilization: f64) -> MetricSpec {
    MetricSpec {
        type_: "Resource".to_string(),
        resource: Some(ResourceMetricSource {
            name: name.to_string(),
            target: MetricTarget {
                type_: "Utilization".to_string(),
                // Truncation, as the operator's int() conversion.
                average_utilization: Some(utilization as i32),
                ..MetricTarget::default()
            },
        }),
        ..MetricSpec::default()
    }
}

fn hpa(cx: &Ctx, metadata: ObjectMeta) -> Option<HorizontalPodAutoscaler> {
    let max = i32::try_from(cx.comp.max_replicas?).ok()?;
    let min = i32::try_from(cx.comp.min_replicas).unwrap_or(1);
    let builtin: Vec<String> = cx.pod("builtinAutoscaler").and_then(|v| typed(v, "")).unwrap_or_default();
    let custom_metrics: Option<Vec<MetricSpec>> = cx.pod("autoScalingMetrics").and_then(|v| typed(v, ""));
    let behavior: Option<HorizontalPodAutoscalerBehavior> = cx.pod("autoScalingBehavior").and_then(|v| typed(v, ""));
    let (metrics, behavior) = if !builtin.is_empty() && max > min {
        let mut cpu = None;
        let mut mem = None;
        for rule in &builtin {
            let (slot, res, pct) = match rule.as_str() {
                "AverageUtilizationCPUPercent80" => (&mut cpu, "cpu", 80.0),
                "AverageUtilizationCPUPercent50" => (&mut cpu, "cpu", 50.0),
                "AverageUtilizationCPUPercent20" => (&mut cpu, "cpu", 20.0),
                "AverageUtilizationMemoryPercent80" => (&mut mem, "memory", 80.0),
                "AverageUtilizationMemoryPercent50" => (&mut mem, "memory", 50.0),
                "AverageUtilizationMemoryPercent20" => (&mut mem, "memory", 20.0),
                _ => continue,
            };
            if slot.is_none() {
                *slot = Some(resource_metric(res, pct * ratio(cx, res)));
            }
        }
        (Some(cpu.into_iter().chain(mem).collect()), None)
    } else if custom_metrics.is_some() || behavior.is_some() || !builtin.is_empty() || max <= min {
        (custom_metrics, behavior)
    } else {
        (Some(vec![resource_metric("cpu", 80.0 * ratio(cx, "cpu"))]), None)
    };
    Some(HorizontalPodAutoscaler {
        metadata,
        spec: Some(HorizontalPodAutoscalerSpec {
            // The operator targets the CR's scale subresource; without a CR the StatefulSet is scaled directly.
            scale_target_ref: CrossVersionObjectReference {
                api_version: Some("apps/v1".to_string()),
                kind: "StatefulSet".to_string(),
                name: cx.sts.clone(),
            },
            min_replicas: Some(min),
            max_replicas: max,
            metrics: metrics.filter(|m| !m.is_empty()),
            behavior,
        }),
        ..HorizontalPodAutoscaler::default()
    })
}

// ---- VPA (4.10) ----

/// `autoscaling.k8s.io/v1` VerticalPodAutoscaler. It is a CRD of the Kubernetes autoscaler project, so
/// k8s-openapi has no type for it; only the fields the operator sets are declared.
#[derive(serde::Serialize)]
#[serde(rename_all = "camelCase")]
struct VerticalPodAutoscaler {
    api_version: &'static str,
    kind: &'static str,
    metadata: ObjectMeta,
    spec: VerticalPodAutoscalerSpec,
}

#[derive(serde::Serialize)]
#[serde(rename_all = "camelCase")]
struct VerticalPodAutoscalerSpec {
    /// The VPA API uses the autoscaling/v1 reference type.
    target_ref: k8s_openapi::api::autoscaling::v1::CrossVersionObjectReference,
    #[serde(skip_serializing_if = "Option::is_none")]
    update_policy: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    resource_policy: Option<Value>,
}

/// The VPA of `pod.vpa`. The operator only creates it when the cluster serves the VPA API; here it is
/// emitted whenever asked for, so a cluster without the VPA CRDs refuses it instead of the program's
/// request being dropped silently.
fn vpa(cx: &Ctx, metadata: ObjectMeta) -> Option<VerticalPodAutoscaler> {
    let policy = cx.pod("vpa").filter(|v| v.is_object())?;
    let part = |key: &str| policy.get(key).filter(|v| !v.is_null()).cloned();
    Some(VerticalPodAutoscaler {
        api_version: "autoscaling.k8s.io/v1",
        kind: "VerticalPodAutoscaler",
        metadata,
        spec: VerticalPodAutoscalerSpec {
            // The operator targets the CR; without a CR the StatefulSet is targeted, as for the HPA.
            target_ref: k8s_openapi::api::autoscaling::v1::CrossVersionObjectReference {
                api_version: Some("apps/v1".to_string()),
                kind: "StatefulSet".to_string(),
                name: cx.sts.clone(),
            },
            update_policy: part("updatePolicy"),
            resource_policy: part("resourcePolicy"),
        },
    })
}

// ---- filebeat sidecar (4.6) ----

const FILEBEAT_CONFIG: &str = "filebeat.inputs:\n- type: log\n  enabled: true\n  paths:\n  - /pulsar/logs/functions/*.log\noutput.pulsar:\n  url: ${brokerServiceURL}\n  topic: ${logTopic}\n  name: ${POD_NAME}\n";

fn filebeat(cx: &Ctx) -> Container {
    let mut env: Vec<EnvVar> = cx.pod("env").and_then(|v| typed(v, "")).unwrap_or_default();
    env.push(value_env("logTopic", cx.log_topic().unwrap_or_default()));
    env.push(field_env("POD_NAME", "metadata.name"));
    if let Some(o) = cx.spec.pointer("/pulsar/authConfig/oauth2Config") {
        env.push(value_env("oauth2Enabled", "true"));
        env.push(value_env("oauth2IssuerUrl", st(o, "/issuerUrl").unwrap_or_default()));
        env.push(value_env("oauth2Audience", st(o, "/audience").unwrap_or_default()));
        env.push(value_env(
            "oauth2PrivateKey",
            &format!("{OAUTH2_MOUNT}/{}", st(o, "/keySecretKey").unwrap_or_default()),
        ));
        if let Some(s) = st(o, "/scope") {
            env.push(value_env("oauth2Scope", s));
        }
    } else if let Some(g) = cx.spec.pointer("/pulsar/authConfig/genericAuth") {
        // Simplified: the operator also unpacks OAuth2 plugin parameters; token-style auth is passed as is.
        env.push(value_env(
            "clientAuthenticationParameters",
            st(g, "/clientAuthenticationParameters").unwrap_or_default(),
        ));
    }
    let mut m: Vec<VolumeMount> = typed(&cx.spec, "/volumeMounts").unwrap_or_default();
    m.push(mount("filebeat-logs", "/pulsar/logs/functions"));
    m.extend(mounts(cx).into_iter().filter(|x| x.mount_path == TLS_MOUNT || x.mount_path == OAUTH2_MOUNT));
    let script = format!(
        "echo {} > /usr/share/filebeat/config/filebeat.yaml && /usr/share/filebeat/filebeat -e -c /usr/share/filebeat/config/filebeat.yaml",
        shell_quote(FILEBEAT_CONFIG)
    );
    Container {
        name: "filebeat".to_string(),
        image: Some(FILEBEAT_IMAGE.to_string()),
        image_pull_policy: Some("IfNotPresent".to_string()),
        command: Some(vec!["/bin/sh".to_string(), "-c".to_string(), "--".to_string(), script]),
        env: Some(env),
        env_from: Some(env_from(&cx.spec, true)).filter(|v| !v.is_empty()),
        volume_mounts: Some(m),
        security_context: Some(SecurityContext {
            capabilities: Some(Capabilities { drop: Some(vec!["ALL".to_string()]), ..Capabilities::default() }),
            allow_privilege_escalation: Some(false),
            run_as_user: Some(1000),
            ..SecurityContext::default()
        }),
        ..Container::default()
    }
}

// ---- shell words ----

/// Quotes one argument for `sh`/`bash`: returned unchanged when it holds only
/// characters no shell treats specially, else wrapped in single quotes with
/// each embedded `'` written as `'"'"'` (the operator's quoting for JSON).
/// Nothing inside single quotes is expanded, so `$(…)`, backticks, spaces and
/// newlines stay part of the argument.
pub fn shell_quote(s: &str) -> String {
    let safe = |c: char| c.is_ascii_alphanumeric() || "_@%+=:,./-".contains(c);
    if !s.is_empty() && s.chars().all(safe) {
        s.to_string()
    } else {
        format!("'{}'", s.replace('\'', "'\"'\"'"))
    }
}

/// One piece of a shell word: text from the program (always quoted) or a
/// parameter expansion we write ourselves (double-quoted, so never split).
enum Piece {
    Lit(String),
    Var(&'static str),
    /// Shell syntax we write ourselves (`&&`, `( ... || true )`), verbatim.
    Raw(&'static str),
}

/// One argument of a command line, possibly mixing literals and expansions.
struct Word(Vec<Piece>);

fn lit(s: impl Into<String>) -> Word {
    Word(vec![Piece::Lit(s.into())])
}
fn var(e: &'static str) -> Word {
    Word(vec![Piece::Var(e)])
}
fn raw(r: &'static str) -> Word {
    Word(vec![Piece::Raw(r)])
}

impl Word {
    fn then_var(mut self, e: &'static str) -> Word {
        self.0.push(Piece::Var(e));
        self
    }
    fn then(mut self, s: impl Into<String>) -> Word {
        self.0.push(Piece::Lit(s.into()));
        self
    }
    fn render(&self) -> String {
        let out: String = self
            .0
            .iter()
            .map(|p| match p {
                Piece::Lit(s) if s.is_empty() => String::new(),
                Piece::Lit(s) => shell_quote(s),
                Piece::Var(e) => format!("\"${{{e}}}\""),
                Piece::Raw(r) => r.to_string(),
            })
            .collect();
        if out.is_empty() && !self.0.iter().any(|p| matches!(p, Piece::Raw(_))) {
            "''".to_string()
        } else {
            out
        }
    }
}

fn render(words: &[Word]) -> String {
    words.iter().map(Word::render).collect::<Vec<_>>().join(" ")
}

// ---- command lines (4.8) ----

fn command(cx: &Ctx) -> (&'static str, String) {
    let mut script = String::new();
    let location = match &cx.comp.runtime {
        ir::Runtime::Java { location, .. }
        | ir::Runtime::Python { location, .. }
        | ir::Runtime::Go { location, .. }
        | ir::Runtime::Generic { location, .. } => location.as_deref().filter(|l| !l.is_empty()),
    };
    if let Some(loc) = location {
        script.push_str(&download(cx, loc));
        script.push_str(" && ");
        if matches!(cx.comp.runtime, ir::Runtime::Go { .. }) {
            script.push_str("ls -al && pwd && ");
        }
    }
    script.push_str("SHARD_ID=${POD_NAME##*-} && echo shardId=${SHARD_ID} && ");
    match &cx.comp.runtime {
        ir::Runtime::Java { .. } => {
            script.push_str(&java_log_command(cx));
            script.push_str("exec ");
            script.push_str(&render(&java_args(cx)));
            ("bash", script)
        }
        ir::Runtime::Python { .. } => {
            script.push_str("sed -i.bak 's/^  Log.setLevel/#&/' /pulsar/instances/python-instance/log.py && ");
            script.push_str(&python_log_command(cx));
            script.push_str("exec ");
            script.push_str(&render(&python_args(cx)));
            ("bash", script)
        }
        ir::Runtime::Go { go, .. } => {
            script.push_str(&go_command(cx, go));
            ("bash", script)
        }
        ir::Runtime::Generic { function_file, language, .. } => {
            let mut a = vec![lit("pulsar_rust_instance"), lit("--function_file"), lit(function_file.clone())];
            a.extend([lit("--language"), lit(language.clone())]);
            a.extend(shared_args(cx));
            let provider = match language.as_str() {
                "python" => Some("secrets_provider.EnvironmentBasedSecretsProvider"),
                "nodejs" => Some("EnvironmentBasedSecretsProvider"),
                _ => None,
            };
            if let (Some(pr), false) = (provider, cx.comp.secrets.is_empty()) {
                a.extend([lit("--secrets_provider"), lit(pr)]);
            }
            a.extend(state_args(cx, false));
            script.push_str("exec ");
            script.push_str(&render(&a));
            ("sh", script)
        }
    }
}

/// The download prefix (4.8), inline because this target has no init containers.
fn download(cx: &Ctx, location: &str) -> String {
    let target = match &cx.comp.runtime {
        ir::Runtime::Java { jar, .. } => jar.clone(),
        ir::Runtime::Python { py, .. } => py.clone(),
        ir::Runtime::Go { go, .. } => go.clone(),
        ir::Runtime::Generic { function_file, .. } => function_file.clone(),
    };
    let pulsarctl_image = matches!(cx.comp.runtime, ir::Runtime::Generic { .. })
        || st(&cx.spec, "/image").is_some_and(is_pulsarctl_runner);
    let package = ["function://", "source://", "sink://"].iter().any(|s| location.starts_with(s));
    let http = location.starts_with("http://") || location.starts_with("https://");
    if http && pulsarctl_image {
        return render(&[lit("wget"), lit(location), lit("-O"), lit(target)]);
    }
    let mut w = if pulsarctl_image { pulsarctl_head(&cx.spec) } else { pulsar_admin_head(&cx.spec) };
    if package {
        w.extend([lit("packages"), lit("download"), lit(location), lit("--path"), lit(target)]);
    } else {
        w.extend([
            lit("functions"),
            lit("download"),
            lit("--path"),
            lit(location),
            lit("--destination-file"),
            lit(target),
        ]);
    }
    render(&w)
}

/// Unanchored `pulsar-functions-(pulsarctl|sn|generic)-(java|python|go|nodejs|base)-runner`.
fn is_pulsarctl_runner(image: &str) -> bool {
    ["pulsarctl", "sn", "generic"].iter().any(|a| {
        ["java", "python", "go", "nodejs", "base"]
            .iter()
            .any(|b| image.contains(&format!("pulsar-functions-{a}-{b}-runner")))
    })
}

fn oauth2_json(spec: &Value) -> Option<String> {
    let o = spec.pointer("/pulsar/authConfig/oauth2Config")?;
    let key = format!("{OAUTH2_MOUNT}/{}", st(o, "/keySecretKey").unwrap_or_default());
    let issuer = st(o, "/issuerUrl").unwrap_or_default();
    let v = json!({
        "credentials_url": format!("file://{key}"),
        "privateKey": key,
        "private_key": key,
        "issuerUrl": issuer,
        "issuer_url": issuer,
        "audience": st(o, "/audience").unwrap_or_default(),
        "scope": st(o, "/scope").unwrap_or_default(),
    });
    Some(v.to_string())
}

fn pulsar_admin_head(spec: &Value) -> Vec<Word> {
    let mut w = vec![lit("/pulsar/bin/pulsar-admin"), lit("--admin-url"), var("webServiceURL")];
    if let Some(j) = oauth2_json(spec) {
        w.extend([lit("--auth-plugin"), lit(OAUTH2_PLUGIN), lit("--auth-params"), lit(j)]);
    } else if let Some(g) = spec.pointer("/pulsar/authConfig/genericAuth") {
        w.extend([
            lit("--auth-plugin"),
            lit(st(g, "/clientAuthenticationPlugin").unwrap_or_default()),
            lit("--auth-params"),
            lit(st(g, "/clientAuthenticationParameters").unwrap_or_default()),
        ]);
    } else if spec.pointer("/pulsar/authConfig").is_none() && st(spec, "/pulsar/authSecret").is_some() {
        w.extend([
            lit("--auth-plugin"),
            var("clientAuthenticationPlugin"),
            lit("--auth-params"),
            var("clientAuthenticationParameters"),
        ]);
    }
    if let Some(t) = spec.pointer("/pulsar/tlsConfig") {
        if flag(t, "/enabled") {
            if flag(t, "/allowInsecure") {
                w.push(lit("--tls-allow-insecure"));
            }
            if flag(t, "/hostnameVerification") {
                w.push(lit("--tls-enable-hostname-verification"));
            }
            if let (Some(_), Some(k)) = (st(t, "/certSecretName"), st(t, "/certSecretKey")) {
                w.extend([lit("--tls-trust-cert-path"), lit(format!("{TLS_MOUNT}/{k}"))]);
            }
        }
    } else if st(spec, "/pulsar/tlsSecret").is_some() {
        w.extend([
            lit("--tls-allow-insecure"),
            lit("--tls-enable-hostname-verification"),
            lit("--tls-trust-cert-path"),
            var("tlsTrustCertsFilePath"),
        ]);
    }
    w
}

fn pulsarctl_head(spec: &Value) -> Vec<Word> {
    // The operator writes two spaces after the first `&&`; the empty raw word keeps that.
    let mut w = vec![raw("export PATH=$PATH:/pulsar/bin &&"), raw("")];
    let admin = || [lit("--admin-service-url"), var("webServiceURL")];
    if let Some(o) = spec.pointer("/pulsar/authConfig/oauth2Config") {
        w.extend([lit("pulsarctl"), lit("context"), lit("set"), lit("downloader")]);
        w.extend(admin());
        w.extend([
            lit("--issuer-endpoint"),
            lit(st(o, "/issuerUrl").unwrap_or_default()),
            lit("--audience"),
            lit(st(o, "/audience").unwrap_or_default()),
            lit("--key-file"),
            lit(format!("{OAUTH2_MOUNT}/{}", st(o, "/keySecretKey").unwrap_or_default())),
        ]);
        if let Some(s) = st(o, "/scope") {
            w.extend([lit("--scope"), lit(s)]);
        }
        w.extend([raw("&&"), lit("pulsarctl"), lit("oauth2"), lit("activate"), raw("&&"), lit("pulsarctl")]);
    } else {
        let creds = if let Some(g) = spec.pointer("/pulsar/authConfig/genericAuth") {
            let params = st(g, "/clientAuthenticationParameters").unwrap_or_default();
            Some((lit(st(g, "/clientAuthenticationPlugin").unwrap_or_default()), lit(params), lit(params)))
        } else if spec.pointer("/pulsar/authConfig").is_none() && st(spec, "/pulsar/authSecret").is_some() {
            Some((
                var("clientAuthenticationPlugin"),
                var("clientAuthenticationParameters"),
                var("clientAuthenticationParameters"),
            ))
        } else {
            None
        };
        if let Some((plugin, params, params2)) = creds {
            w.extend([raw("("), lit("pulsarctl"), lit("oauth2"), lit("activate"), lit("--auth-params"), params]);
            w.extend([raw("||"), lit("true"), raw(")"), raw("&&")]);
            w.extend([lit("pulsarctl"), lit("--auth-plugin"), plugin, lit("--auth-params"), params2]);
        } else {
            w.push(lit("pulsarctl"));
        }
        w.extend(admin());
    }
    if let Some(t) = spec.pointer("/pulsar/tlsConfig") {
        if flag(t, "/enabled") {
            w.push(lit(format!("--tls-allow-insecure={}", flag(t, "/allowInsecure"))));
            w.push(lit(format!("--tls-enable-hostname-verification={}", flag(t, "/hostnameVerification"))));
            if let (Some(_), Some(k)) = (st(t, "/certSecretName"), st(t, "/certSecretKey")) {
                w.extend([lit("--tls-trust-cert-path"), lit(format!("{TLS_MOUNT}/{k}"))]);
            }
        }
    } else if st(spec, "/pulsar/tlsSecret").is_some() {
        w.extend([
            lit("--tls-allow-insecure=").then_var("tlsAllowInsecureConnection:-false"),
            lit("--tls-enable-hostname-verification=").then_var("tlsHostnameVerificationEnable:-true"),
            lit("--tls-trust-cert-path"),
            var("tlsTrustCertsFilePath"),
        ]);
    }
    w
}

fn java_level(l: &str) -> &'static str {
    match l.to_ascii_lowercase().as_str() {
        "all" => "ALL",
        "debug" => "DEBUG",
        "trace" => "TRACE",
        "warn" | "warning" => "WARN",
        "error" => "ERROR",
        "fatal" => "FATAL",
        "off" => "OFF",
        _ => "INFO",
    }
}

fn python_level(l: &str) -> &'static str {
    match l.to_ascii_lowercase().as_str() {
        "debug" | "trace" | "all" => "DEBUG",
        "warn" | "warning" => "WARNING",
        "error" => "ERROR",
        "fatal" | "critical" | "off" => "CRITICAL",
        _ => "INFO",
    }
}

/// Rolling files: an explicit rotate policy, or implicitly 10 MB with the sidecar agent (4.8).
fn rotate_policy(cx: &Ctx) -> Option<String> {
    let log = cx.log_conf();
    st(&log, "/rotatePolicy")
        .map(str::to_string)
        .or_else(|| cx.sidecar_logs().then(|| "SizedPolicyWith10MB".to_string()))
}

/// A minimal log4j2 XML config (the operator renders a longer template with the same effect).
fn log4j_xml(cx: &Ctx) -> String {
    let log = cx.log_conf();
    let level = java_level(st(&log, "/level").unwrap_or("info"));
    let layout = if st(&log, "/format") == Some("json") {
        "<JsonLayout compact=\"true\" eventEol=\"true\"/>"
    } else {
        "<PatternLayout pattern=\"%d{ISO8601_OFFSET_DATE_TIME_HHMM} [%t] %-5level %logger{36} - %m%n\"/>"
    };
    let mut appenders = format!("<Console name=\"Console\" target=\"SYSTEM_OUT\">{layout}</Console>");
    let mut refs = "<AppenderRef ref=\"Console\"/>".to_string();
    if let Some(policy) = rotate_policy(cx) {
        let trigger = match policy.as_str() {
            "TimedPolicyWithDaily" => "<TimeBasedTriggeringPolicy interval=\"1\"/>".to_string(),
            "TimedPolicyWithWeekly" => "<TimeBasedTriggeringPolicy interval=\"7\"/>".to_string(),
            "TimedPolicyWithMonthly" => "<TimeBasedTriggeringPolicy interval=\"30\"/>".to_string(),
            other => format!(
                "<SizeBasedTriggeringPolicy size=\"{}\"/>",
                other.strip_prefix("SizedPolicyWith").unwrap_or("10MB").replace("MB", " MB")
            ),
        };
        appenders.push_str(&format!(
            "<RollingFile name=\"RollingFile\" fileName=\"${{sys:pulsar.function.log.dir}}/${{sys:pulsar.function.log.file}}.log\" filePattern=\"${{sys:pulsar.function.log.dir}}/${{sys:pulsar.function.log.file}}-%d{{yyyy-MM-dd}}-%i.log.gz\">{layout}<Policies>{trigger}</Policies><DefaultRolloverStrategy max=\"5\"/></RollingFile>"
        ));
        refs.push_str("<AppenderRef ref=\"RollingFile\"/>");
    }
    format!(
        "<Configuration name=\"pulsar-functions-instance\" monitorInterval=\"30\"><Appenders>{appenders}</Appenders><Loggers><Root level=\"{level}\">{refs}</Root></Loggers></Configuration>"
    )
}

/// The YAML flavour of the same minimal config.
fn log4j_yaml(cx: &Ctx) -> String {
    let log = cx.log_conf();
    let level = java_level(st(&log, "/level").unwrap_or("info"));
    format!(
        "Configuration:\n  name: pulsar-functions-instance\n  Appenders:\n    Console:\n      name: Console\n      target: SYSTEM_OUT\n      PatternLayout:\n        Pattern: \"%d{{ISO8601_OFFSET_DATE_TIME_HHMM}} [%t] %-5level %logger{{36}} - %m%n\"\n  Loggers:\n    Root:\n      level: {level}\n      AppenderRef:\n        - ref: Console\n"
    )
}

fn java_log_command(cx: &Ctx) -> String {
    let log = cx.log_conf();
    let kind = st(&log, "/javaLog4JConfigFileType");
    if st(&log, "/logConfig/name").is_some() || kind == Some("ini") {
        return String::new();
    }
    let (file, text) = if kind == Some("yaml") {
        ("java_instance_log4j.yaml", log4j_yaml(cx))
    } else {
        ("java_instance_log4j.xml", log4j_xml(cx))
    };
    format!("mkdir -p {JAVA_LOG_DIR} && echo {} > {JAVA_LOG_DIR}{file} && ", shell_quote(&text))
}

fn python_log_command(cx: &Ctx) -> String {
    let log = cx.log_conf();
    if st(&log, "/logConfig/name").is_some() {
        return String::new();
    }
    let mut handlers = "stream_handler".to_string();
    let mut file_handler = String::new();
    if let Some(policy) = rotate_policy(cx) {
        handlers.push_str(",rotating_file_handler");
        let file = format!("logs/functions/{}.log", cx.comp.pulsar_name);
        let (class, args) = match policy.as_str() {
            "TimedPolicyWithDaily" => ("handlers.TimedRotatingFileHandler", format!("('{file}', 'D', 1, 5)")),
            "TimedPolicyWithWeekly" => ("handlers.TimedRotatingFileHandler", format!("('{file}', 'W0', 1, 5)")),
            "TimedPolicyWithMonthly" => ("handlers.TimedRotatingFileHandler", format!("('{file}', 'D', 30, 5)")),
            "SizedPolicyWith50MB" => ("handlers.RotatingFileHandler", format!("('{file}', 'a', 52428800, 5)")),
            "SizedPolicyWith100MB" => ("handlers.RotatingFileHandler", format!("('{file}', 'a', 104857600, 5)")),
            _ => ("handlers.RotatingFileHandler", format!("('{file}', 'a', 10485760, 5)")),
        };
        file_handler = format!("[handler_rotating_file_handler]\nclass={class}\nformatter=formatter\nargs={args}\n");
    }
    let format = if st(&log, "/format") == Some("json") {
        "{\"time\": \"%(asctime)s\", \"level\": \"%(levelname)s\", \"file\": \"%(filename)s\", \"message\": \"%(message)s\"}"
    } else {
        "[%(asctime)s] [%(levelname)s] %(filename)s: %(message)s"
    };
    let ini = format!(
        "[loggers]\nkeys=root\n[handlers]\nkeys={handlers}\n[formatters]\nkeys=formatter\n[logger_root]\nlevel=INFO\nhandlers={handlers}\n[handler_stream_handler]\nclass=StreamHandler\nformatter=formatter\nargs=(sys.stdout,)\n{file_handler}[formatter_formatter]\nformat={format}\n"
    );
    let mut out =
        format!("mkdir -p {PYTHON_LOG_DIR} logs/functions && echo {} > {PYTHON_LOG_FILE} && ", shell_quote(&ini));
    if let Some(l) = st(&log, "/level") {
        out.push_str(&format!("sed -i.bak 's/^level=.*/level={}/g' {PYTHON_LOG_FILE} && ", python_level(l)));
    }
    out
}

/// `<D>` of 4.8: a fifth of the memory limit, as a decimal-SI quantity.
fn max_direct_memory(cx: &Ctx) -> String {
    let bytes = st(&cx.spec, "/resources/limits/memory").and_then(crate::quantity::parse).unwrap_or(0.0).ceil();
    let mut n = (bytes / 5.0).floor() as u64;
    let mut suffix = "";
    for s in ["k", "M", "G", "T", "P", "E"] {
        if n == 0 || !n.is_multiple_of(1000) {
            break;
        }
        n /= 1000;
        suffix = s;
    }
    format!("{n}{suffix}")
}

fn java_args(cx: &Ctx) -> Vec<Word> {
    let (jar, extra, opts) = match &cx.comp.runtime {
        ir::Runtime::Java { jar, extra_dependencies_dir, java_opts, .. } => {
            (jar.clone(), extra_dependencies_dir.clone(), java_opts.clone())
        }
        _ => (String::new(), None, Vec::new()),
    };
    let mut cp = Word(vec![Piece::Raw(
        "/pulsar/instances/java-instance.jar:$(echo /pulsar/lib/com.fasterxml.jackson.dataformat-jackson-dataformat-yaml-*.jar):$(echo /pulsar/lib/org.yaml-snakeyaml-*.jar)",
    )]);
    if let Some(dir) = extra.filter(|d| !d.is_empty()) {
        cp = cp.then(format!(":{dir}/")).then("*");
    }
    let log = cx.log_conf();
    let log_file = if st(&log, "/javaLog4JConfigFileType") == Some("yaml") {
        "/pulsar/conf/java-log/java_instance_log4j.yaml"
    } else {
        "/pulsar/conf/java-log/java_instance_log4j.xml"
    };
    let mut a = vec![
        lit("java"),
        lit("-cp"),
        cp,
        lit("-Dpulsar.functions.instance.classpath=/pulsar/lib/*"),
        lit(format!("-Dlog4j.configurationFile={log_file}")),
        lit("-Dpulsar.function.log.dir=logs/functions"),
        lit(format!("-Dpulsar.function.log.file={}-", cx.comp.pulsar_name)).then_var("SHARD_ID"),
        lit("-Dpulsar.allocator.exit_on_oom=true"),
    ];
    if let Some(l) = st(&log, "/level") {
        let l = java_level(l);
        a.extend([lit(format!("-Dpulsar.log.level={l}")), lit(format!("-Dbk.log.level={l}"))]);
    }
    a.extend([
        lit("-XX:MaxRAMPercentage=70"),
        lit(format!("-XX:MaxDirectMemorySize={}", max_direct_memory(cx))),
        lit("-XX:+UseG1GC"),
        lit("-XX:+HeapDumpOnOutOfMemoryError"),
        lit("-XX:HeapDumpPath=/pulsar/tmp/heapdump-%p.hprof"),
        lit("-XX:+ExitOnOutOfMemoryError"),
        lit("-Xlog:gc*:file=/pulsar/logs/gc.log:time,level,tags:filecount=5,filesize=10M"),
    ]);
    a.extend(opts.into_iter().map(lit));
    a.extend([lit("org.apache.pulsar.functions.instance.JavaInstanceMain"), lit("--jar"), lit(jar)]);
    a.extend(shared_args(cx));
    if cx.is_function() && (cx.spec.get("sourceConfig").is_some() || cx.spec.get("sinkConfig").is_some()) {
        a.extend([lit("--connectors_directory"), lit("/pulsar/connectors")]);
    }
    if !cx.comp.secrets.is_empty() {
        a.extend([
            lit("--secrets_provider"),
            lit("org.apache.pulsar.functions.secretsprovider.EnvironmentBasedSecretsProvider"),
        ]);
    }
    a.extend(state_args(cx, true));
    if cx.is_function() {
        let n = int(&cx.spec, "/maxPendingAsyncRequests").unwrap_or(1000);
        a.extend([lit("--pending_async_requests"), lit(n.to_string())]);
    }
    a
}

fn python_args(cx: &Ctx) -> Vec<Word> {
    let py = match &cx.comp.runtime {
        ir::Runtime::Python { py, .. } => py.clone(),
        _ => String::new(),
    };
    let mut a = vec![
        lit("python"),
        lit("/pulsar/instances/python-instance/python_instance_main.py"),
        lit("--py"),
        lit(py),
        lit("--logging_directory"),
        lit("logs/functions"),
        lit("--logging_file"),
        lit(format!("{}-", cx.comp.pulsar_name)).then_var("SHARD_ID").then(".log"),
        lit("--logging_config_file"),
        lit(PYTHON_LOG_FILE),
        lit("--install_usercode_dependencies"),
        lit("true"),
    ];
    a.extend(shared_args(cx));
    if !cx.comp.secrets.is_empty() {
        a.extend([lit("--secrets_provider"), lit("secretsprovider.EnvironmentBasedSecretsProvider")]);
    }
    a.extend(state_args(cx, false));
    a
}

fn state_args(cx: &Ctx, java: bool) -> Vec<Word> {
    let mut a = Vec::new();
    if let Some(url) = st(&cx.spec, "/statefulConfig/pulsar/serviceUrl") {
        a.extend([lit("--state_storage_serviceurl"), lit(url)]);
        if let (true, Some(c)) = (java, st(&cx.spec, "/statefulConfig/pulsar/javaProvider/className")) {
            a.extend([lit("--state_storage_impl_class"), lit(c)]);
        }
    }
    a
}

/// The stand-in for the CR UID in `--function_id` (there is no CR in this target).
fn uid<'a>(cx: &Ctx<'a>) -> &'a str {
    &cx.comp.kube_name
}

fn shared_args(cx: &Ctx) -> Vec<Word> {
    let spec = &cx.spec;
    let details = serde_json::to_string(&function_details(cx)).unwrap_or_default();
    let mut a = vec![
        lit("--instance_id"),
        var("SHARD_ID"),
        lit("--function_id"),
        var("SHARD_ID").then(format!("-{}", uid(cx))),
        lit("--function_version"),
        lit("0"),
        lit("--function_details"),
        lit(details),
        lit("--pulsar_serviceurl"),
        var("brokerServiceURL"),
        lit("--max_buffered_tuples"),
        lit("100"),
        lit("--port"),
        lit(GRPC_PORT.to_string()),
        lit("--metrics_port"),
        lit(METRICS_PORT.to_string()),
        lit("--expected_healthcheck_interval"),
        lit("0"),
        lit("--cluster_name"),
        lit(st(spec, "/clusterName").unwrap_or("kubernetes")),
    ];
    if let Some(j) = oauth2_json(spec) {
        a.extend([lit("--client_auth_plugin"), lit(OAUTH2_PLUGIN), lit("--client_auth_params"), lit(j)]);
    } else if let Some(g) = spec.pointer("/pulsar/authConfig/genericAuth") {
        a.extend([
            lit("--client_auth_plugin"),
            lit(st(g, "/clientAuthenticationPlugin").unwrap_or_default()),
            lit("--client_auth_params"),
            lit(st(g, "/clientAuthenticationParameters").unwrap_or_default()),
        ]);
    } else if spec.pointer("/pulsar/authConfig").is_none() && st(spec, "/pulsar/authSecret").is_some() {
        a.extend([
            lit("--client_auth_plugin"),
            var("clientAuthenticationPlugin"),
            lit("--client_auth_params"),
            var("clientAuthenticationParameters"),
        ]);
    }
    if let Some(t) = spec.pointer("/pulsar/tlsConfig") {
        let enabled = flag(t, "/enabled");
        a.extend([lit("--use_tls"), lit(enabled.to_string())]);
        if enabled {
            a.extend([lit("--tls_allow_insecure"), lit(flag(t, "/allowInsecure").to_string())]);
            a.extend([lit("--hostname_verification_enabled"), lit(flag(t, "/hostnameVerification").to_string())]);
            if let (Some(_), Some(k)) = (st(t, "/certSecretName"), st(t, "/certSecretKey")) {
                a.extend([lit("--tls_trust_cert_path"), lit(format!("{TLS_MOUNT}/{k}"))]);
            }
        }
    } else if st(spec, "/pulsar/tlsSecret").is_some() {
        a.extend([
            lit("--use_tls"),
            lit("true"),
            lit("--tls_allow_insecure"),
            var("tlsAllowInsecureConnection:-false"),
            lit("--hostname_verification_enabled"),
            var("tlsHostnameVerificationEnable:-true"),
            lit("--tls_trust_cert_path"),
            var("tlsTrustCertsFilePath"),
        ]);
    } else {
        a.extend([lit("--use_tls"), lit("false")]);
    }
    a
}

// ---- function details (4.9) ----

/// Object keys sorted at every level, as Go `encoding/json` writes maps.
fn sort_keys(v: &Value) -> Value {
    match v {
        Value::Object(m) => {
            let sorted: BTreeMap<&String, Value> = m.iter().map(|(k, v)| (k, sort_keys(v))).collect();
            Value::Object(sorted.into_iter().map(|(k, v)| (k.clone(), v)).collect())
        }
        Value::Array(a) => Value::Array(a.iter().map(sort_keys).collect()),
        other => other.clone(),
    }
}

/// Compact JSON with Go's HTML escaping; `<`, `>`, `&` only occur inside strings, so a
/// textual replacement is exact.
fn go_text(v: &Value) -> String {
    serde_json::to_string(v).unwrap_or_default().replace('<', "\\u003c").replace('>', "\\u003e").replace('&', "\\u0026")
}

fn go_json(v: &Value) -> String {
    go_text(&sort_keys(v))
}

/// Builds a JSON object in declaration order, skipping protobuf default values.
#[derive(Default)]
struct Proto(Map<String, Value>);

impl Proto {
    fn put(&mut self, k: &str, v: Value) -> &mut Self {
        let default = match &v {
            Value::Null => true,
            Value::Bool(b) => !b,
            Value::String(s) => s.is_empty(),
            Value::Number(n) => n.as_f64() == Some(0.0),
            Value::Array(a) => a.is_empty(),
            Value::Object(_) => false,
        };
        if !default {
            self.0.insert(k.to_string(), v);
        }
        self
    }
    fn put_str(&mut self, k: &str, v: Option<&str>) -> &mut Self {
        self.put(k, v.map_or(Value::Null, |s| Value::String(s.to_string())))
    }
    fn done(&mut self) -> Value {
        Value::Object(std::mem::take(&mut self.0))
    }
}

fn crypto_spec(c: &Value) -> Value {
    let cfg = c.get("cryptoKeyReaderConfig").filter(|m| m.as_object().is_some_and(|o| !o.is_empty()));
    let fail_omitted = |k: &str| st(c, k).filter(|a| !a.eq_ignore_ascii_case("fail"));
    Proto::default()
        .put_str("cryptoKeyReaderClassName", st(c, "/cryptoKeyReaderClassName"))
        .put("cryptoKeyReaderConfig", cfg.map_or(Value::Null, |m| Value::String(go_json(m))))
        .put("producerEncryptionKeyName", c.get("encryptionKeys").cloned().unwrap_or(Value::Null))
        .put_str(
            "producerCryptoFailureAction",
            fail_omitted("/producerCryptoFailureAction").map(|s| s.to_uppercase()).as_deref(),
        )
        .put_str(
            "consumerCryptoFailureAction",
            fail_omitted("/consumerCryptoFailureAction").map(|s| s.to_uppercase()).as_deref(),
        )
        .done()
}

fn producer_spec(p: &Value) -> Value {
    Proto::default()
        .put("maxPendingMessages", p.get("maxPendingMessages").cloned().unwrap_or(Value::Null))
        .put(
            "maxPendingMessagesAcrossPartitions",
            p.get("maxPendingMessagesAcrossPartitions").cloned().unwrap_or(Value::Null),
        )
        .put("useThreadLocalProducers", p.get("useThreadLocalProducers").cloned().unwrap_or(Value::Null))
        .put("cryptoSpec", p.get("cryptoConfig").map_or(Value::Null, crypto_spec))
        .put_str("batchBuilder", st(p, "/batchBuilder"))
        .put_str("compressionType", st(p, "/compressionType").filter(|c| !c.eq_ignore_ascii_case("lz4")))
        .done()
}

/// `source.inputSpecs` per 5.2: later steps replace earlier entries.
fn input_specs(spec: &Value) -> Value {
    let mut m: BTreeMap<String, Value> = BTreeMap::new();
    for t in spec.pointer("/input/topics").and_then(Value::as_array).into_iter().flatten().filter_map(Value::as_str) {
        m.insert(t.to_string(), json!({}));
    }
    if let Some(t) = st(spec, "/input/topicPattern") {
        m.insert(t.to_string(), json!({"isRegexPattern": true}));
    }
    for (key, field) in [("customSerdeSources", "serdeClassName"), ("customSchemaSources", "schemaType")] {
        for (t, v) in str_map(spec, &format!("/input/{key}")) {
            m.insert(t, json!({ field: v }));
        }
    }
    if let Some(specs) = spec.pointer("/input/sourceSpecs").and_then(Value::as_object) {
        for (t, c) in specs {
            let v = Proto::default()
                .put_str("schemaType", st(c, "/schemaType"))
                .put_str("serdeClassName", st(c, "/serdeClassname"))
                .put("isRegexPattern", c.get("isRegexPattern").cloned().unwrap_or(Value::Null))
                .put("receiverQueueSize", c.get("receiverQueueSize").map_or(Value::Null, |n| json!({"value": n})))
                .put("schemaProperties", c.get("schemaProperties").map_or(Value::Null, sort_keys))
                .put("consumerProperties", c.get("consumerProperties").map_or(Value::Null, sort_keys))
                .put("cryptoSpec", c.get("cryptoConfig").map_or(Value::Null, crypto_spec))
                .done();
            m.insert(t.clone(), v);
        }
    }
    Value::Object(m.into_iter().collect())
}

/// `{cpu, ram, disk}` from the requests: cpu in cores, bytes as strings (4.9).
fn resources_json(spec: &Value) -> Value {
    let q = |k: &str| st(spec, &format!("/resources/requests/{k}")).and_then(crate::quantity::parse);
    let cpu =
        q("cpu").map_or(Value::Null, |c| if c.fract() == 0.0 && c.abs() < 1e15 { json!(c as i64) } else { json!(c) });
    let bytes = |v: Option<f64>| v.map_or(Value::Null, |b| Value::String((b as u64).to_string()));
    Proto::default().put("cpu", cpu).put("ram", bytes(q("memory"))).put("disk", bytes(q("ephemeral-storage"))).done()
}

fn guarantee(spec: &Value) -> Option<&'static str> {
    match st(spec, "/processingGuarantee") {
        Some("atmost_once") => Some("ATMOST_ONCE"),
        Some("effectively_once") => Some("EFFECTIVELY_ONCE"),
        Some("manual") => Some("MANUAL"),
        _ => None,
    }
}

fn subscription_type(spec: &Value) -> Option<&'static str> {
    if flag(spec, "/retainOrdering") || st(spec, "/processingGuarantee") == Some("effectively_once") {
        Some("FAILOVER")
    } else if flag(spec, "/retainKeyOrdering") {
        Some("KEY_SHARED")
    } else {
        None
    }
}

fn secrets_map(spec: &Value) -> Option<String> {
    let m = spec.get("secretsMap")?.as_object()?;
    let sorted: BTreeMap<&String, Value> = m
        .iter()
        .map(|(k, v)| (k, Proto::default().put_str("path", st(v, "/path")).put_str("key", st(v, "/key")).done()))
        .collect();
    Some(go_text(&Value::Object(sorted.into_iter().map(|(k, v)| (k.clone(), v)).collect())))
}

/// Retry settings with the operator's dead-letter default (5.3).
fn retry_details(cx: &Ctx) -> Value {
    let spec = &cx.spec;
    let retries = int(spec, "/maxMessageRetry").unwrap_or(0);
    let mut dlq = st(spec, "/deadLetterTopic").map(str::to_string);
    if dlq.is_none() && retries > 0 && st(spec, "/subscriptionName").is_none_or(|s| s.contains('\\')) {
        dlq = Some(format!("{}-{}-{}-DLQ", cx.comp.tenant, cx.comp.namespace, cx.comp.pulsar_name));
    }
    if retries == 0 && dlq.is_none() {
        return Value::Null;
    }
    Proto::default().put("maxMessageRetries", json!(retries)).put_str("deadLetterTopic", dlq.as_deref()).done()
}

/// The consuming half (`source`) of a function or sink.
fn consumer_source(cx: &Ctx, sink: bool) -> Proto {
    let spec = &cx.spec;
    let timeout = int(spec, "/timeout").filter(|t| *t != 0).map(|t| json!(t.to_string()));
    let nack = if sink {
        int(spec, "/negativeAckRedeliveryDelayMs").filter(|t| *t != 0).map(|t| json!(t.to_string()))
    } else {
        timeout.clone()
    };
    let mut s = Proto::default();
    s.put_str("typeClassName", st(spec, "/input/typeClassName"))
        .put_str("subscriptionType", subscription_type(spec))
        .put("inputSpecs", input_specs(spec))
        .put("timeoutMs", timeout.unwrap_or(Value::Null))
        .put_str("subscriptionName", st(spec, "/subscriptionName"))
        .put("cleanupSubscription", json!(flag(spec, "/cleanupSubscription")))
        .put_str(
            "subscriptionPosition",
            (!st(spec, "/subscriptionPosition").is_some_and(|p| p.eq_ignore_ascii_case("latest")))
                .then_some("EARLIEST"),
        )
        .put("negativeAckRedeliveryDelayMs", nack.unwrap_or(Value::Null));
    if !sink {
        s.put("skipToLatest", json!(flag(spec, "/skipToLatest")));
    }
    s
}

/// The producing half (`sink`) of a function or source.
fn producer_sink(spec: &Value, always_producer: bool) -> Proto {
    let producer = spec.pointer("/output/producerConf");
    let producer = match (producer, always_producer) {
        (Some(p), _) => producer_spec(p),
        (None, true) => json!({}),
        (None, false) => Value::Null,
    };
    let mut s = Proto::default();
    s.put_str("typeClassName", st(spec, "/output/typeClassName"))
        .put_str("topic", st(spec, "/output/topic"))
        .put("producerSpec", producer)
        .put_str("serDeClassName", st(spec, "/output/sinkSerdeClassName"))
        .put_str("schemaType", st(spec, "/output/sinkSchemaType"))
        .put("forwardSourceMessageProperty", json!(flag(spec, "/forwardSourceMessageProperty")));
    s
}

fn parallelism(cx: &Ctx) -> Value {
    if flag(&cx.spec, "/showPreciseParallelism") {
        json!(cx.comp.replicas)
    } else {
        json!(1)
    }
}

/// The `--function_details` JSON (protobuf JSON, keys in declaration order).
fn function_details(cx: &Ctx) -> Value {
    let spec = &cx.spec;
    let mut d = Proto::default();
    d.put_str("tenant", st(spec, "/tenant"))
        .put_str("namespace", st(spec, "/namespace"))
        .put_str("name", st(spec, "/name"));
    match cx.comp.kind {
        ComponentKind::Function => {
            let window = spec.get("windowConfig").filter(|w| w.is_object());
            let class = if window.is_some() { Some(WINDOW_EXECUTOR) } else { st(spec, "/className") };
            d.put_str("className", class);
            d.put_str("logTopic", if cx.sidecar_logs() { None } else { cx.log_topic() });
            d.put_str("processingGuarantees", guarantee(spec));
            let mut user = spec.get("funcConfig").map(sort_keys);
            if let Some(w) = window {
                let mut w = w.clone();
                if let Some(o) = w.as_object_mut() {
                    o.insert(
                        "actualWindowFunctionClassName".to_string(),
                        json!(st(spec, "/className").unwrap_or_default()),
                    );
                }
                let mut m: BTreeMap<String, Value> =
                    user.and_then(|u| u.as_object().cloned()).map(|o| o.into_iter().collect()).unwrap_or_default();
                m.insert("__WINDOWCONFIGS__".to_string(), w);
                user = Some(Value::Object(m.into_iter().collect()));
            }
            d.put("userConfig", user.map_or(Value::Null, |u| Value::String(go_text(&u))));
            d.put("secretsMap", secrets_map(spec).map_or(Value::Null, Value::String));
            d.put_str(
                "runtime",
                match cx.comp.runtime {
                    ir::Runtime::Python { .. } => Some("PYTHON"),
                    ir::Runtime::Go { .. } => Some("GO"),
                    _ => None,
                },
            );
            d.put("autoAck", json!(flag(spec, "/autoAck")));
            d.put("parallelism", parallelism(cx));
            d.put("source", consumer_source(cx, false).done());
            d.put("sink", producer_sink(spec, false).done());
            d.put("resources", resources_json(spec));
            d.put("retryDetails", retry_details(cx));
            d.put_str("runtimeFlags", st(spec, "/runtimeFlags"));
            d.put_str("componentType", Some("FUNCTION"));
            d.put("retainOrdering", json!(flag(spec, "/retainOrdering")));
            d.put("retainKeyOrdering", json!(flag(spec, "/retainKeyOrdering")));
        }
        ComponentKind::Source => {
            let config = spec.get("sourceConfig").map(sort_keys).unwrap_or_else(|| json!({}));
            let mut configs = config.clone();
            let batch = spec.get("batchSourceConfig").filter(|b| b.is_object());
            if let (Some(b), Some(o)) = (batch, configs.as_object_mut()) {
                o.insert("__BATCHSOURCECLASSNAME__".to_string(), json!(st(spec, "/className").unwrap_or_default()));
                o.insert("__BATCHSOURCECONFIGS__".to_string(), json!(go_text(b)));
            }
            let class = if batch.is_some() { Some(BATCH_EXECUTOR) } else { st(spec, "/className") };
            d.put_str("className", Some(IDENTITY_FUNCTION));
            d.put_str("processingGuarantees", guarantee(spec));
            d.put("userConfig", json!(go_text(&config)));
            d.put("secretsMap", secrets_map(spec).map_or(Value::Null, Value::String));
            d.put("autoAck", json!(true));
            d.put("parallelism", parallelism(cx));
            let source = Proto::default()
                .put_str("className", class)
                .put("configs", json!(go_json(&configs)))
                .put_str("typeClassName", st(spec, "/output/typeClassName"))
                .done();
            d.put("source", source);
            d.put("sink", producer_sink(spec, true).done());
            d.put("resources", resources_json(spec));
            d.put_str("runtimeFlags", st(spec, "/runtimeFlags"));
            d.put_str("componentType", Some("SOURCE"));
        }
        ComponentKind::Sink => {
            d.put_str("className", Some(IDENTITY_FUNCTION));
            d.put_str("processingGuarantees", guarantee(spec));
            d.put("secretsMap", secrets_map(spec).map_or(Value::Null, Value::String));
            d.put("autoAck", json!(flag(spec, "/autoAck")));
            d.put("parallelism", parallelism(cx));
            d.put("source", consumer_source(cx, true).done());
            let config = spec.get("sinkConfig").map(sort_keys).unwrap_or_else(|| json!({}));
            let sink = Proto::default()
                .put_str("className", st(spec, "/className"))
                .put("configs", json!(go_text(&config)))
                .put_str("typeClassName", st(spec, "/input/typeClassName"))
                .done();
            d.put("sink", sink);
            d.put("resources", resources_json(spec));
            d.put("retryDetails", retry_details(cx));
            d.put_str("runtimeFlags", st(spec, "/runtimeFlags"));
            d.put_str("componentType", Some("SINK"));
            d.put("retainOrdering", json!(flag(spec, "/retainOrdering")));
            d.put("retainKeyOrdering", json!(flag(spec, "/retainKeyOrdering")));
        }
    }
    d.done()
}

// ---- Go (4.8) ----

fn go_command(cx: &Ctx, go: &str) -> String {
    let spec = &cx.spec;
    let g = match st(spec, "/processingGuarantee") {
        Some("atmost_once") => 1,
        Some("effectively_once") => 2,
        Some("manual") => 3,
        _ => 0,
    };
    let q = |k: &str| st(spec, &format!("/resources/requests/{k}")).and_then(crate::quantity::parse).unwrap_or(0.0);
    let retries = int(spec, "/maxMessageRetry").unwrap_or(0);
    let dlq = retry_details(cx).get("deadLetterTopic").and_then(Value::as_str).unwrap_or_default().to_string();
    let first_topic = spec.pointer("/input/topics/0").and_then(Value::as_str).unwrap_or_default();
    let user = spec.get("funcConfig").map(go_json).unwrap_or_default();
    // Everything after funcID, in the Go struct's order.
    let rest = json!({
        "funcVersion": "0",
        "maxBufTuples": 100,
        "port": GRPC_PORT,
        "clusterName": st(spec, "/clusterName").unwrap_or("kubernetes"),
        "killAfterIdleMs": 0,
        "tenant": st(spec, "/tenant").unwrap_or_default(),
        "nameSpace": st(spec, "/namespace").unwrap_or_default(),
        "name": st(spec, "/name").unwrap_or_default(),
        "logTopic": if cx.sidecar_logs() { "" } else { cx.log_topic().unwrap_or_default() },
        "processingGuarantees": g,
        "secretsMap": "",
        "runtime": 3,
        "autoAck": flag(spec, "/autoAck"),
        "parallelism": parallelism(cx),
        "subscriptionType": 0,
        "timeoutMs": int(spec, "/timeout").unwrap_or(0),
        "subscriptionName": st(spec, "/subscriptionName").unwrap_or_default(),
        "cleanupSubscription": flag(spec, "/cleanupSubscription"),
        "sourceSpecsTopic": first_topic,
        "sourceSchemaType": "",
        "isRegexPatternSubscription": st(spec, "/input/topicPattern").is_some(),
        "receiverQueueSize": 0,
        "sinkSpecsTopic": st(spec, "/output/topic").unwrap_or_default(),
        "sinkSchemaType": "",
        "cpu": q("cpu").ceil() as i64,
        "ram": q("memory") as i64,
        "disk": q("ephemeral-storage") as i64,
        "maxMessageRetries": retries,
        "deadLetterTopic": dlq,
        "expectedHealthCheckInterval": -1,
        "userConfig": user,
        "metricsPort": METRICS_PORT,
    });
    let rest = go_text(&rest);
    let func_id = go_text(&json!(format!("-{}", uid(cx))));
    // The operator splices `${SHARD_ID}` into unquoted JSON; here the JSON is one word whose
    // literal parts are single-quoted and whose expansions are double-quoted.
    let conf = Word(vec![
        Piece::Lit("{\"pulsarServiceURL\":\"".to_string()),
        Piece::Var("brokerServiceURL"),
        Piece::Lit("\",\"instanceID\":".to_string()),
        Piece::Var("SHARD_ID"),
        Piece::Lit(",\"funcID\":\"".to_string()),
        Piece::Var("SHARD_ID"),
        Piece::Lit(format!(
            "{},{}",
            func_id.strip_prefix('"').unwrap_or(&func_id),
            rest.strip_prefix('{').unwrap_or(&rest)
        )),
    ]);
    let go = lit(go).render();
    format!(
        "GO_FUNCTION_CONF={} && echo goFunctionConfigs=\"'${{GO_FUNCTION_CONF}}'\" && ls -l {go} && chmod +x {go} && exec {go} -instance-conf \"${{GO_FUNCTION_CONF}}\"",
        conf.render()
    )
}
