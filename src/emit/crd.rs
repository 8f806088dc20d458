//! The `crd` target: Function Mesh custom resources (one Function, Source or
//! Sink per component, or one FunctionMesh), plus a ConfigMap per cluster.

use super::types::*;
use super::{mesh_labels, Object};
use crate::ir::{self, Auth, ComponentKind, Program, Runtime, Tls};
use crate::schema::{Schema, SchemaKind};
use k8s_openapi::api::core::v1::{ConfigMap, ResourceRequirements};
use k8s_openapi::apimachinery::pkg::api::resource::Quantity;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use std::collections::BTreeMap;

#[derive(Clone, Copy, Debug, Default)]
pub struct CrdOptions {
    /// One FunctionMesh holding every component instead of one object each.
    pub mesh: bool,
}

pub fn emit(p: &Program, opts: CrdOptions) -> Vec<Object> {
    let mut out = cluster_config_maps(p);
    if !p.topics.is_empty() {
        out.push(topics_config_map(p));
    }
    if opts.mesh {
        let mut spec = MeshSpec::default();
        for comp in &p.components {
            let s = spec_json(p, comp, &comp.kube_name);
            match comp.kind {
                ComponentKind::Function => spec.functions.push(s),
                ComponentKind::Source => spec.sources.push(s),
                ComponentKind::Sink => spec.sinks.push(s),
            }
        }
        let cr = CustomResource {
            api_version: API_VERSION,
            kind: "FunctionMesh",
            metadata: meta(p, &p.mesh_name, &BTreeMap::new(), &BTreeMap::new()),
            spec,
        };
        out.push(Object::new(to_json(&cr)));
    } else {
        for comp in &p.components {
            let kind = match comp.kind {
                ComponentKind::Function => "Function",
                ComponentKind::Source => "Source",
                ComponentKind::Sink => "Sink",
            };
            let spec = spec_json(p, comp, &comp.pulsar_name);
            let cr = CustomResource {
                api_version: API_VERSION,
                kind,
                metadata: meta(p, &comp.kube_name, &comp.labels, &comp.annotations),
                spec,
            };
            out.push(Object::new(to_json(&cr)));
        }
    }
    out
}

/// A component's spec with its pass-through fields merged in.
fn spec_json(p: &Program, comp: &ir::Component, name: &str) -> serde_json::Value {
    let mut spec = to_json(&component_spec(p, comp, name));
    if let (Some(extra), Some(obj)) = (&comp.passthrough, spec.as_object_mut()) {
        for (k, v) in extra {
            merge(obj.entry(k.clone()).or_insert(serde_json::Value::Null), v);
        }
    }
    spec
}

/// Deep merge: objects key by key, anything else replaced.
fn merge(into: &mut serde_json::Value, from: &serde_json::Value) {
    match (into, from) {
        (serde_json::Value::Object(a), serde_json::Value::Object(b)) => {
            for (k, v) in b {
                merge(a.entry(k.clone()).or_insert(serde_json::Value::Null), v);
            }
        }
        (slot, v) => *slot = v.clone(),
    }
}

fn to_json<T: serde::Serialize>(v: &T) -> serde_json::Value {
    // Serialising these plain structs cannot fail: every map key is a string.
    serde_json::to_value(v).unwrap_or(serde_json::Value::Null)
}

fn meta(
    p: &Program,
    name: &str,
    labels: &BTreeMap<String, String>,
    annotations: &BTreeMap<String, String>,
) -> ObjectMeta {
    let mut all = mesh_labels(&p.mesh_name);
    all.extend(labels.iter().map(|(k, v)| (k.clone(), v.clone())));
    ObjectMeta {
        name: Some(name.to_string()),
        namespace: p.kube_namespace.clone(),
        labels: Some(all),
        annotations: (!annotations.is_empty()).then(|| annotations.clone()),
        ..ObjectMeta::default()
    }
}

/// One ConfigMap per cluster some component runs against (a profile may
/// switch clusters), shared by every target.
pub(crate) fn cluster_config_maps(p: &Program) -> Vec<Object> {
    p.clusters
        .iter()
        .enumerate()
        .filter(|(i, _)| p.components.iter().any(|c| c.cluster == *i))
        .map(|(_, c)| config_map(p, c))
        .collect()
}

