//! Spec fields that have mesh syntax: windows, state, batch sources,
//! producers and consumers, SerDes, runtime logs and pod settings. Each
//! function takes from the spec only what its setting writes back exactly,
//! and returns the setting; whatever it leaves stays in `passthrough`, which
//! the compiler merges into the same objects key by key.

use super::{key, prune, take_str, value, value_with, Pointer, I32};
use crate::fmt::quote;
use serde_json::{Map, Value};

/// The longest duration mesh reads, in milliseconds (below 9e15, E0206).
const MAX_MS: i64 = 8_999_999_999_999_999;

fn int_in(v: Option<&Value>, lo: i64, hi: i64) -> Option<i64> {
    v?.as_i64().filter(|n| (lo..=hi).contains(n))
}

/// A duration in the largest unit that keeps it whole (`30s`, `1500ms`).
pub(super) fn duration(ms: i64) -> String {
    if ms != 0 && ms % 1000 == 0 {
        format!("{}s", ms / 1000)
    } else {
        format!("{ms}ms")
    }
}

fn strings(v: Option<&Value>) -> Option<Vec<String>> {
    v?.as_array()?.iter().map(|s| s.as_str().map(str::to_string)).collect()
}

fn string_list(items: &[String]) -> String {
    format!("[{}]", items.iter().map(|s| quote(s)).collect::<Vec<_>>().join(", "))
}

/// A block of `key = "value"` when every value is a string.
fn string_block(v: Option<&Value>) -> Option<String> {
    let items: Option<Vec<String>> =
        v?.as_object()?.iter().map(|(k, v)| Some(format!("{} = {}", key(k), quote(v.as_str()?)))).collect();
    Some(format!("{{ {} }}", items?.join(", ")))
}

/// `secret("name", "key")` for a reference mesh accepts (E0402 otherwise).
fn secret_ref(name: Option<&Value>, k: Option<&Value>) -> Option<String> {
    let (name, k) = (name?.as_str()?, k?.as_str()?);
    crate::names::is_dns_subdomain(name).then(|| format!("secret({}, {})", quote(name), quote(k)))
}

/// Removes `keys` from the object at `path` under `root`, then the objects
/// left empty on the way back up.
fn remove_at(root: &mut Map<String, Value>, path: &[&str], keys: &[&str]) {
    let Some((first, rest)) = path.split_first() else {
        for k in keys {
            root.remove(*k);
        }
        return;
    };
    if let Some(inner) = root.get_mut(*first).and_then(Value::as_object_mut) {
        remove_at(inner, rest, keys);
    }
    prune(root, &[*first]);
}

/// `window { }` from `windowConfig`, for a function whose class mesh writes
/// as `class` (the operator's `actualWindowFunctionClassName`). `topic`
/// names the declared topic of a topic name.
pub(super) fn window(
    spec: &mut Map<String, Value>,
    class: &str,
    topic: &dyn Fn(&str) -> Option<String>,
) -> Option<String> {
    let w = spec.get("windowConfig")?.as_object()?;
    let mut parts = Vec::new();
    let mut used: Vec<&'static str> = Vec::new();
    let given = |k: &str| w.contains_key(k);
    let (count, kind_keys) = match (given("windowLengthCount"), given("windowLengthDurationMs")) {
        (true, false) => (true, ["windowLengthCount", "slidingIntervalCount", "slidingIntervalDurationMs"]),
        (false, true) => (false, ["windowLengthDurationMs", "slidingIntervalDurationMs", "slidingIntervalCount"]),
        _ => return None,
    };
    let [len_key, slide_key, other_kind] = kind_keys;
    // mesh's `length` and `slide` are both counts or both durations.
    if given(other_kind) {
        return None;
    }
    let size = |k: &str| -> Option<String> {
        if count {
            int_in(w.get(k), 1, I32).map(|n| n.to_string())
        } else {
            int_in(w.get(k), 1, MAX_MS).map(duration)
        }
    };
    parts.push(format!("length = {}", size(len_key)?));
    used.push(len_key);
    if given(slide_key) {
        parts.push(format!("slide = {}", size(slide_key)?));
        used.push(slide_key);
    }
    let extractor = w.get("timestampExtractorClassName").and_then(Value::as_str);
    if let Some(x) = extractor {
        parts.push(format!("timestamp_extractor = {}", quote(x)));
        used.push("timestampExtractorClassName");
    }
    // With an extractor the operator wants both above zero (E0408); a zero stays as written.
    let min = i64::from(extractor.is_some());
    for (k, mk) in [("maxLagMs", "max_lag"), ("watermarkEmitIntervalMs", "watermark_interval")] {
        if let Some(ms) = int_in(w.get(k), min, MAX_MS) {
            parts.push(format!("{mk} = {}", duration(ms)));
            used.push(k);
        }
    }
    // A count window needs a slide, or both the lag and the watermark interval (E0408).
    if count && !used.contains(&slide_key) && !(used.contains(&"maxLagMs") && used.contains(&"watermarkEmitIntervalMs"))
    {
        return None;
    }
    if let Some(t) = w.get("lateDataTopic").and_then(Value::as_str).filter(|t| !t.is_empty()).and_then(topic) {
        parts.push(format!("late_data = {t}"));
        used.push("lateDataTopic");
    }
    if let Some(g @ ("ATLEAST_ONCE" | "ATMOST_ONCE")) = w.get("processingGuarantees").and_then(Value::as_str) {
        parts.push(format!("guarantee = {}", g.to_lowercase()));
        used.push("processingGuarantees");
    }
    // mesh writes the function's class here; another value stays in passthrough and wins.
    if w.get("actualWindowFunctionClassName").and_then(Value::as_str) == Some(class) {
        used.push("actualWindowFunctionClassName");
    }
    remove_at(spec, &["windowConfig"], &used);
    Some(format!("window {{ {} }}", parts.join(", ")))
}

