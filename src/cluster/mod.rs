//! Reaching a cluster: `mesh apply`, `mesh diff`, readiness waits and the
//! sync controller. Everything here talks to the API server through the kube
//! crate; every failure becomes a [`ClusterError`] (exit code 3).

pub mod apply;
pub mod controller;
pub mod diff;
pub mod inventory;
pub mod plan;
pub mod wait;

use kube::api::{Api, ApiResource, DynamicObject};
use kube::config::{KubeConfigOptions, Kubeconfig};
use std::fmt;
use std::time::Duration;

/// The field manager of every write mesh makes.
pub const FIELD_MANAGER: &str = "mesh";

/// Something went wrong between mesh and the cluster. Printed as is.
#[derive(Debug, Clone, PartialEq)]
pub struct ClusterError(pub String);

impl fmt::Display for ClusterError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for ClusterError {}

/// How to reach the cluster, from the command line.
#[derive(Clone, Debug, Default)]
pub struct Access {
    pub context: Option<String>,
    pub namespace: Option<String>,
    /// Per-request timeout; a request that takes longer fails.
    pub request_timeout: Option<Duration>,
}

/// A connected client and the namespace the bundle goes to.
#[derive(Clone)]
pub struct Target {
    pub client: kube::Client,
    pub namespace: String,
    /// The API server's address, for messages.
    pub server: String,
}

/// The namespace objects go to: `-n`, else the namespace the program sets,
/// else the kubeconfig context's, else `default`.
pub fn choose_namespace(flag: Option<&str>, program: Option<&str>, context: &str) -> String {
    flag.or(program).unwrap_or(context).to_string()
}

/// Connects with the kubeconfig (`KUBECONFIG` or `~/.kube/config`) or, inside a
/// pod without one, the in-cluster service account.
pub async fn connect(access: &Access) -> Result<Connection, ClusterError> {
    // Fails only when a provider is already installed, which is as good.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let options = KubeConfigOptions { context: access.context.clone(), ..Default::default() };
    let mut config = match kube::Config::from_kubeconfig(&options).await {
        Ok(c) => c,
        Err(kube_err) => {
            if access.context.is_some() || kubeconfig_present() {
                return Err(ClusterError(format!("cannot use the kubeconfig: {kube_err}")));
            }
            kube::Config::incluster().map_err(|e| {
                ClusterError(format!(
                    "no cluster configured: no kubeconfig found (set KUBECONFIG or create ~/.kube/config) and not \
                     running in a pod ({e})"
                ))
            })?
        }
    };
    if let Some(t) = access.request_timeout {
        config.connect_timeout = Some(t);
        config.read_timeout = Some(t);
        config.write_timeout = Some(t);
    }
    let namespace = config.default_namespace.clone();
    let server = config.cluster_url.to_string();
    let client = kube::Client::try_from(config).map_err(|e| ClusterError(format!("cannot set up the client: {e}")))?;
    Ok(Connection { client, namespace, server })
}

/// A client, the kubeconfig context's namespace and the server address.
pub struct Connection {
    pub client: kube::Client,
    pub namespace: String,
    pub server: String,
}

impl Connection {
    /// The target for a namespace chosen by [`choose_namespace`].
    pub fn target(self, namespace: String) -> Target {
        Target { client: self.client, namespace, server: self.server }
    }
}

fn kubeconfig_present() -> bool {
    std::env::var_os("KUBECONFIG").is_some_and(|v| !v.is_empty()) || Kubeconfig::read().is_ok()
}

/// The REST resource of a kind mesh writes. Kinds are a closed set: what the
/// emitters and the controller manifests produce.
pub fn resource_of(api_version: &str, kind: &str) -> Option<ApiResource> {
    let plural = match kind {
        "ConfigMap" => "configmaps",
        "Secret" => "secrets",
        "Service" => "services",
        "ServiceAccount" => "serviceaccounts",
        "StatefulSet" => "statefulsets",
        "Deployment" => "deployments",
        "HorizontalPodAutoscaler" => "horizontalpodautoscalers",
        "VerticalPodAutoscaler" => "verticalpodautoscalers",
        "Role" => "roles",
        "RoleBinding" => "rolebindings",
        "Job" => "jobs",
        "Event" => "events",
        "Namespace" => "namespaces",
        "Function" => "functions",
        "Source" => "sources",
        "Sink" => "sinks",
        "FunctionMesh" => "functionmeshes",
        _ => return None,
    };
    let (group, version) = match api_version.split_once('/') {
        Some((g, v)) => (g, v),
        None => ("", api_version),
    };
    Some(ApiResource {
        group: group.to_string(),
        version: version.to_string(),
        api_version: api_version.to_string(),
        kind: kind.to_string(),
        plural: plural.to_string(),
    })
}