fn config_map(p: &Program, c: &ir::Cluster) -> Object {
    let cm = ConfigMap {
        metadata: meta(p, &c.config_map, &BTreeMap::new(), &BTreeMap::new()),
        data: Some(BTreeMap::from([
            ("brokerServiceURL".to_string(), c.broker_service_url.clone()),
            ("webServiceURL".to_string(), c.web_service_url.clone()),
        ])),
        ..ConfigMap::default()
    };
    Object::new(to_json(&cm))
}

/// The registry snapshot: every topic with its schema and strategy, so a
/// later `mesh check --baseline BUNDLE` can tell what changed.
fn topics_config_map(p: &Program) -> Object {
    let json = crate::baseline::encode(&crate::baseline::records(p));
    let cm = ConfigMap {
        metadata: meta(p, &format!("{}-topics", p.mesh_name), &BTreeMap::new(), &BTreeMap::new()),
        data: Some(BTreeMap::from([(crate::baseline::TOPICS_KEY.to_string(), json)])),
        ..ConfigMap::default()
    };
    Object::new(to_json(&cm))
}

/// The schema type to write next to the class, or `None` where the runtime's
/// own discovery is right: raw bytes, generic records, key/value pairs, and
/// connectors whose record class is not the schema's own.
fn schema_type(s: &Schema, kind: ComponentKind) -> Option<String> {
    let generic =
        s.class_name.as_deref().is_none_or(|c| c == crate::schema::GENERIC_OBJECT || c.ends_with(".GenericRecord"));
    match &s.kind {
        SchemaKind::Primitive(crate::schema::Primitive::Bytes)
        | SchemaKind::AutoConsume
        | SchemaKind::KeyValue { .. } => None,
        SchemaKind::Primitive(p) if s.type_class_name() == p.java_class() => Some(s.schema_type().to_string()),
        SchemaKind::Primitive(_) => None,
        _ if kind == ComponentKind::Function && !generic => Some(s.schema_type().to_string()),
        _ => None,
    }
}

fn type_class(s: Option<&Schema>) -> String {
    s.map_or_else(|| "[B".to_string(), Schema::type_class_name)
}

fn crypto(c: &ir::Crypto, producer: bool) -> CryptoConfig {
    CryptoConfig {
        crypto_key_reader_class_name: c.key_reader_class.clone(),
        crypto_key_reader_config: c.key_reader_config.clone(),
        encryption_keys: c.encryption_keys.clone(),
        producer_crypto_failure_action: if producer { c.failure_action.clone() } else { None },
        consumer_crypto_failure_action: if producer { None } else { c.failure_action.clone() },
        crypto_secrets: c
            .secrets
            .iter()
            .map(|s| CryptoSecret {
                secret_name: s.secret.name.clone(),
                secret_key: s.secret.key.clone(),
                as_volume: s.mount_path.clone(),
            })
            .collect(),
    }
}

fn auth(a: &Auth) -> (Option<AuthConfig>, Option<String>) {
    match a {
        Auth::OAuth2 { issuer_url, audience, scope, key } => (
            Some(AuthConfig {
                oauth2_config: Some(OAuth2Config {
                    audience: audience.clone(),
                    issuer_url: issuer_url.clone(),
                    scope: scope.clone(),
                    key_secret_name: key.name.clone(),
                    key_secret_key: key.key.clone(),
                }),
                generic_auth: None,
            }),
            None,
        ),
        Auth::Generic { plugin, params } => (
            Some(AuthConfig {
                oauth2_config: None,
                generic_auth: Some(GenericAuth {
                    client_authentication_plugin: plugin.clone(),
                    client_authentication_parameters: params.clone(),
                }),
            }),
            None,
        ),
        Auth::Secret(name) => (None, Some(name.clone())),
    }
}

fn pulsar(c: &ir::Cluster) -> PulsarMessaging {
    let mut m = PulsarMessaging { pulsar_config: c.config_map.clone(), ..PulsarMessaging::default() };
    if let Some(a) = &c.auth {
        (m.auth_config, m.auth_secret) = auth(a);
    }
    if let Some(a) = &c.cleanup_auth {
        m.cleanup_auth_config = auth(a).0;
    }
    match &c.tls {
        Some(Tls::Config { enabled, allow_insecure, hostname_verification, ca }) => {
            m.tls_config = Some(TlsConfig {
                enabled: *enabled,
                allow_insecure: *allow_insecure,
                hostname_verification: *hostname_verification,
                cert_secret_name: ca.as_ref().map(|s| s.name.clone()),
                cert_secret_key: ca.as_ref().map(|s| s.key.clone()),
            })
        }
        Some(Tls::Secret(name)) => m.tls_secret = Some(name.clone()),
        None => {}
    }
    m
}

