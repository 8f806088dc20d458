//! The Function Mesh custom resource types (`compute.functionmesh.io/v1alpha1`),
//! as far as mesh writes them. Field order is the order of the output.

use k8s_openapi::api::core::v1::ResourceRequirements;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use serde::Serialize;
use serde_json::Value as Json;
use std::collections::BTreeMap;

pub const API_VERSION: &str = "compute.functionmesh.io/v1alpha1";

#[derive(Serialize, Clone, Debug)]
#[serde(rename_all = "camelCase")]
pub struct CustomResource<S> {
    pub api_version: &'static str,
    pub kind: &'static str,
    pub metadata: ObjectMeta,
    pub spec: S,
}

/// The spec of a Function, Source or Sink, and of a FunctionMesh item.
/// Fields a kind does not have stay `None`.
#[derive(Serialize, Clone, Debug, Default)]
#[serde(rename_all = "camelCase")]
pub struct ComponentSpec {
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub class_name: Option<String>,
    pub tenant: String,
    pub namespace: String,
    pub cluster_name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub image: Option<String>,
    pub replicas: i64,
    pub min_replicas: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_replicas: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub show_precise_parallelism: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub input: Option<InputConf>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub output: Option<OutputConf>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub log_topic: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub log_topic_agent: Option<String>,
    pub processing_guarantee: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub auto_ack: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_message_retry: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dead_letter_topic: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub timeout: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub negative_ack_redelivery_delay_ms: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub retain_ordering: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub retain_key_ordering: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub subscription_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub subscription_position: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cleanup_subscription: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub skip_to_latest: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub forward_source_message_property: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_pending_async_requests: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub func_config: Option<Json>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source_config: Option<Json>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sink_config: Option<Json>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub batch_source_config: Option<BatchSourceConfig>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub secrets_map: Option<BTreeMap<String, SecretRef>>,
    pub resources: ResourceRequirements,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub window_config: Option<WindowConfig>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stateful_config: Option<StatefulConfig>,
    pub pulsar: PulsarMessaging,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub java: Option<JavaRuntime>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub python: Option<PythonRuntime>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub golang: Option<GoRuntime>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub generic_runtime: Option<GenericRuntime>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pod: Option<Json>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub volume_mounts: Option<Json>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub runtime_flags: Option<String>,
}

#[derive(Serialize, Clone, Debug, Default)]
#[serde(rename_all = "camelCase")]
pub struct InputConf {
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub topics: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub topic_pattern: Option<String>,
    pub type_class_name: String,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub custom_serde_sources: BTreeMap<String, String>,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub source_specs: BTreeMap<String, ConsumerConfig>,
}

#[derive(Serialize, Clone, Debug, Default)]
#[serde(rename_all = "camelCase")]
pub struct ConsumerConfig {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub schema_type: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub is_regex_pattern: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub receiver_queue_size: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub crypto_config: Option<CryptoConfig>,
}

#[derive(Serialize, Clone, Debug, Default)]
#[serde(rename_all = "camelCase")]
pub struct OutputConf {
    pub topic: String,
    pub type_class_name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sink_serde_class_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sink_schema_type: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub producer_conf: Option<ProducerConfig>,
}

#[derive(Serialize, Clone, Debug, Default)]
#[serde(rename_all = "camelCase")]
pub struct ProducerConfig {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_pending_messages: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_pending_messages_across_partitions: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub use_thread_local_producers: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub batch_builder: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub compression_type: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub crypto_config: Option<CryptoConfig>,
}

#[derive(Serialize, Clone, Debug, Default)]
#[serde(rename_all = "camelCase")]
pub struct CryptoConfig {
    pub crypto_key_reader_class_name: String,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub crypto_key_reader_config: BTreeMap<String, String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub encryption_keys: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub producer_crypto_failure_action: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub consumer_crypto_failure_action: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub crypto_secrets: Vec<CryptoSecret>,
}

#[derive(Serialize, Clone, Debug)]
#[serde(rename_all = "camelCase")]
pub struct CryptoSecret {
    pub secret_name: String,
    pub secret_key: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub as_volume: Option<String>,
}

#[derive(Serialize, Clone, Debug)]
pub struct SecretRef {
    pub path: String,
    pub key: String,
}