/// The late-data topic `window` would declare, so that it gets a `topic`.
pub(super) fn window_late_topic(spec: &Map<String, Value>, class: &str) -> Option<String> {
    let t = spec.get("windowConfig")?.get("lateDataTopic")?.as_str()?.to_string();
    let mut probe = spec.clone();
    window(&mut probe, class, &|_| Some(String::new()))?;
    (probe.pointer("/windowConfig/lateDataTopic").is_none()).then_some(t)
}

/// `state { }` from `statefulConfig.pulsar`; Go functions have no state (E0411).
pub(super) fn state(spec: &mut Map<String, Value>, go: bool) -> Option<String> {
    if go {
        return None;
    }
    let p = spec.get("statefulConfig")?.get("pulsar")?;
    let url = p.get("serviceUrl")?.as_str().filter(|u| !u.is_empty())?;
    let mut text = format!("state {{ service_url = {}", quote(url));
    let provider = p.pointer("/javaProvider/className").and_then(Value::as_str);
    if let Some(cl) = provider {
        text.push_str(&format!(", provider = {}", quote(cl)));
        remove_at(spec, &["statefulConfig", "pulsar", "javaProvider"], &["className"]);
    }
    remove_at(spec, &["statefulConfig", "pulsar"], &["serviceUrl"]);
    text.push_str(" }");
    Some(text)
}

/// `batch { }` from a source's `batchSourceConfig`.
pub(super) fn batch(spec: &mut Map<String, Value>) -> Option<String> {
    let b = spec.get("batchSourceConfig")?;
    let class = b.get("discoveryTriggererClassName")?.as_str()?;
    let mut text = format!("batch {{ discovery = {}", quote(class));
    let mut used = vec!["discoveryTriggererClassName"];
    if let Some(cfg) = b.get("discoveryTriggererConfig") {
        text.push_str(&format!(", config = {}", value(cfg)?));
        used.push("discoveryTriggererConfig");
    }
    text.push_str(" }");
    remove_at(spec, &["batchSourceConfig"], &used);
    Some(text)
}