fn log(l: &ir::LogConfig) -> Option<RuntimeLogConfig> {
    (*l != ir::LogConfig::default()).then(|| RuntimeLogConfig {
        level: l.level.clone(),
        rotate_policy: l.rotate_policy.clone(),
        format: l.format.clone(),
        log_config: l.config_map.as_ref().map(|r| LogConfigRef { name: r.name.clone(), key: r.key.clone() }),
        java_log4j_config_file_type: l.java_config_type.clone(),
    })
}

fn quantities(m: &BTreeMap<String, String>) -> Option<BTreeMap<String, Quantity>> {
    (!m.is_empty()).then(|| m.iter().map(|(k, v)| (k.clone(), Quantity(v.clone()))).collect())
}

pub fn component_spec(p: &Program, comp: &ir::Component, name: &str) -> ComponentSpec {
    let topic = |t: usize| p.topics[t].full_name.clone();
    let kind = comp.kind;
    let cluster = &p.clusters[comp.cluster];
    let mut s = ComponentSpec {
        name: name.to_string(),
        class_name: comp.class_name.clone(),
        tenant: comp.tenant.clone(),
        namespace: comp.namespace.clone(),
        cluster_name: comp.cluster_name.clone(),
        image: comp.image.clone(),
        replicas: comp.replicas,
        min_replicas: comp.min_replicas,
        max_replicas: comp.max_replicas,
        show_precise_parallelism: comp.show_precise_parallelism.then_some(true),
        processing_guarantee: comp.guarantee.name(),
        resources: ResourceRequirements {
            requests: quantities(&comp.resources.requests),
            limits: quantities(&comp.resources.limits),
            ..ResourceRequirements::default()
        },
        pulsar: pulsar(cluster),
        pod: comp.pod.clone().filter(|p| p.as_object().is_some_and(|o| !o.is_empty())),
        volume_mounts: comp.volume_mounts.clone(),
        runtime_flags: comp.runtime_flags.clone(),
        ..ComponentSpec::default()
    };
    if kind != ComponentKind::Source {
        let mut input = InputConf { type_class_name: type_class(comp.input_schema.as_ref()), ..InputConf::default() };
        // A SerDe replaces the schema on its side of the edge.
        let consumer_schema = if comp.serde_in.is_some() {
            None
        } else {
            comp.input_schema.as_ref().and_then(|sc| schema_type(sc, kind))
        };
        for i in &comp.inputs {
            let t = &p.topics[i.topic];
            if t.pattern {
                input.topic_pattern = Some(t.full_name.clone());
            } else {
                input.topics.push(t.full_name.clone());
                if let Some(serde) = &comp.serde_in {
                    input.custom_serde_sources.insert(t.full_name.clone(), serde.clone());
                }
            }
            let spec = ConsumerConfig {
                schema_type: consumer_schema.clone(),
                is_regex_pattern: t.pattern.then_some(true),
                receiver_queue_size: i.receiver_queue_size,
                crypto_config: i.crypto.as_ref().map(|c| crypto(c, false)),
            };
            // A pattern only needs an entry when it carries settings; plain topics likewise.
            if spec.schema_type.is_some() || spec.receiver_queue_size.is_some() || spec.crypto_config.is_some() {
                input.source_specs.insert(t.full_name.clone(), spec);
            }
        }
        s.input = Some(input);
        s.auto_ack = Some(comp.auto_ack);
        s.max_message_retry = comp.max_retries;
        s.dead_letter_topic = comp.dead_letter.map(topic);
        s.timeout = comp.timeout_ms;
        s.retain_ordering = (comp.ordering == ir::Ordering::Retain).then_some(true);
        s.retain_key_ordering = (comp.ordering == ir::Ordering::RetainKey).then_some(true);
        s.subscription_name = comp.subscription_name.clone();
        s.subscription_position = comp.subscription_position.clone();
        s.cleanup_subscription = comp.cleanup_subscription.then_some(true);
    }
    if kind != ComponentKind::Sink {
        if let Some(t) = comp.output {
            let mut producer = comp.producer.as_ref().map(|pr| ProducerConfig {
                max_pending_messages: pr.max_pending_messages,
                max_pending_messages_across_partitions: pr.max_pending_messages_across_partitions,
                use_thread_local_producers: pr.use_thread_local_producers,
                batch_builder: pr.batch_builder.clone(),
                compression_type: pr.compression.clone(),
                crypto_config: pr.crypto.as_ref().map(|c| crypto(c, true)),
            });
            // The operator defaults a source's producer settings when none are given (reference 2.2).
            if kind == ComponentKind::Source && producer.is_none() {
                producer = Some(ProducerConfig {
                    max_pending_messages: Some(1000),
                    max_pending_messages_across_partitions: Some(1000),
                    use_thread_local_producers: Some(true),
                    ..ProducerConfig::default()
                });
            }
            s.output = Some(OutputConf {
                topic: topic(t),
                type_class_name: type_class(comp.output_schema.as_ref()),
                sink_serde_class_name: comp.serde_out.clone(),
                sink_schema_type: if comp.serde_out.is_some() {
                    None
                } else {
                    comp.output_schema.as_ref().and_then(|sc| schema_type(sc, kind))
                },
                producer_conf: producer,
            });
        }
        s.forward_source_message_property = Some(comp.forward_source_message_property);
    }
    if kind == ComponentKind::Sink {
        s.negative_ack_redelivery_delay_ms = comp.negative_ack_redelivery_delay_ms;
    }
    s.log_topic = comp.log_topic.map(topic);
    if s.log_topic.is_some() {
        let default_agent = if kind == ComponentKind::Function { "runtime" } else { "sidecar" };
        s.log_topic_agent = Some(comp.log_agent.clone().unwrap_or_else(|| default_agent.to_string()));
    } else {
        s.log_topic_agent = comp.log_agent.clone();
    }
    if !comp.secrets.is_empty() {
        s.secrets_map = Some(
            comp.secrets
                .iter()
                .map(|(k, v)| (k.clone(), SecretRef { path: v.name.clone(), key: v.key.clone() }))
                .collect(),
        );
    }
    match kind {
        ComponentKind::Function => {
            s.max_pending_async_requests = comp.max_pending_async_requests;
            s.skip_to_latest = comp.skip_to_latest.then_some(true);
            s.func_config = comp.config.clone();
            s.window_config = comp.window.as_ref().map(|w| WindowConfig {
                actual_window_function_class_name: comp.class_name.clone().unwrap_or_default(),
                window_length_count: w.length_count,
                window_length_duration_ms: w.length_ms,
                sliding_interval_count: w.slide_count,
                // The operator copies the length for a duration window without a slide.
                sliding_interval_duration_ms: w.slide_ms.or(w.length_ms),
                late_data_topic: w.late_data_topic.map(topic),
                max_lag_ms: w.max_lag_ms,
                watermark_emit_interval_ms: w.watermark_interval_ms,
                timestamp_extractor_class_name: w.timestamp_extractor.clone(),
                processing_guarantees: w.guarantee.clone(),
            });
        }
        ComponentKind::Source => {
            s.source_config = Some(comp.config.clone().unwrap_or_else(|| serde_json::json!({})));
            s.batch_source_config = comp.batch_source.as_ref().map(|(class, cfg)| BatchSourceConfig {
                discovery_triggerer_class_name: class.clone(),
                discovery_triggerer_config: cfg.clone(),
            });
        }
        ComponentKind::Sink => s.sink_config = Some(comp.config.clone().unwrap_or_else(|| serde_json::json!({}))),
    }
    s.stateful_config = comp.state.as_ref().map(|st| StatefulConfig {
        pulsar: StatefulPulsar {
            service_url: st.service_url.clone(),
            java_provider: st.provider_class.as_ref().map(|c| JavaProvider { class_name: c.clone() }),
        },
    });
    let log = log(&comp.log);
    match &comp.runtime {
        Runtime::Java { jar, location, extra_dependencies_dir, java_opts } => {
            s.java = Some(JavaRuntime {
                jar: jar.clone(),
                jar_location: location.clone(),
                extra_dependencies_dir: extra_dependencies_dir.clone(),
                log,
                java_opts: java_opts.clone(),
            })
        }
        Runtime::Python { py, location } => {
            s.python = Some(PythonRuntime { py: py.clone(), py_location: location.clone(), log })
        }
        Runtime::Go { go, location } => {
            s.golang = Some(GoRuntime { go: go.clone(), go_location: location.clone(), log })
        }
        Runtime::Generic { function_file, language, location } => {
            s.generic_runtime = Some(GenericRuntime {
                function_file: function_file.clone(),
                language: language.clone(),
                function_file_location: location.clone(),
            })
        }
    }
    s
}