/// The `(apiVersion, kind)` of every object.
pub fn kinds_of(objects: &[serde_json::Value]) -> Vec<(String, String)> {
    let s =
        |o: &serde_json::Value, k: &str| o.get(k).and_then(serde_json::Value::as_str).unwrap_or_default().to_string();
    objects.iter().map(|o| (s(o, "apiVersion"), s(o, "kind"))).collect()
}

/// [`resource_of`] for objects mesh is about to send, where an unknown kind is the user's problem to read.
pub fn resource(api_version: &str, kind: &str) -> Result<ApiResource, ClusterError> {
    resource_of(api_version, kind)
        .ok_or_else(|| ClusterError(format!("mesh does not know how to apply {api_version} {kind} objects")))
}

/// `kind.group` as kubectl writes group-kinds (`Function.compute.functionmesh.io`, `ConfigMap`).
pub fn group_kind(api_version: &str, kind: &str) -> String {
    match api_version.split_once('/') {
        Some((group, _)) => format!("{kind}.{group}"),
        None => kind.to_string(),
    }
}

/// The preferred API version of a group-kind mesh knows, the inverse of [`group_kind`].
pub fn api_version_of(group_kind: &str) -> Option<(String, String)> {
    let (kind, group) = group_kind.split_once('.').unwrap_or((group_kind, ""));
    let version = match group {
        "" => "v1",
        "apps" | "rbac.authorization.k8s.io" | "batch" | "autoscaling.k8s.io" => "v1",
        "autoscaling" => "v2",
        "compute.functionmesh.io" => "v1alpha1",
        _ => return None,
    };
    let api_version = if group.is_empty() { version.to_string() } else { format!("{group}/{version}") };
    resource_of(&api_version, kind).map(|_| (api_version, kind.to_string()))
}

pub fn api(target: &Target, resource: &ApiResource) -> Api<DynamicObject> {
    Api::namespaced_with(target.client.clone(), &target.namespace, resource)
}

/// Says what went wrong in words a user can act on.
pub fn describe(err: &kube::Error) -> String {
    match err {
        kube::Error::Api(status) => {
            let causes: Vec<String> =
                status
                    .details
                    .as_ref()
                    .map(|d| {
                        d.causes
                            .iter()
                            .map(|c| {
                                if c.field.is_empty() {
                                    c.message.clone()
                                } else {
                                    format!("{}: {}", c.field, c.message)
                                }
                            })
                            .collect()
                    })
                    .unwrap_or_default();
            let mut text = match status.code {
                401 => "the cluster refused the credentials (401 Unauthorized)".to_string(),
                403 => format!("permission denied (403 Forbidden): {}", status.message),
                _ if status.message.is_empty() => format!("the API server answered {}", status.code),
                code => format!("{} ({code} {})", status.message, status.reason),
            };
            if !causes.is_empty() {
                text.push_str(&format!(" [{}]", causes.join("; ")));
            }
            text
        }
        kube::Error::HyperError(e) => format!("connection failed: {e}"),
        kube::Error::Service(e) => {
            let mut text = e.to_string();
            let mut source = e.source();
            while let Some(s) = source {
                text.push_str(&format!(": {s}"));
                source = s.source();
            }
            if text.contains("elapsed") || text.contains("timed out") {
                format!("the request timed out ({text})")
            } else {
                format!("cannot reach the cluster: {text}")
            }
        }
        other => other.to_string(),
    }
}

pub fn status_code(err: &kube::Error) -> Option<u16> {
    match err {
        kube::Error::Api(s) => Some(s.code),
        _ => None,
    }
}