#[derive(Serialize, Clone, Debug)]
#[serde(rename_all = "camelCase")]
pub struct BatchSourceConfig {
    pub discovery_triggerer_class_name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub discovery_triggerer_config: Option<Json>,
}

#[derive(Serialize, Clone, Debug, Default)]
#[serde(rename_all = "camelCase")]
pub struct WindowConfig {
    pub actual_window_function_class_name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub window_length_count: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub window_length_duration_ms: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sliding_interval_count: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sliding_interval_duration_ms: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub late_data_topic: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_lag_ms: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub watermark_emit_interval_ms: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub timestamp_extractor_class_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub processing_guarantees: Option<String>,
}

#[derive(Serialize, Clone, Debug)]
pub struct StatefulConfig {
    pub pulsar: StatefulPulsar,
}

#[derive(Serialize, Clone, Debug)]
#[serde(rename_all = "camelCase")]
pub struct StatefulPulsar {
    pub service_url: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub java_provider: Option<JavaProvider>,
}

#[derive(Serialize, Clone, Debug)]
#[serde(rename_all = "camelCase")]
pub struct JavaProvider {
    pub class_name: String,
}

#[derive(Serialize, Clone, Debug, Default)]
#[serde(rename_all = "camelCase")]
pub struct PulsarMessaging {
    pub pulsar_config: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub auth_secret: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tls_secret: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tls_config: Option<TlsConfig>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub auth_config: Option<AuthConfig>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cleanup_auth_config: Option<AuthConfig>,
}

#[derive(Serialize, Clone, Debug, Default)]
#[serde(rename_all = "camelCase")]
pub struct TlsConfig {
    pub enabled: bool,
    pub allow_insecure: bool,
    pub hostname_verification: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cert_secret_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cert_secret_key: Option<String>,
}

#[derive(Serialize, Clone, Debug, Default)]
#[serde(rename_all = "camelCase")]
pub struct AuthConfig {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub oauth2_config: Option<OAuth2Config>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub generic_auth: Option<GenericAuth>,
}

#[derive(Serialize, Clone, Debug)]
#[serde(rename_all = "camelCase")]
pub struct OAuth2Config {
    pub audience: String,
    pub issuer_url: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scope: Option<String>,
    pub key_secret_name: String,
    pub key_secret_key: String,
}

#[derive(Serialize, Clone, Debug)]
#[serde(rename_all = "camelCase")]
pub struct GenericAuth {
    pub client_authentication_plugin: String,
    pub client_authentication_parameters: String,
}

#[derive(Serialize, Clone, Debug, Default)]
#[serde(rename_all = "camelCase")]
pub struct RuntimeLogConfig {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub level: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rotate_policy: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub format: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub log_config: Option<LogConfigRef>,
    #[serde(rename = "javaLog4JConfigFileType", skip_serializing_if = "Option::is_none")]
    pub java_log4j_config_file_type: Option<String>,
}

#[derive(Serialize, Clone, Debug)]
pub struct LogConfigRef {
    pub name: String,
    pub key: String,
}

#[derive(Serialize, Clone, Debug, Default)]
#[serde(rename_all = "camelCase")]
pub struct JavaRuntime {
    pub jar: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub jar_location: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub extra_dependencies_dir: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub log: Option<RuntimeLogConfig>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub java_opts: Vec<String>,
}

#[derive(Serialize, Clone, Debug, Default)]
#[serde(rename_all = "camelCase")]
pub struct PythonRuntime {
    pub py: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub py_location: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub log: Option<RuntimeLogConfig>,
}

#[derive(Serialize, Clone, Debug, Default)]
#[serde(rename_all = "camelCase")]
pub struct GoRuntime {
    pub go: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub go_location: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub log: Option<RuntimeLogConfig>,
}

#[derive(Serialize, Clone, Debug, Default)]
#[serde(rename_all = "camelCase")]
pub struct GenericRuntime {
    pub function_file: String,
    pub language: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub function_file_location: Option<String>,
}

/// The items are specs already serialised, with pass-through fields merged in.
#[derive(Serialize, Clone, Debug, Default)]
pub struct MeshSpec {
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub functions: Vec<Json>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub sources: Vec<Json>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub sinks: Vec<Json>,
}