/// A `crypto { }` block and the `cryptoConfig` keys it writes, or `None`
/// without the settings mesh requires (a key reader; keys for a producer).
fn crypto(c: &Map<String, Value>, producer: bool) -> Option<(String, Vec<&'static str>)> {
    let class = c.get("cryptoKeyReaderClassName")?.as_str().filter(|s| !s.is_empty())?;
    let mut parts = vec![format!("key_reader = {}", quote(class))];
    let mut used = vec!["cryptoKeyReaderClassName"];
    // mesh leaves an empty map out, so `{}` stays in passthrough.
    let cfg = c.get("cryptoKeyReaderConfig").filter(|v| v.as_object().is_some_and(|m| !m.is_empty()));
    if let Some(cfg) = string_block(cfg) {
        parts.push(format!("key_reader_config = {cfg}"));
        used.push("cryptoKeyReaderConfig");
    }
    if producer {
        let keys = strings(c.get("encryptionKeys")).filter(|k| !k.is_empty())?;
        parts.push(format!("encryption_keys = {}", string_list(&keys)));
        used.push("encryptionKeys");
    }
    let (action_key, actions): (&'static str, &[&str]) = if producer {
        ("producerCryptoFailureAction", &["FAIL", "SEND"])
    } else {
        ("consumerCryptoFailureAction", &["FAIL", "DISCARD", "CONSUME"])
    };
    if let Some(a) = c.get(action_key).and_then(Value::as_str).filter(|a| actions.contains(a)) {
        parts.push(format!("failure_action = {a}"));
        used.push(action_key);
    }
    let secrets: Option<Vec<String>> = c.get("cryptoSecrets").and_then(Value::as_array).and_then(|list| {
        list.iter()
            .map(|s| {
                let o = s.as_object()?;
                if o.keys().any(|k| !["secretName", "secretKey", "asVolume"].contains(&k.as_str())) {
                    return None;
                }
                let secret = secret_ref(o.get("secretName"), o.get("secretKey"))?;
                let mount = match o.get("asVolume") {
                    Some(v) => format!(", mount = {}", quote(v.as_str()?)),
                    None => String::new(),
                };
                Some(format!("{{ secret = {secret}{mount} }}"))
            })
            .collect()
    });
    if let Some(s) = secrets.filter(|s| !s.is_empty()) {
        parts.push(format!("secrets = [{}]", s.join(", ")));
        used.push("cryptoSecrets");
    }
    Some((format!("crypto {{ {} }}", parts.join(", ")), used))
}

/// `producer { }` from `output.producerConf`. Written whenever the input has
/// one, even with nothing mesh can say, because without it mesh gives a
/// source the operator's producer defaults.
pub(super) fn producer(spec: &mut Map<String, Value>) -> Option<String> {
    let pc = spec.get("output")?.get("producerConf")?.as_object()?;
    let mut parts = Vec::new();
    let mut used: Vec<&'static str> = Vec::new();
    for (k, mk) in [
        ("maxPendingMessages", "max_pending_messages"),
        ("maxPendingMessagesAcrossPartitions", "max_pending_messages_across_partitions"),
    ] {
        if let Some(n) = int_in(pc.get(k), 0, I32) {
            parts.push(format!("{mk} = {n}"));
            used.push(k);
        }
    }
    if let Some(b) = pc.get("useThreadLocalProducers").and_then(Value::as_bool) {
        parts.push(format!("thread_local = {b}"));
        used.push("useThreadLocalProducers");
    }
    for (k, mk, words) in [
        ("batchBuilder", "batch_builder", &["DEFAULT", "KEY_BASED"][..]),
        ("compressionType", "compression", &["NONE", "LZ4", "ZLIB", "ZSTD", "SNAPPY"][..]),
    ] {
        if let Some(w) = pc.get(k).and_then(Value::as_str).filter(|w| words.contains(w)) {
            parts.push(format!("{mk} = {w}"));
            used.push(k);
        }
    }
    let crypto = pc.get("cryptoConfig").and_then(Value::as_object).and_then(|c| crypto(c, true));
    if let Some((text, crypto_used)) = crypto {
        parts.push(text);
        remove_at(spec, &["output", "producerConf", "cryptoConfig"], &crypto_used);
    }
    remove_at(spec, &["output", "producerConf"], &used);
    Some(if parts.is_empty() { "producer {}".to_string() } else { format!("producer {{ {} }}", parts.join(", ")) })
}