/// Fails early, with the reason, when the namespace is missing (or creates it),
/// or when the bundle has Function Mesh kinds and the cluster lacks their CRDs.
pub async fn preflight(
    target: &Target,
    kinds: &[(String, String)],
    create_namespace: bool,
) -> Result<(), ClusterError> {
    let namespaces: Api<DynamicObject> = Api::all_with(target.client.clone(), &resource("v1", "Namespace")?);
    match namespaces.get(&target.namespace).await {
        Ok(_) => {}
        Err(e) if is_not_found(&e, "namespaces", &target.namespace) => {
            if !create_namespace {
                return Err(ClusterError(format!(
                    "namespace `{}` does not exist; create it, choose another with -n, or pass --create-namespace",
                    target.namespace
                )));
            }
            let ns =
                serde_json::json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": target.namespace}});
            let params = kube::api::PatchParams::apply(FIELD_MANAGER);
            namespaces.patch(&target.namespace, &params, &kube::api::Patch::Apply(&ns)).await.map_err(|e| {
                ClusterError(format!("cannot create namespace `{}`: {}", target.namespace, describe(&e)))
            })?;
        }
        Err(e) if unreachable_or_refused(&e) => {
            return Err(ClusterError(format!("{} (API server {})", describe(&e), target.server)))
        }
        // Anything else (a namespaced service account may not read namespaces, say) does not settle
        // whether the namespace exists; the writes that follow will tell.
        Err(_) => {}
    }
    let needed: Vec<&str> = kinds
        .iter()
        .filter(|(api_version, _)| api_version.starts_with("compute.functionmesh.io/"))
        .map(|(_, kind)| kind.as_str())
        .collect();
    if needed.is_empty() {
        return Ok(());
    }
    let mut missing = Vec::new();
    let served = served_resources(&target.client, crate::emit::types::API_VERSION).await?;
    for resource in needed.iter().filter_map(|k| resource_of(crate::emit::types::API_VERSION, k)) {
        let present = match &served {
            Some(list) => list.contains(&resource.plural),
            // Without discovery, listing the resource says whether it is served.
            None => match api(target, &resource).list(&kube::api::ListParams::default().limit(1)).await {
                Err(e) if status_code(&e) == Some(404) => false,
                Err(e) if unreachable_or_refused(&e) => return Err(ClusterError(describe(&e))),
                _ => true,
            },
        };
        if !present {
            missing.push(format!("{}.compute.functionmesh.io", resource.plural));
        }
    }
    missing.sort();
    missing.dedup();
    if missing.is_empty() {
        Ok(())
    } else {
        Err(ClusterError(format!(
            "the Function Mesh CRDs are not installed in this cluster (missing: {}); install the Function Mesh \
             operator, or compile for plain Kubernetes with `--target workloads`",
            missing.join(", ")
        )))
    }
}

/// The API server's own "not found" for one object: a 404 naming it, not a
/// 404 for a path the server does not serve.
fn is_not_found(err: &kube::Error, plural: &str, name: &str) -> bool {
    let kube::Error::Api(status) = err else { return false };
    status.code == 404
        && (status.details.as_ref().is_some_and(|d| d.kind == plural && d.name == name)
            || status.message == format!("{plural} \"{name}\" not found"))
}

/// Errors that end the command whatever it was doing: no connection, a
/// timeout, refused credentials.
fn unreachable_or_refused(err: &kube::Error) -> bool {
    match err {
        kube::Error::Api(status) => status.code == 401,
        kube::Error::HyperError(_) | kube::Error::Service(_) => true,
        _ => false,
    }
}

/// The resource names the API server serves for a group version: `Some(empty)`
/// when it says it serves none; `None` when discovery gives no answer.
async fn served_resources(client: &kube::Client, group_version: &str) -> Result<Option<Vec<String>>, ClusterError> {
    match client.list_api_group_resources(group_version).await {
        Ok(list) => Ok(Some(list.resources.into_iter().map(|r| r.name).collect())),
        Err(e) if unreachable_or_refused(&e) => Err(ClusterError(describe(&e))),
        Err(_) => Ok(None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn group_kinds_round_trip() {
        for (api_version, kind) in [
            ("v1", "ConfigMap"),
            ("apps/v1", "StatefulSet"),
            ("autoscaling/v2", "HorizontalPodAutoscaler"),
            ("compute.functionmesh.io/v1alpha1", "Function"),
        ] {
            let gk = group_kind(api_version, kind);
            assert_eq!(api_version_of(&gk), Some((api_version.to_string(), kind.to_string())), "{gk}");
        }
        assert_eq!(group_kind("compute.functionmesh.io/v1alpha1", "Sink"), "Sink.compute.functionmesh.io");
        assert_eq!(api_version_of("Widget.example.com"), None);
    }

    #[test]
    fn namespace_precedence() {
        assert_eq!(choose_namespace(Some("a"), Some("b"), "c"), "a");
        assert_eq!(choose_namespace(None, Some("b"), "c"), "b");
        assert_eq!(choose_namespace(None, None, "c"), "c");
    }
}
