//! The Pipeline IR: the checked program as a typed graph with every default
//! applied. Nothing after `check` looks at syntax; nothing before it knows
//! about Kubernetes objects.

use crate::schema::Schema;
use crate::source::Span;
use std::collections::BTreeMap;

pub use crate::syntax::ast::ComponentKind;

#[derive(Clone, Debug, Default)]
pub struct Program {
    pub clusters: Vec<Cluster>,
    pub topics: Vec<Topic>,
    pub components: Vec<Component>,
    /// Name of the FunctionMesh object for `--mesh`: the pipeline's name when
    /// there is one pipeline, else taken from `defaults { mesh = ... }`.
    pub mesh_name: String,
    /// The Kubernetes namespace of every object, when the program sets one.
    pub kube_namespace: Option<String>,
}

pub type TopicId = usize;
pub type ClusterId = usize;

/// A `pulsar` block: one ConfigMap plus the auth and TLS references every
/// component that uses it carries.
#[derive(Clone, Debug, PartialEq)]
pub struct Cluster {
    pub name: String,
    pub config_map: String,
    pub web_service_url: String,
    pub broker_service_url: String,
    pub auth: Option<Auth>,
    pub cleanup_auth: Option<Auth>,
    pub tls: Option<Tls>,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct SecretRef {
    pub name: String,
    pub key: String,
}

#[derive(Clone, Debug, PartialEq)]
pub enum Auth {
    OAuth2 {
        issuer_url: String,
        audience: String,
        scope: Option<String>,
        key: SecretRef,
    },
    /// A client authentication plugin and its parameters (`genericAuth`).
    Generic {
        plugin: String,
        params: String,
    },
    /// A Secret holding `clientAuthenticationPlugin` / `clientAuthenticationParameters`, imported as env.
    Secret(String),
}

#[derive(Clone, Debug, PartialEq)]
pub enum Tls {
    Config {
        enabled: bool,
        allow_insecure: bool,
        hostname_verification: bool,
        ca: Option<SecretRef>,
    },
    /// A Secret holding the legacy TLS keys, imported as env.
    Secret(String),
}

#[derive(Clone, Debug)]
pub struct Topic {
    pub name: String,
    /// `persistent://tenant/namespace/name`, or the regex for a pattern topic.
    pub full_name: String,
    pub schema: Schema,
    pub compat: Compat,
    pub history: Vec<Schema>,
    pub external: bool,
    pub pattern: bool,
    pub span: Span,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Compat {
    AlwaysCompatible,
    AlwaysIncompatible,
    Backward,
    Forward,
    Full,
    BackwardTransitive,
    ForwardTransitive,
    FullTransitive,
}

impl Compat {
    pub const ALL: [(&'static str, Compat); 8] = [
        ("always_compatible", Compat::AlwaysCompatible),
        ("always_incompatible", Compat::AlwaysIncompatible),
        ("backward", Compat::Backward),
        ("forward", Compat::Forward),
        ("full", Compat::Full),
        ("backward_transitive", Compat::BackwardTransitive),
        ("forward_transitive", Compat::ForwardTransitive),
        ("full_transitive", Compat::FullTransitive),
    ];
    pub fn name(self) -> &'static str {
        Compat::ALL.iter().find(|(_, c)| *c == self).map_or("full", |(n, _)| n)
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Guarantee {
    AtleastOnce,
    AtmostOnce,
    EffectivelyOnce,
    Manual,
}

impl Guarantee {
    pub const ALL: [(&'static str, Guarantee); 4] = [
        ("atleast_once", Guarantee::AtleastOnce),
        ("atmost_once", Guarantee::AtmostOnce),
        ("effectively_once", Guarantee::EffectivelyOnce),
        ("manual", Guarantee::Manual),
    ];
    pub fn name(self) -> &'static str {
        Guarantee::ALL.iter().find(|(_, g)| *g == self).map_or("atleast_once", |(n, _)| n)
    }
}

/// How a component's code is run and where it comes from.
#[derive(Clone, Debug, PartialEq)]
pub enum Runtime {
    Java { jar: String, location: Option<String>, extra_dependencies_dir: Option<String>, java_opts: Vec<String> },
    Python { py: String, location: Option<String> },
    Go { go: String, location: Option<String> },
    Generic { function_file: String, language: String, location: Option<String> },
}

impl Runtime {
    pub fn name(&self) -> &'static str {
        match self {
            Runtime::Java { .. } => "java",
            Runtime::Python { .. } => "python",
            Runtime::Go { .. } => "go",
            Runtime::Generic { .. } => "generic",
        }
    }
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct LogConfig {
    pub level: Option<String>,
    pub format: Option<String>,
    pub rotate_policy: Option<String>,
    /// A ConfigMap name and key holding a complete log configuration.
    pub config_map: Option<SecretRef>,
    pub java_config_type: Option<String>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Resources {
    pub requests: BTreeMap<String, String>,
    pub limits: BTreeMap<String, String>,
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct Window {
    pub length_count: Option<i64>,
    pub length_ms: Option<i64>,
    pub slide_count: Option<i64>,
    pub slide_ms: Option<i64>,
    pub late_data_topic: Option<TopicId>,
    pub max_lag_ms: Option<i64>,
    pub watermark_interval_ms: Option<i64>,
    pub timestamp_extractor: Option<String>,
    pub guarantee: Option<String>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct State {
    pub service_url: String,
    pub provider_class: Option<String>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Ordering {
    Unordered,
    /// Failover subscription: messages in order per partition.
    Retain,
    /// Key_Shared subscription: messages in order per key.
    RetainKey,
}

/// Crypto settings of one consumer or producer.
#[derive(Clone, Debug, PartialEq)]
pub struct Crypto {
    pub key_reader_class: String,
    pub key_reader_config: BTreeMap<String, String>,
    pub encryption_keys: Vec<String>,
    pub failure_action: Option<String>,
    pub secrets: Vec<CryptoSecret>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct CryptoSecret {
    pub secret: SecretRef,
    pub mount_path: Option<String>,
}

/// What a component reads, with the schema it reads with.
#[derive(Clone, Debug, PartialEq)]
pub struct Input {
    pub topic: TopicId,
    pub receiver_queue_size: Option<i64>,
    pub crypto: Option<Crypto>,
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct Producer {
    pub max_pending_messages: Option<i64>,
    pub max_pending_messages_across_partitions: Option<i64>,
    pub use_thread_local_producers: Option<bool>,
    pub batch_builder: Option<String>,
    pub compression: Option<String>,
    pub crypto: Option<Crypto>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Component {
    pub kind: ComponentKind,
    /// The declared name, for messages.
    pub name: String,
    /// `metadata.name` of the custom resource.
    pub kube_name: String,
    /// The Pulsar-level name (`spec.name`).
    pub pulsar_name: String,
    pub span: Span,
    pub cluster: ClusterId,
    pub tenant: String,
    pub namespace: String,
    pub cluster_name: String,
    pub runtime: Runtime,
    pub class_name: Option<String>,
    pub image: Option<String>,
    pub inputs: Vec<Input>,
    pub output: Option<TopicId>,
    /// The schema the component reads (functions and sinks) and writes (functions and sources).
    pub input_schema: Option<Schema>,
    pub output_schema: Option<Schema>,
    pub replicas: i64,
    pub min_replicas: i64,
    pub max_replicas: Option<i64>,
    pub show_precise_parallelism: bool,
    pub guarantee: Guarantee,
    pub auto_ack: bool,
    pub max_retries: Option<i64>,
    pub dead_letter: Option<TopicId>,
    pub timeout_ms: Option<i64>,
    pub negative_ack_redelivery_delay_ms: Option<i64>,
    pub subscription_name: Option<String>,
    pub subscription_position: Option<String>,
    pub ordering: Ordering,
    pub skip_to_latest: bool,
    pub cleanup_subscription: bool,
    pub forward_source_message_property: bool,
    pub max_pending_async_requests: Option<i64>,
    pub log_topic: Option<TopicId>,
    pub log_agent: Option<String>,
    pub log: LogConfig,
    /// funcConfig, sourceConfig or sinkConfig: free-form JSON.
    pub config: Option<serde_json::Value>,
    pub secrets: BTreeMap<String, SecretRef>,
    pub window: Option<Window>,
    pub state: Option<State>,
    pub resources: Resources,
    pub producer: Option<Producer>,
    /// SerDe classes that (de)serialise messages instead of a schema; the
    /// registry then sees raw bytes.
    pub serde_in: Option<String>,
    pub serde_out: Option<String>,
    pub batch_source: Option<(String, Option<serde_json::Value>)>,
    pub runtime_flags: Option<String>,
    /// PodPolicy and volume mounts, already in the CRD's shape.
    pub pod: Option<serde_json::Value>,
    pub volume_mounts: Option<serde_json::Value>,
    pub labels: BTreeMap<String, String>,
    pub annotations: BTreeMap<String, String>,
    /// `passthrough { ... }`: CRD spec fields mesh has no syntax for, merged
    /// into the emitted spec as written.
    pub passthrough: Option<serde_json::Map<String, serde_json::Value>>,
}