/// `consumer { }` from `input.sourceSpecs`: mesh gives every input topic the
/// same consumer settings, so they are mapped only when every input's entry
/// has the same ones. `inputs` are the qualified topics, then the pattern.
pub(super) fn consumer(spec: &mut Map<String, Value>, inputs: &[(String, bool)]) -> Option<String> {
    let specs = spec.get("input")?.get("sourceSpecs")?.as_object()?;
    // The entry of each input, by the name as written (short names are qualified by Pulsar).
    let mut entries = Vec::new();
    for (t, pattern) in inputs {
        let keys: Vec<&String> =
            specs.keys().filter(|k| if *pattern { *k == t } else { super::qualify_topic(k) == *t }).collect();
        match keys.as_slice() {
            [] => entries.push(None),
            [k] => entries.push(Some((*k).clone())),
            _ => return None,
        }
    }
    let settings_of = |k: &Option<String>| -> (Option<i64>, Option<(String, Vec<&'static str>)>) {
        let Some(e) = k.as_ref().and_then(|k| specs[k].as_object()) else { return (None, None) };
        let rq = int_in(e.get("receiverQueueSize"), 0, I32);
        let crypto = e.get("cryptoConfig").and_then(Value::as_object).and_then(|c| crypto(c, false));
        (rq, crypto)
    };
    let all: Vec<_> = entries.iter().map(settings_of).collect();
    let (rq, crypto) = all.first()?.clone();
    let same = all.iter().all(|(r, c)| *r == rq && c.as_ref().map(|c| &c.0) == crypto.as_ref().map(|c| &c.0));
    if !same || (rq.is_none() && crypto.is_none()) {
        return None;
    }
    let mut parts = Vec::new();
    if let Some(n) = rq {
        parts.push(format!("receiver_queue_size = {n}"));
    }
    for ((t, pattern), k) in inputs.iter().zip(&entries) {
        let Some(k) = k else { continue };
        if rq.is_some() {
            remove_at(spec, &["input", "sourceSpecs", k], &["receiverQueueSize"]);
        }
        if let Some((_, used)) = &crypto {
            remove_at(spec, &["input", "sourceSpecs", k, "cryptoConfig"], used);
        }
        // What remains of a short-named entry moves to the full name, where mesh writes the mapped part.
        if !pattern && k != t {
            if let Some(specs) =
                spec.get_mut("input").and_then(|i| i.get_mut("sourceSpecs")).and_then(Value::as_object_mut)
            {
                if let Some(rest) = specs.remove(k) {
                    specs.insert(t.clone(), rest);
                }
            }
        }
    }
    if let Some((text, _)) = crypto {
        parts.push(text);
    }
    Some(format!("consumer {{ {} }}", parts.join(", ")))
}

/// `serde { }` from `input.customSerdeSources` (one class for every input
/// topic, named in full, as mesh writes it) and `output.sinkSerdeClassName`.
pub(super) fn serde(spec: &mut Map<String, Value>, topics: &[String], writes: bool) -> Option<String> {
    let mut parts = Vec::new();
    if let Some(m) = spec.get("input").and_then(|i| i.get("customSerdeSources")).and_then(Value::as_object) {
        let mut classes = m.values().map(Value::as_str);
        let first = classes.next().flatten();
        let same = first.is_some() && classes.all(|c| c == first);
        let named = m.len() == topics.len() && topics.iter().all(|t| m.contains_key(t));
        if let (true, true, Some(cls)) = (same, named, first) {
            parts.push(format!("input = {}", quote(cls)));
        }
    }
    if !parts.is_empty() {
        remove_at(spec, &["input"], &["customSerdeSources"]);
    }
    if writes {
        let output = spec.get_mut("output").and_then(Value::as_object_mut);
        if let Some(cls) = output.and_then(|o| take_str(o, "sinkSerdeClassName")) {
            parts.push(format!("output = {}", quote(&cls)));
        }
    }
    (!parts.is_empty()).then(|| format!("serde {{ {} }}", parts.join(", ")))
}

/// `log { }` from the runtime block's `log` (`java`, `python` or `golang`).
pub(super) fn log(spec: &mut Map<String, Value>, runtime: &str) -> Option<String> {
    const ROTATE: [(&str, &str); 6] = [
        ("TimedPolicyWithDaily", "daily"),
        ("TimedPolicyWithWeekly", "weekly"),
        ("TimedPolicyWithMonthly", "monthly"),
        ("SizedPolicyWith10MB", "size_10mb"),
        ("SizedPolicyWith50MB", "size_50mb"),
        ("SizedPolicyWith100MB", "size_100mb"),
    ];
    const LEVELS: [&str; 9] = ["off", "trace", "debug", "info", "warn", "error", "fatal", "all", "panic"];
    let l = spec.get(runtime)?.get("log")?.as_object()?;
    let word = |k: &str, allowed: &[&str]| {
        l.get(k).and_then(Value::as_str).filter(|w| allowed.contains(w)).map(str::to_string)
    };
    let mut parts = Vec::new();
    let mut used = Vec::new();
    if let Some(w) = word("level", &LEVELS) {
        parts.push(format!("level = {w}"));
        used.push("level");
    }
    if let Some(w) = word("format", &["json", "text"]) {
        parts.push(format!("format = {w}"));
        used.push("format");
    }
    if let Some((_, w)) = l.get("rotatePolicy").and_then(|p| ROTATE.iter().find(|(n, _)| Some(*n) == p.as_str())) {
        parts.push(format!("rotate = {w}"));
        used.push("rotatePolicy");
    }
    if let Some(c) = l.get("logConfig").and_then(Value::as_object).filter(|c| c.len() == 2) {
        if let (Some(n), Some(k)) = (c.get("name").and_then(Value::as_str), c.get("key").and_then(Value::as_str)) {
            parts.push(format!("config_map = config_map({}, {})", quote(n), quote(k)));
            used.push("logConfig");
        }
    }
    if let Some(w) = word("javaLog4JConfigFileType", &["xml", "yaml"]) {
        parts.push(format!("java_config_type = {w}"));
        used.push("javaLog4JConfigFileType");
    }
    if parts.is_empty() {
        return None;
    }
    remove_at(spec, &[runtime, "log"], &used);
    Some(format!("log {{ {} }}", parts.join(", ")))
}

/// Whether a value survives the round trip through its Kubernetes type
/// unchanged: then the typed pod setting reproduces it.
fn kube_exact<T: serde::de::DeserializeOwned + serde::Serialize>(v: &Value) -> bool {
    serde_json::from_value::<T>(v.clone()).ok().and_then(|t| serde_json::to_value(t).ok()).is_some_and(|b| b == *v)
}

/// A Kubernetes-typed value; keys mesh would turn into camelCase are quoted.
fn kube_text(v: &Value) -> Option<String> {
    value_with(v, &|k| if crate::names::camel_case(k) == k { key(k) } else { quote(k) })
}

/// `pod { }` from `pod` and `volumeMounts`. `range`: the component has a
/// replica range, which mesh does not combine with `vpa` (E0414).
pub(super) fn pod(spec: &mut Map<String, Value>, range: bool) -> Option<String> {
    use k8s_openapi::api::autoscaling::v2 as hpa;
    use k8s_openapi::api::core::v1 as core;
    let empty = Map::new();
    let p = spec.get("pod").and_then(Value::as_object).unwrap_or(&empty);
    let mut parts = Vec::new();
    let mut used: Vec<&'static str> = Vec::new();
    for (k, mk) in [("labels", "labels"), ("annotations", "annotations"), ("nodeSelector", "node_selector")] {
        if let Some(b) = string_block(p.get(k)) {
            parts.push(format!("{mk} {b}"));
            used.push(k);
        }
    }
    if let Some(s) = p.get("serviceAccountName").and_then(Value::as_str) {
        parts.push(format!("service_account = {}", quote(s)));
        used.push("serviceAccountName");
    }
    if let Some(n) = int_in(p.get("terminationGracePeriodSeconds"), 0, MAX_MS / 1000) {
        parts.push(format!("termination_grace_period = {n}s"));
        used.push("terminationGracePeriodSeconds");
    }
    let pull: Option<Vec<String>> = p.get("imagePullSecrets").and_then(Value::as_array).and_then(|a| {
        a.iter().map(|s| s.as_object().filter(|o| o.len() == 1)?.get("name")?.as_str().map(str::to_string)).collect()
    });
    if let Some(names) = pull {
        parts.push(format!("image_pull_secrets = {}", string_list(&names)));
        used.push("imagePullSecrets");
    }
    if let Some(b) = p.get("disableDefaultAffinity").and_then(Value::as_bool) {
        parts.push(format!("disable_default_affinity = {b}"));
        used.push("disableDefaultAffinity");
    }
    if let Some(rules) = autoscaler(p.get("builtinAutoscaler")) {
        parts.push(format!("autoscaler = [{}]", rules.join(", ")));
        used.push("builtinAutoscaler");
    }
    if let Some(env) = env(p.get("env")) {
        parts.push(format!("env {env}"));
        used.push("env");
    }
    if let Some(l) = liveness(p.get("liveness")) {
        parts.push(format!("liveness {l}"));
        used.push("liveness");
    }
    type Exact = fn(&Value) -> bool;
    let typed: [(&'static str, &str, Exact); 9] = [
        ("tolerations", "tolerations", kube_exact::<Vec<core::Toleration>>),
        ("affinity", "affinity", kube_exact::<core::Affinity>),
        ("securityContext", "security_context", kube_exact::<core::PodSecurityContext>),
        ("volumes", "volumes", kube_exact::<Vec<core::Volume>>),
        ("initContainers", "init_containers", kube_exact::<Vec<core::Container>>),
        ("sidecars", "sidecars", kube_exact::<Vec<core::Container>>),
        ("startupProbe", "startup_probe", kube_exact::<core::Probe>),
        ("autoScalingMetrics", "autoscaling_metrics", kube_exact::<Vec<hpa::MetricSpec>>),
        ("autoScalingBehavior", "autoscaling_behavior", kube_exact::<hpa::HorizontalPodAutoscalerBehavior>),
    ];
    for (k, mk, exact) in typed {
        if let Some(text) = p.get(k).filter(|v| exact(v)).and_then(kube_text) {
            parts.push(format!("{mk} = {text}"));
            used.push(k);
        }
    }
    if let Some(text) = p.get("vpa").filter(|v| !range && crate::check::pod::vpa_exact(v)).and_then(kube_text) {
        parts.push(format!("vpa = {text}"));
        used.push("vpa");
    }
    let mounts = spec.get("volumeMounts").filter(|v| kube_exact::<Vec<core::VolumeMount>>(v)).and_then(kube_text);
    if let Some(text) = mounts {
        parts.push(format!("volume_mounts = {text}"));
        spec.remove("volumeMounts");
    }
    if parts.is_empty() {
        return None;
    }
    remove_at(spec, &["pod"], &used);
    Some(format!("pod {{ {} }}", parts.join(", ")))
}

/// The builtin autoscaler rules as mesh's words, at most one per resource (E0413).
fn autoscaler(v: Option<&Value>) -> Option<Vec<&'static str>> {
    const RULES: [(&str, &str); 6] = [
        ("AverageUtilizationCPUPercent80", "cpu_80"),
        ("AverageUtilizationCPUPercent50", "cpu_50"),
        ("AverageUtilizationCPUPercent20", "cpu_20"),
        ("AverageUtilizationMemoryPercent80", "memory_80"),
        ("AverageUtilizationMemoryPercent50", "memory_50"),
        ("AverageUtilizationMemoryPercent20", "memory_20"),
    ];
    let words: Vec<&'static str> = v?
        .as_array()?
        .iter()
        .map(|r| RULES.iter().find(|(n, _)| Some(*n) == r.as_str()).map(|(_, w)| *w))
        .collect::<Option<_>>()?;
    let cpu = words.iter().filter(|w| w.starts_with("cpu")).count();
    (cpu <= 1 && words.len() - cpu <= 1).then_some(words)
}

/// `env { NAME = "value", KEY = secret("name", "key") }`: mesh writes those
/// two shapes, once per name.
fn env(v: Option<&Value>) -> Option<String> {
    let mut seen = std::collections::BTreeSet::new();
    let items: Option<Vec<String>> = v?
        .as_array()?
        .iter()
        .map(|e| {
            let o = e.as_object()?;
            let name = o.get("name")?.as_str()?;
            if !seen.insert(name) {
                return None;
            }
            let val = match (o.len(), o.get("value"), o.get("valueFrom")) {
                (2, Some(Value::String(s)), None) => quote(s),
                (2, None, Some(from)) => {
                    let r = from.as_object().filter(|f| f.len() == 1)?.get("secretKeyRef")?.as_object()?;
                    if r.len() != 2 {
                        return None;
                    }
                    secret_ref(r.get("name"), r.get("key"))?
                }
                _ => return None,
            };
            Some(format!("{} = {val}", key(name)))
        })
        .collect();
    Some(format!("{{ {} }}", items?.join(", ")))
}

/// `liveness { }`: periods in whole seconds, a success threshold of at most 1 (E0206).
fn liveness(v: Option<&Value>) -> Option<String> {
    let o = v?.as_object()?;
    let mut parts = Vec::new();
    for (k, v) in o {
        let part = match k.as_str() {
            "periodSeconds" => format!("period = {}s", int_in(Some(v), 0, I32)?),
            "initialDelaySeconds" => format!("initial_delay = {}s", int_in(Some(v), 0, I32)?),
            "successThreshold" => format!("success_threshold = {}", int_in(Some(v), 0, 1)?),
            "failureThreshold" => format!("failure_threshold = {}", int_in(Some(v), 0, I32)?),
            _ => return None,
        };
        parts.push(part);
    }
    Some(format!("{{ {} }}", parts.join(", ")))
}
