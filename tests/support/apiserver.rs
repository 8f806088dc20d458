//! An in-memory Kubernetes API server served over HTTP/1.1 on 127.0.0.1, for tests that must reach a
//! cluster the way the product does: through a kubeconfig, a `kube::Client` and real sockets.
//!
//! Storage, resource versions, status subresources and field-manager bookkeeping come from
//! `kube-fake-client`. That crate answers requests given to a `kube::Client` in-process; this module puts
//! it behind a socket and fills what it leaves out:
//!
//! - discovery (`/api`, `/apis`, `/api/v1`, `/apis/GROUP/VERSION`, aggregated discovery, `/version`);
//! - the `/api/v1/namespaces[/NAME]` paths, which the fake's router cannot parse (they are served by
//!   registering Namespace a second time under a private plural), and 404 for writes into a namespace
//!   that does not exist;
//! - the Function Mesh custom resources, present or absent;
//! - dry runs (the fake ignores `dryRun`): the request runs against a scratch fake seeded with the live
//!   object, and nothing is stored;
//! - server-side apply closer to a real server: conflicts only where another manager owns a field *and*
//!   the values differ (equal values are shared), `Apply failed with N conflicts` messages with causes,
//!   removal of fields a manager stopped applying (when nobody else owns them), and no write at all when
//!   an apply changes nothing;
//! - lists in a stable order with working `limit`/`continue` paging;
//! - watches, emulated by listing every 50 ms and streaming the differences;
//! - a request log and fault injection (error status, delay, dropped connection).
#![allow(dead_code)] // Each integration test binary uses a different part of the support code.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::http;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use kube_fake_client::discovery as builtin;
use serde_json::{json, Map, Value};

/// The Function Mesh API group and the only version its CRDs serve.
pub const FM_GROUP: &str = "compute.functionmesh.io";
pub const FM_VERSION: &str = "v1alpha1";

/// (kind, plural, singular) of the Function Mesh kinds the server can serve.
const FM_KINDS: [(&str, &str, &str); 4] = [
    ("Function", "functions", "function"),
    ("Source", "sources", "source"),
    ("Sink", "sinks", "sink"),
    ("FunctionMesh", "functionmeshes", "functionmesh"),
];

/// The bearer token of the kubeconfig user. The server does not check it.
pub const TOKEN: &str = "fake-token";

/// The plural under which the fake stores Namespaces: its router reads `/api/v1/namespaces/X` as the
/// start of a namespaced path, so Namespaces are registered a second time under a plural it can route.
const NAMESPACES_ALIAS: &str = "clusternamespaces";

const JSON: &str = "application/json";
const APPLY_PATCH: &str = "application/apply-patch+yaml";
const AGGREGATED_DISCOVERY: &str = "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList";
const VERBS: [&str; 8] = ["create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"];
const STATUS_VERBS: [&str; 3] = ["get", "patch", "update"];

/// How the server starts.
#[derive(Clone, Debug)]
pub struct Options {
    /// Serve the Function Mesh kinds (Function, Source, Sink, FunctionMesh).
    pub crds_installed: bool,
    /// Namespaces that exist at start.
    pub namespaces: Vec<String>,
}

impl Default for Options {
    fn default() -> Self {
        Options { crds_installed: true, namespaces: vec!["default".to_string()] }
    }
}

/// One request received over HTTP.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Request {
    pub method: String,
    pub path: String,
    /// The raw query string, without the `?`.
    pub query: String,
}

/// What an injected fault does to a matching request.
#[derive(Clone, Debug)]
pub enum Fault {
    /// Answer with this HTTP status and a Kubernetes `Status` body (code, reason, message).
    Status(u16, String, String),
    /// Sleep, then handle the request normally. The request is handled even if the client has given up
    /// by then, as a real server would.
    Delay(Duration),
    /// Close the TCP connection without writing any response.
    Drop,
}

struct Injection {
    method: String,
    path_contains: String,
    fault: Fault,
    remaining: usize,
}

struct Logged {
    request: Request,
    dry_run: bool,
}

/// The server. Dropping it stops the server; clients made by [`ApiServer::client`] then fail.
pub struct ApiServer {
    runtime: Option<tokio::runtime::Runtime>,
    state: Arc<State>,
    addr: SocketAddr,
    kubeconfig: PathBuf,
    _dir: tempfile::TempDir,
}

impl ApiServer {
    /// A server with the Function Mesh CRDs and the `default` namespace.
    pub fn start() -> ApiServer {
        ApiServer::with(Options::default())
    }

    pub fn with(opts: Options) -> ApiServer {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("test-apiserver")
            .enable_all()
            .build()
            .expect("a runtime for the test API server");
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("a port on 127.0.0.1");
        listener.set_nonblocking(true).expect("a non-blocking listener");
        let addr = listener.local_addr().expect("the listener's address");
        let crds = opts.crds_installed;
        let namespaces = opts.namespaces.clone();
        let state = run_on(runtime.handle(), async move { State::new(crds, addr, &namespaces).await })
            .unwrap_or_else(|e| panic!("the test API server cannot start: {e}"));
        let state = Arc::new(state);
        runtime.spawn(accept_loop(listener, state.clone()));

        let dir = tempfile::tempdir().expect("a temp dir for the kubeconfig");
        let kubeconfig = dir.path().join("kubeconfig");
        std::fs::write(&kubeconfig, kubeconfig_yaml(&format!("http://{addr}"))).expect("the kubeconfig is written");
        ApiServer { runtime: Some(runtime), state, addr, kubeconfig, _dir: dir }
    }

    /// `http://127.0.0.1:PORT`
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// A kubeconfig with one cluster (this server), one token user, and the contexts `fake` (current,
    /// namespace `default`) and `other` (namespace `team`).
    pub fn kubeconfig(&self) -> PathBuf {
        self.kubeconfig.clone()
    }

    /// The configuration of the kubeconfig's current context, to adjust (timeouts) before [`Self::client_with`].
    pub fn config(&self) -> kube::Config {
        let kubeconfig = kube::config::Kubeconfig::read_from(&self.kubeconfig).expect("the kubeconfig parses");
        // The loader does no I/O for a token user, so it completes on the first poll; no runtime needed.
        futures::executor::block_on(kube::Config::from_custom_kubeconfig(kubeconfig, &Default::default()))
            .expect("the kubeconfig loads")
    }

    /// A client that talks HTTP to this server, built from the kubeconfig.
    pub fn client(&self) -> kube::Client {
        self.client_with(self.config())
    }

    /// A client for this configuration, built the way the product builds one (`kube::Client::try_from`:
    /// timeouts from the config, kube's retry of 429/503/504). Build it inside the runtime that uses it
    /// when there is one; otherwise its request buffer runs on the server's runtime (still usable from
    /// any runtime).
    pub fn client_with(&self, config: kube::Config) -> kube::Client {
        // Test builds link both rustls providers (aws-lc-rs comes with the test dependencies), so rustls
        // cannot pick one itself; the product installs ring the same way.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let _guard = tokio::runtime::Handle::try_current().is_err().then(|| self.runtime().enter());
        kube::Client::try_from(config).expect("a client for the test API server")
    }

    /// The object at `path`, read directly (not logged, no faults).
    pub fn get(&self, path: &str) -> Option<Value> {
        let reply = self.call("GET", path, "", None, Vec::new());
        (reply.status == 200).then_some(reply.body)
    }

    /// The items of the collection at `path` (empty if the collection is not served).
    pub fn list(&self, path: &str) -> Vec<Value> {
        let reply = self.call("GET", path, "", None, Vec::new());
        match reply.body.get("items") {
            Some(Value::Array(items)) if reply.status == 200 => items.clone(),
            _ => Vec::new(),
        }
    }

    /// Server-side apply of `obj` at the object path `path` as field manager `manager`, not forced: what
    /// another tool, `kubectl edit` or an autoscaler would do. Errors are (HTTP status, message).
    pub fn apply_as(&self, manager: &str, path: &str, obj: Value) -> Result<Value, (u16, String)> {
        let query = format!("fieldManager={}", percent_encode(manager));
        let reply = self.call("PATCH", path, &query, Some(APPLY_PATCH), to_bytes(&obj));
        if reply.ok() {
            Ok(reply.body)
        } else {
            Err((reply.status, reply.message()))
        }
    }

    /// Deletes the object at `path`; false if it could not (absent, not served).
    pub fn delete(&self, path: &str) -> bool {
        self.call("DELETE", path, "", None, Vec::new()).ok()
    }

    /// Merge-patches the status subresource of the object at `path`, as the operator or a workload
    /// controller would. Panics if the object does not exist.
    pub fn set_status(&self, path: &str, status: Value) {
        let status_path =
            if path.trim_end_matches('/').ends_with("/status") { path.to_string() } else { format!("{path}/status") };
        let body = to_bytes(&json!({ "status": status }));
        let reply = self.call("PATCH", &status_path, "", Some("application/merge-patch+json"), body);
        assert!(reply.ok(), "set_status {path}: {} {}", reply.status, reply.message());
    }

    /// POSTs `obj` to the collection at `path`. Panics if the server refuses it.
    pub fn create(&self, path_of_collection: &str, obj: Value) {
        let reply = self.call("POST", path_of_collection, "", Some(JSON), to_bytes(&obj));
        assert!(reply.ok(), "create in {path_of_collection}: {} {}", reply.status, reply.message());
    }

    /// Every request received over HTTP, in order of arrival.
    pub fn requests(&self) -> Vec<Request> {
        lock(&self.state.log).iter().map(|l| l.request.clone()).collect()
    }

    pub fn clear_requests(&self) {
        lock(&self.state.log).clear();
    }

    /// Logged POST/PUT/PATCH/DELETE requests that were not dry runs (`dryRun=All` in the query, or in
    /// the DeleteOptions body of a DELETE, which is where kube puts it).
    pub fn writes(&self) -> usize {
        lock(&self.state.log)
            .iter()
            .filter(|l| matches!(l.request.method.as_str(), "POST" | "PUT" | "PATCH" | "DELETE") && !l.dry_run)
            .count()
    }

    /// The next `times` requests with this method (`*` for any) whose path contains `path_contains` get
    /// `fault`. Earlier injections are matched first.
    pub fn inject(&self, method: &str, path_contains: &str, fault: Fault, times: usize) {
        lock(&self.state.faults).push(Injection {
            method: method.to_ascii_uppercase(),
            path_contains: path_contains.to_string(),
            fault,
            remaining: times,
        });
    }

    fn runtime(&self) -> &tokio::runtime::Runtime {
        self.runtime.as_ref().expect("the runtime lives as long as the server")
    }

    /// Handles a request in-process, bypassing the log and the faults.
    fn call(&self, method: &str, path: &str, query: &str, content_type: Option<&str>, body: Vec<u8>) -> Reply {
        let call = Call {
            method: method.to_string(),
            path: path.to_string(),
            query: query.to_string(),
            content_type: content_type.map(str::to_string),
            accept: None,
            body: Bytes::from(body),
        };
        let state = self.state.clone();
        run_on(self.runtime().handle(), async move { handle(&state, &call).await })
    }
}

impl Drop for ApiServer {
    fn drop(&mut self) {
        // Not a blocking shutdown: the server may be dropped inside a test's own async runtime.
        if let Some(runtime) = self.runtime.take() {
            runtime.shutdown_background();
        }
    }
}

/// Runs `fut` on the server's runtime and waits for it. Works from plain threads and from inside another
/// runtime (where `block_on` would panic).
fn run_on<F>(handle: &tokio::runtime::Handle, fut: F) -> F::Output
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    let (tx, rx) = std::sync::mpsc::channel();
    handle.spawn(async move {
        let _ = tx.send(fut.await);
    });
    rx.recv().expect("the test API server's runtime stopped")
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // A test that panicked while holding the lock leaves data that is still usable.
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

fn kubeconfig_yaml(url: &str) -> String {
    format!(
        "apiVersion: v1
kind: Config
clusters:
- name: fake
  cluster:
    server: {url}
users:
- name: fake
  user:
    token: {TOKEN}
contexts:
- name: fake
  context:
    cluster: fake
    user: fake
    namespace: default
- name: other
  context:
    cluster: fake
    user: fake
    namespace: team
current-context: fake
preferences: {{}}
"
    )
}

// ---------------------------------------------------------------------------------------------------
// Resource types registered with the fake

/// A type the fake's registry and `with_status_subresource` can read group, version, kind and plural from.
macro_rules! resource_marker {
    ($name:ident, $scope:ty, $group:expr, $version:expr, $kind:expr, $plural:expr) => {
        #[derive(Default)]
        struct $name {
            metadata: ObjectMeta,
        }

        impl kube::Resource for $name {
            type DynamicType = ();
            type Scope = $scope;

            fn kind(_: &()) -> Cow<'_, str> {
                Cow::Borrowed($kind)
            }
            fn group(_: &()) -> Cow<'_, str> {
                Cow::Borrowed($group)
            }
            fn version(_: &()) -> Cow<'_, str> {
                Cow::Borrowed($version)
            }
            fn plural(_: &()) -> Cow<'_, str> {
                Cow::Borrowed($plural)
            }
            fn meta(&self) -> &ObjectMeta {
                &self.metadata
            }
            fn meta_mut(&mut self) -> &mut ObjectMeta {
                &mut self.metadata
            }
        }

        // `with_status_subresource` takes the group, version and kind from a serialized default value.
        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                use serde::ser::SerializeMap;
                let mut map = serializer.serialize_map(Some(2))?;
                map.serialize_entry("apiVersion", &<$name as kube::Resource>::api_version(&()))?;
                map.serialize_entry("kind", $kind)?;
                map.end()
            }
        }
    };
}

resource_marker!(FunctionKind, k8s_openapi::NamespaceResourceScope, FM_GROUP, FM_VERSION, "Function", "functions");
resource_marker!(SourceKind, k8s_openapi::NamespaceResourceScope, FM_GROUP, FM_VERSION, "Source", "sources");
resource_marker!(SinkKind, k8s_openapi::NamespaceResourceScope, FM_GROUP, FM_VERSION, "Sink", "sinks");
resource_marker!(
    FunctionMeshKind,
    k8s_openapi::NamespaceResourceScope,
    FM_GROUP,
    FM_VERSION,
    "FunctionMesh",
    "functionmeshes"
);
resource_marker!(NamespaceAlias, k8s_openapi::ClusterResourceScope, "", "v1", "Namespace", NAMESPACES_ALIAS);

/// A fresh, empty fake. Also used as the scratch store of dry runs and applies.
async fn build_fake(crds: bool) -> Result<kube::Client, String> {
    use k8s_openapi::api::apps::v1::{Deployment, StatefulSet};
    use k8s_openapi::api::autoscaling::v2::HorizontalPodAutoscaler;
    let mut builder = kube_fake_client::ClientBuilder::new()
        .with_resource::<NamespaceAlias>()
        .with_status_subresource::<StatefulSet>()
        .with_status_subresource::<Deployment>()
        .with_status_subresource::<HorizontalPodAutoscaler>();
    if crds {
        builder = builder
            .with_resource::<FunctionKind>()
            .with_resource::<SourceKind>()
            .with_resource::<SinkKind>()
            .with_resource::<FunctionMeshKind>()
            .with_status_subresource::<FunctionKind>()
            .with_status_subresource::<SourceKind>()
            .with_status_subresource::<SinkKind>()
            .with_status_subresource::<FunctionMeshKind>();
    }
    builder.build().await.map_err(|e| e.to_string())
}

// ---------------------------------------------------------------------------------------------------
// Shared state and the HTTP layer

struct State {
    fake: kube::Client,
    crds: bool,
    addr: SocketAddr,
    /// Writes read the live object, compute and store; one at a time keeps that atomic.
    write_lock: tokio::sync::Mutex<()>,
    log: Mutex<Vec<Logged>>,
    faults: Mutex<Vec<Injection>>,
}

impl State {
    async fn new(crds: bool, addr: SocketAddr, namespaces: &[String]) -> Result<State, String> {
        let fake = build_fake(crds).await?;
        for ns in namespaces {
            let obj = json!({
                "apiVersion": "v1",
                "kind": "Namespace",
                "metadata": { "name": ns },
                "spec": { "finalizers": ["kubernetes"] },
                "status": { "phase": "Active" },
            });
            let reply = send(&fake, "POST", &format!("/api/v1/{NAMESPACES_ALIAS}"), Some(JSON), to_bytes(&obj)).await;
            if !reply.ok() {
                return Err(format!("namespace {ns}: {}", reply.message()));
            }
        }
        Ok(State {
            fake,
            crds,
            addr,
            write_lock: tokio::sync::Mutex::new(()),
            log: Mutex::new(Vec::new()),
            faults: Mutex::new(Vec::new()),
        })
    }

    fn take_fault(&self, method: &str, path: &str) -> Option<Fault> {
        let mut faults = lock(&self.faults);
        let index = faults.iter().position(|f| {
            f.remaining > 0 && (f.method == "*" || f.method == method) && path.contains(&f.path_contains)
        })?;
        let injection = &mut faults[index];
        injection.remaining -= 1;
        let fault = injection.fault.clone();
        if injection.remaining == 0 {
            faults.remove(index);
        }
        Some(fault)
    }

    async fn fake(&self, method: &str, uri: &str, content_type: Option<&str>, body: Vec<u8>) -> Reply {
        send(&self.fake, method, uri, content_type, body).await
    }

    /// The stored object, `None` if absent.
    async fn live(&self, t: &Target, name: &str) -> Result<Option<Value>, Reply> {
        let reply = self.fake("GET", &t.object_path(name), None, Vec::new()).await;
        match reply.status {
            200 => Ok(Some(reply.body)),
            404 => Ok(None),
            _ => Err(reply),
        }
    }

    /// 404 like a real server when a namespaced object would go to a namespace that does not exist.
    async fn require_namespace(&self, t: &Target) -> Option<Reply> {
        let ns = t.namespace.as_deref()?;
        let reply = self.fake("GET", &format!("/api/v1/{NAMESPACES_ALIAS}/{ns}"), None, Vec::new()).await;
        match reply.status {
            200 => None,
            404 => Some(Reply::status(404, "NotFound", &format!("namespaces \"{ns}\" not found"))),
            _ => Some(reply),
        }
    }
}

async fn accept_loop(listener: std::net::TcpListener, state: Arc<State>) {
    let listener = match tokio::net::TcpListener::from_std(listener) {
        Ok(l) => l,
        Err(e) => {
            eprintln!("test API server: cannot listen: {e}");
            return;
        }
    };
    loop {
        match listener.accept().await {
            Ok((stream, _)) => {
                let _ = stream.set_nodelay(true);
                tokio::spawn(serve_connection(stream, state.clone()));
            }
            // Out of file descriptors and the like: back off instead of spinning.
            Err(_) => tokio::time::sleep(Duration::from_millis(10)).await,
        }
    }
}

async fn serve_connection(stream: tokio::net::TcpStream, state: Arc<State>) {
    let kill = Arc::new(tokio::sync::Notify::new());
    let service = {
        let kill = kill.clone();
        service_fn(move |req| respond(state.clone(), kill.clone(), req))
    };
    let conn = http1::Builder::new().serve_connection(TokioIo::new(stream), service);
    tokio::select! {
        _ = conn => {}
        // Fault::Drop: dropping the connection closes the socket before any response byte is written.
        _ = kill.notified() => {}
    }
}

/// Response bodies: whole for every request but a watch, which streams.
type Body = http_body_util::combinators::BoxBody<Bytes, Infallible>;

async fn respond(
    state: Arc<State>,
    kill: Arc<tokio::sync::Notify>,
    req: http::Request<hyper::body::Incoming>,
) -> Result<http::Response<Body>, Infallible> {
    let (parts, body) = req.into_parts();
    let header =
        |name: http::header::HeaderName| parts.headers.get(name).and_then(|v| v.to_str().ok()).map(str::to_string);
    let body = match body.collect().await {
        Ok(collected) => collected.to_bytes(),
        Err(e) => return Ok(to_response(Reply::status(400, "BadRequest", &format!("cannot read the body: {e}")))),
    };
    let call = Call {
        method: parts.method.as_str().to_string(),
        path: parts.uri.path().to_string(),
        query: parts.uri.query().unwrap_or("").to_string(),
        content_type: header(http::header::CONTENT_TYPE),
        accept: header(http::header::ACCEPT),
        body,
    };
    lock(&state.log).push(Logged {
        request: Request { method: call.method.clone(), path: call.path.clone(), query: call.query.clone() },
        dry_run: call.dry_run(),
    });
    let mut delay = None;
    let fault = state.take_fault(&call.method, &call.path);
    if fault.is_none() && call.method == "GET" && matches!(call.param("watch").as_deref(), Some("true" | "1")) {
        return Ok(watch(state, call));
    }
    match fault {
        Some(Fault::Drop) => {
            kill.notify_one();
            return std::future::pending().await;
        }
        Some(Fault::Status(code, reason, message)) => return Ok(to_response(Reply::status(code, &reason, &message))),
        Some(Fault::Delay(d)) => delay = Some(d),
        None => {}
    }
    // In its own task, so a client that gives up (a timeout) does not cancel a write half-way.
    let task = tokio::spawn(async move {
        if let Some(d) = delay {
            tokio::time::sleep(d).await;
        }
        handle(&state, &call).await
    });
    let reply = task.await.unwrap_or_else(|e| Reply::status(500, "InternalError", &format!("the handler failed: {e}")));
    Ok(to_response(reply))
}

fn to_response(reply: Reply) -> http::Response<Body> {
    let mut response = http::Response::new(Full::new(Bytes::from(to_bytes(&reply.body))).boxed());
    *response.status_mut() =
        http::StatusCode::from_u16(reply.status).unwrap_or(http::StatusCode::INTERNAL_SERVER_ERROR);
    response.headers_mut().insert(http::header::CONTENT_TYPE, http::HeaderValue::from_static(reply.content_type));
    response
}

/// A watch of a collection, emulated: the collection is listed every 50 ms (with the request's label
/// selector) and every object that appeared, changed resourceVersion or disappeared since the previous
/// list is sent as an ADDED, MODIFIED or DELETED event, one JSON document per line, as a real server
/// streams them. The first list sends every object as ADDED, as a watch from resourceVersion 0 does.
/// The stream ends after `timeoutSeconds` (default 5 minutes) or when the client goes away.
fn watch(state: Arc<State>, call: Call) -> http::Response<Body> {
    let (tx, rx) = tokio::sync::mpsc::channel::<Bytes>(64);
    let timeout = call.param("timeoutSeconds").and_then(|t| t.parse::<u64>().ok()).unwrap_or(300);
    let query: Vec<String> = query_pairs(&call.query)
        .filter(|(k, _, _)| {
            !matches!(k.as_str(), "watch" | "resourceVersion" | "timeoutSeconds" | "allowWatchBookmarks")
        })
        .map(|(_, _, raw)| raw.to_string())
        .collect();
    let list = Call { method: "GET".into(), query: query.join("&"), body: Bytes::new(), ..call };
    tokio::spawn(async move {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(timeout);
        let mut known: BTreeMap<String, (String, Value)> = BTreeMap::new();
        while tokio::time::Instant::now() < deadline && !tx.is_closed() {
            let reply = handle(&state, &list).await;
            let Some(items) = reply.body.get("items").and_then(Value::as_array).filter(|_| reply.ok()) else {
                let _ = tx.send(event_line("ERROR", &reply.body)).await;
                return;
            };
            let mut now = BTreeMap::new();
            for item in items {
                let key = format!("{}/{}", str_at(item, "/metadata/namespace"), str_at(item, "/metadata/name"));
                now.insert(key, (str_at(item, "/metadata/resourceVersion").to_string(), item.clone()));
            }
            let mut events = Vec::new();
            for (key, (version, item)) in &now {
                match known.get(key) {
                    None => events.push(event_line("ADDED", item)),
                    Some((old, _)) if old != version => events.push(event_line("MODIFIED", item)),
                    Some(_) => {}
                }
            }
            for (key, (_, item)) in &known {
                if !now.contains_key(key) {
                    events.push(event_line("DELETED", item));
                }
            }
            for e in events {
                if tx.send(e).await.is_err() {
                    return;
                }
            }
            known = now;
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    });
    let frames = futures::stream::unfold(rx, |mut rx| async move {
        rx.recv().await.map(|line| (Ok::<_, Infallible>(hyper::body::Frame::data(line)), rx))
    });
    let mut response = http::Response::new(http_body_util::StreamBody::new(frames).boxed());
    response.headers_mut().insert(http::header::CONTENT_TYPE, http::HeaderValue::from_static(JSON));
    response
}

fn event_line(kind: &str, object: &Value) -> Bytes {
    let mut line = to_bytes(&json!({"type": kind, "object": object}));
    line.push(b'\n');
    Bytes::from(line)
}

fn str_at<'a>(v: &'a Value, pointer: &str) -> &'a str {
    v.pointer(pointer).and_then(Value::as_str).unwrap_or_default()
}

/// Sends a request to a fake (the server's store or a scratch one).
async fn send(fake: &kube::Client, method: &str, uri: &str, content_type: Option<&str>, body: Vec<u8>) -> Reply {
    let mut builder = http::Request::builder().method(method).uri(uri);
    if let Some(ct) = content_type {
        builder = builder.header(http::header::CONTENT_TYPE, ct);
    }
    let request = match builder.body(kube::client::Body::from(body)) {
        Ok(r) => r,
        Err(e) => return Reply::status(400, "BadRequest", &format!("malformed request: {e}")),
    };
    let response = match fake.send(request).await {
        Ok(r) => r,
        // The fake answers malformed requests (a body it cannot decode) with an error, not a Status.
        Err(e) => return Reply::status(400, "BadRequest", &e.to_string()),
    };
    let status = response.status().as_u16();
    let bytes = match response.into_body().collect().await {
        Ok(c) => c.to_bytes(),
        Err(e) => return Reply::status(500, "InternalError", &format!("reading the store's answer: {e}")),
    };
    match serde_json::from_slice(&bytes) {
        Ok(body) => Reply { status, body, content_type: JSON },
        Err(e) => Reply::status(500, "InternalError", &format!("the store answered non-JSON: {e}")),
    }
}

fn to_bytes(v: &Value) -> Vec<u8> {
    serde_json::to_vec(v).unwrap_or_default()
}

// ---------------------------------------------------------------------------------------------------
// Requests and replies

struct Call {
    method: String,
    path: String,
    query: String,
    content_type: Option<String>,
    accept: Option<String>,
    body: Bytes,
}

impl Call {
    fn param(&self, key: &str) -> Option<String> {
        query_pairs(&self.query).find(|(k, _, _)| k == key).map(|(_, v, _)| v)
    }

    fn dry_run(&self) -> bool {
        if query_pairs(&self.query).any(|(k, v, _)| k == "dryRun" && v == "All") {
            return true;
        }
        // kube sends DeleteOptions, dryRun included, as the body of a DELETE.
        self.method == "DELETE"
            && serde_json::from_slice::<Value>(&self.body)
                .ok()
                .and_then(|v| v.get("dryRun").cloned())
                .is_some_and(|d| d.as_array().is_some_and(|a| a.iter().any(|x| x == "All")))
    }

    fn is_apply(&self) -> bool {
        self.content_type.as_deref().is_some_and(|ct| ct.starts_with("application/apply-patch"))
    }

    /// The query without some parameters, for passing on.
    fn query_without(&self, keys: &[&str]) -> String {
        query_pairs(&self.query)
            .filter(|(k, _, _)| !keys.contains(&k.as_str()))
            .map(|(_, _, raw)| raw)
            .collect::<Vec<_>>()
            .join("&")
    }
}

/// (decoded key, decoded value, raw pair) of a query string.
fn query_pairs(query: &str) -> impl Iterator<Item = (String, String, &str)> {
    query.split('&').filter(|p| !p.is_empty()).map(|raw| {
        let (k, v) = raw.split_once('=').unwrap_or((raw, ""));
        (percent_decode(k), percent_decode(v), raw)
    })
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' => match s.get(i + 1..i + 3).and_then(|h| u8::from_str_radix(h, 16).ok()) {
                Some(b) => {
                    out.push(b);
                    i += 2;
                }
                None => out.push(b'%'),
            },
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn percent_encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

struct Reply {
    status: u16,
    body: Value,
    content_type: &'static str,
}

impl Reply {
    fn json(status: u16, body: Value) -> Reply {
        Reply { status, body, content_type: JSON }
    }

    /// A Kubernetes `Status` failure.
    fn status(code: u16, reason: &str, message: &str) -> Reply {
        Reply::json(
            code,
            json!({
                "kind": "Status",
                "apiVersion": "v1",
                "metadata": {},
                "status": "Failure",
                "message": message,
                "reason": reason,
                "code": code,
            }),
        )
    }

    fn not_found() -> Reply {
        Reply::status(404, "NotFound", "the server could not find the requested resource")
    }

    fn method_not_allowed(method: &str) -> Reply {
        Reply::status(
            405,
            "MethodNotAllowed",
            &format!("the server does not allow this method on the requested resource ({method})"),
        )
    }

    fn bad_request(message: &str) -> Reply {
        Reply::status(400, "BadRequest", message)
    }

    fn ok(&self) -> bool {
        (200..300).contains(&self.status)
    }

    fn message(&self) -> String {
        self.body.get("message").and_then(Value::as_str).unwrap_or_default().to_string()
    }
}

// ---------------------------------------------------------------------------------------------------
// Routing

/// A resource path: what is addressed, and where the fake keeps it.
struct Target {
    group: String,
    version: String,
    kind: String,
    plural: String,
    namespaced: bool,
    namespace: Option<String>,
    name: Option<String>,
    status: bool,
}

impl Target {
    fn api_version(&self) -> String {
        if self.group.is_empty() {
            self.version.clone()
        } else {
            format!("{}/{}", self.group, self.version)
        }
    }

    fn is_namespace_kind(&self) -> bool {
        self.group.is_empty() && self.kind == "Namespace"
    }

    /// How a real server names the resource in messages: `configmaps`, `functions.compute.functionmesh.io`.
    fn display_resource(&self) -> String {
        if self.group.is_empty() {
            self.plural.clone()
        } else {
            format!("{}.{}", self.plural, self.group)
        }
    }

    fn fake_plural(&self) -> &str {
        if self.is_namespace_kind() {
            NAMESPACES_ALIAS
        } else {
            &self.plural
        }
    }

    fn collection_path(&self) -> String {
        let base = if self.group.is_empty() {
            format!("/api/{}", self.version)
        } else {
            format!("/apis/{}/{}", self.group, self.version)
        };
        match &self.namespace {
            Some(ns) => format!("{base}/namespaces/{ns}/{}", self.fake_plural()),
            None => format!("{base}/{}", self.fake_plural()),
        }
    }

    fn object_path(&self, name: &str) -> String {
        format!("{}/{name}", self.collection_path())
    }

    /// The object path, with `/status` when the status subresource is addressed.
    fn request_path(&self, name: &str) -> String {
        if self.status {
            format!("{}/status", self.object_path(name))
        } else {
            self.object_path(name)
        }
    }
}

enum Route {
    Version,
    CoreGroup,
    Groups,
    Resources { group: String, version: String },
    Object(Target),
}

fn parse_route(path: &str, crds: bool) -> Option<Route> {
    let parts: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    match parts.as_slice() {
        ["version"] => Some(Route::Version),
        ["api"] => Some(Route::CoreGroup),
        ["apis"] => Some(Route::Groups),
        ["api", v] => Some(Route::Resources { group: String::new(), version: v.to_string() }),
        ["apis", g, v] => Some(Route::Resources { group: g.to_string(), version: v.to_string() }),
        ["api", v, rest @ ..] => parse_target("", v, rest, crds).map(Route::Object),
        ["apis", g, v, rest @ ..] => parse_target(g, v, rest, crds).map(Route::Object),
        _ => None,
    }
}

fn parse_target(group: &str, version: &str, rest: &[&str], crds: bool) -> Option<Target> {
    // Namespaces themselves: /api/v1/namespaces[/NAME[/status]].
    let namespace_path = group.is_empty()
        && version == "v1"
        && rest.first() == Some(&"namespaces")
        && (rest.len() <= 2 || (rest.len() == 3 && rest[2] == "status"));
    let (namespace, rest) = if !namespace_path && rest.len() >= 3 && rest[0] == "namespaces" {
        (Some(rest[1].to_string()), &rest[2..])
    } else {
        (None, rest)
    };
    let (plural, name, sub) = match rest {
        [p] => (*p, None, None),
        [p, n] => (*p, Some(n.to_string()), None),
        [p, n, s] => (*p, Some(n.to_string()), Some(*s)),
        _ => return None,
    };
    let (kind, namespaced) = resource_info(group, version, plural, crds)?;
    // Of the subresources only status is served.
    if sub.is_some_and(|s| s != "status") {
        return None;
    }
    if (namespace.is_some() && !namespaced) || (namespace.is_none() && name.is_some() && namespaced) {
        return None;
    }
    Some(Target {
        group: group.to_string(),
        version: version.to_string(),
        kind,
        plural: plural.to_string(),
        namespaced,
        namespace,
        name,
        status: sub.is_some(),
    })
}

/// (kind, namespaced) of a served resource.
fn resource_info(group: &str, version: &str, plural: &str, crds: bool) -> Option<(String, bool)> {
    if group == FM_GROUP {
        if !crds || version != FM_VERSION {
            return None;
        }
        return FM_KINDS.iter().find(|(_, p, _)| *p == plural).map(|(k, _, _)| (k.to_string(), true));
    }
    let kind = builtin::plural_to_kind(group, version, plural)?;
    Some((kind.to_string(), builtin::is_namespaced(group, version, kind).unwrap_or(true)))
}

// ---------------------------------------------------------------------------------------------------
// Handling

async fn handle(state: &State, call: &Call) -> Reply {
    if matches!(call.param("watch").as_deref(), Some("true" | "1")) {
        return Reply::status(405, "MethodNotAllowed", "watch is served only over HTTP");
    }
    let Some(route) = parse_route(&call.path, state.crds) else {
        return Reply::not_found();
    };
    let target = match route {
        Route::Object(t) => t,
        _ if call.method != "GET" => return Reply::method_not_allowed(&call.method),
        Route::Version => return Reply::json(200, version_info()),
        Route::CoreGroup if wants_aggregated(call) => return aggregated_discovery(true, state.crds),
        Route::Groups if wants_aggregated(call) => return aggregated_discovery(false, state.crds),
        Route::CoreGroup => return Reply::json(200, core_versions(state.addr)),
        Route::Groups => return Reply::json(200, group_list(state.crds)),
        Route::Resources { group, version } => {
            return match resource_list(&group, &version, state.crds) {
                Some(list) => Reply::json(200, list),
                None => Reply::not_found(),
            }
        }
    };
    let reply = match call.method.as_str() {
        "GET" => match target.name.as_deref() {
            Some(name) => {
                let uri = with_query(&target.request_path(name), &call.query);
                state.fake("GET", &uri, None, Vec::new()).await
            }
            None => list(state, call, &target).await,
        },
        "POST" | "PUT" | "PATCH" | "DELETE" => {
            let _guard = state.write_lock.lock().await;
            write(state, call, &target).await
        }
        other => Reply::method_not_allowed(other),
    };
    real_messages(reply, &target)
}

async fn write(state: &State, call: &Call, t: &Target) -> Reply {
    let dry_run = call.dry_run();
    match (call.method.as_str(), t.name.as_deref()) {
        ("POST", None) => create(state, call, t, dry_run).await,
        ("PUT", Some(name)) => update(state, call, t, name, dry_run).await,
        ("PATCH", Some(name)) if call.is_apply() => apply(state, call, t, name, dry_run).await,
        ("PATCH", Some(name)) => patch(state, call, t, name, dry_run).await,
        ("DELETE", Some(name)) => delete(state, call, t, name, dry_run).await,
        ("DELETE", None) => {
            let uri = with_query(&t.collection_path(), &call.query_without(&["dryRun"]));
            if dry_run {
                list(state, call, t).await
            } else {
                state.fake("DELETE", &uri, Some(JSON), call.body.to_vec()).await
            }
        }
        (method, _) => Reply::method_not_allowed(method),
    }
}

async fn create(state: &State, call: &Call, t: &Target, dry_run: bool) -> Reply {
    let obj = match object_body(call, t, None) {
        Ok(o) => o,
        Err(r) => return r,
    };
    if t.namespaced && t.namespace.is_none() {
        return Reply::method_not_allowed("POST");
    }
    let Some(name) = obj.pointer("/metadata/name").and_then(Value::as_str).map(str::to_string) else {
        return Reply::status(422, "Invalid", "metadata.name: Required value: name is required");
    };
    if let Some(r) = state.require_namespace(t).await {
        return r;
    }
    if dry_run {
        return dry_run_write(state, call, t, &name, Some(JSON), obj).await;
    }
    state.fake("POST", &t.collection_path(), Some(JSON), to_bytes(&obj)).await
}

async fn update(state: &State, call: &Call, t: &Target, name: &str, dry_run: bool) -> Reply {
    let obj = match object_body(call, t, Some(name)) {
        Ok(o) => o,
        Err(r) => return r,
    };
    if dry_run {
        return dry_run_write(state, call, t, name, Some(JSON), obj).await;
    }
    state.fake("PUT", &t.request_path(name), Some(JSON), to_bytes(&obj)).await
}

/// JSON, merge and strategic-merge patches (the fake applies strategic merge as a JSON merge).
async fn patch(state: &State, call: &Call, t: &Target, name: &str, dry_run: bool) -> Reply {
    let body = match parse_body(&call.body) {
        Ok(b) => b,
        Err(r) => return r,
    };
    let content_type = call.content_type.as_deref().unwrap_or("application/merge-patch+json");
    if dry_run {
        return dry_run_write(state, call, t, name, Some(content_type), body).await;
    }
    state.fake("PATCH", &t.request_path(name), Some(content_type), to_bytes(&body)).await
}

async fn delete(state: &State, call: &Call, t: &Target, name: &str, dry_run: bool) -> Reply {
    if dry_run {
        return match state.live(t, name).await {
            Ok(Some(live)) => Reply::json(200, live),
            Ok(None) => not_found_object(t, name),
            Err(r) => r,
        };
    }
    let uri = with_query(&t.object_path(name), &call.query);
    state.fake("DELETE", &uri, Some(JSON), call.body.to_vec()).await
}

/// Server-side apply. The fake merges the patch and records the manager's fields (on a scratch copy,
/// forced); conflicts, shared ownership and removal of dropped fields are decided here.
async fn apply(state: &State, call: &Call, t: &Target, name: &str, dry_run: bool) -> Reply {
    let patch = match object_body(call, t, Some(name)) {
        Ok(p) => p,
        Err(r) => return r,
    };
    let manager = match call.param("fieldManager") {
        Some(m) if !m.is_empty() => m,
        _ => return Reply::status(422, "Invalid", "fieldManager is required for apply requests"),
    };
    let force = call.param("force").as_deref() == Some("true");
    let sub = if t.status { "status" } else { "" };
    let live = match state.live(t, name).await {
        Ok(l) => l,
        Err(r) => return r,
    };
    if live.is_none() {
        if t.status {
            return not_found_object(t, name);
        }
        if let Some(r) = state.require_namespace(t).await {
            return r;
        }
    }

    let uri = format!("{}?fieldManager={}&force=true", t.request_path(name), percent_encode(&manager));
    let reply = scratch_run(state, t, live.as_ref(), "PATCH", &uri, Some(APPLY_PATCH), patch.clone()).await;
    if !reply.ok() {
        return reply;
    }
    let mut obj = reply.body;
    let empty = Value::Object(Map::new());
    let own_entry = managed_entries(&obj).into_iter().find(|e| entry_is(e, &manager, sub));
    let own = own_entry.as_ref().map(|e| fields_of(e).clone()).unwrap_or_else(|| empty.clone());
    let before = live.as_ref().map(managed_entries).unwrap_or_default();

    let conflicts = find_conflicts(&before, &own, &manager, sub, live.as_ref(), &patch);
    if !conflicts.is_empty() && !force {
        return conflict_reply(&conflicts);
    }

    // Other managers keep their fields, except those this (forced) apply took from them.
    let mut entries = Vec::new();
    for e in &before {
        if entry_is(e, &manager, sub) {
            continue;
        }
        let taken = conflicts.iter().find(|c| entry_subresource(e) == sub && c.manager == entry_manager(e));
        match taken {
            None => entries.push(e.clone()),
            Some(c) => {
                let mut fields = fields_of(e).clone();
                for p in &c.paths {
                    remove_path(&mut fields, p);
                }
                if fields.as_object().is_some_and(|m| !m.is_empty()) {
                    let mut e = e.clone();
                    if let Some(m) = e.as_object_mut() {
                        m.insert("fieldsV1".to_string(), fields);
                    }
                    entries.push(e);
                }
            }
        }
    }

    // A field this manager applied before and applies no more is removed, unless someone else owns it.
    if let Some(previous) = before.iter().find(|e| entry_is(e, &manager, sub)) {
        let others: Vec<&Value> = entries
            .iter()
            .filter(|e| entry_subresource(e) == sub && entry_manager(e) != manager)
            .map(fields_of)
            .collect();
        let mut leaves = Vec::new();
        leaf_paths(fields_of(previous), &mut Vec::new(), &mut leaves);
        for path in leaves {
            let Some(value_path) = value_path(&path) else { continue };
            if !covered(&own, &path) && !others.iter().any(|o| covered(o, &path)) {
                remove_path(&mut obj, &value_path);
            }
        }
    }
    if let Some(e) = own_entry {
        entries.push(e);
    }
    set_meta(&mut obj, "managedFields", Value::Array(entries));

    if let Some(live) = &live {
        if same_object(live, &obj) {
            // A real server does not write (nor bump resourceVersion) when an apply changes nothing.
            return Reply::json(200, live.clone());
        }
    }
    if dry_run {
        let code = if live.is_some() { 200 } else { 201 };
        return Reply::json(code, with_resource_version(obj, live.as_ref()));
    }
    match &live {
        Some(live) => {
            let rv = live.pointer("/metadata/resourceVersion").cloned().unwrap_or(Value::Null);
            set_meta(&mut obj, "resourceVersion", rv);
            state.fake("PUT", &t.request_path(name), Some(JSON), to_bytes(&obj)).await
        }
        None => {
            remove_meta(&mut obj, "resourceVersion");
            state.fake("POST", &t.collection_path(), Some(JSON), to_bytes(&obj)).await
        }
    }
}

/// Runs a write on a scratch fake that holds only the live object, so nothing is stored.
async fn dry_run_write(
    state: &State,
    call: &Call,
    t: &Target,
    name: &str,
    content_type: Option<&str>,
    body: Value,
) -> Reply {
    let live = match state.live(t, name).await {
        Ok(l) => l,
        Err(r) => return r,
    };
    let path = if call.method == "POST" { t.collection_path() } else { t.request_path(name) };
    let uri = with_query(&path, &call.query_without(&["dryRun"]));
    let mut reply = scratch_run(state, t, live.as_ref(), &call.method, &uri, content_type, body).await;
    if reply.ok() {
        reply.body = with_resource_version(reply.body, live.as_ref());
    }
    reply
}

/// Sends a request to a new fake seeded with `live`. The scratch copy gets its own resourceVersion; a
/// body that names the live one is rewritten to the scratch one so optimistic locking still works.
async fn scratch_run(
    state: &State,
    t: &Target,
    live: Option<&Value>,
    method: &str,
    uri: &str,
    content_type: Option<&str>,
    mut body: Value,
) -> Reply {
    let scratch = match build_fake(state.crds).await {
        Ok(c) => c,
        Err(e) => return Reply::status(500, "InternalError", &format!("scratch store: {e}")),
    };
    if let Some(live) = live {
        let mut seed = live.clone();
        remove_meta(&mut seed, "resourceVersion");
        let seeded = send(&scratch, "POST", &t.collection_path(), Some(JSON), to_bytes(&seed)).await;
        if !seeded.ok() {
            return seeded;
        }
        let live_rv = live.pointer("/metadata/resourceVersion");
        let body_rv = body.pointer("/metadata/resourceVersion");
        if body_rv.is_some() && body_rv == live_rv {
            let scratch_rv = seeded.body.pointer("/metadata/resourceVersion").cloned().unwrap_or(Value::Null);
            set_meta(&mut body, "resourceVersion", scratch_rv);
        }
    }
    send(&scratch, method, uri, content_type, to_bytes(&body)).await
}

/// Lists in (namespace, name) order, paged with `limit` and `continue` (the fake truncates at `limit`
/// without a continue token, in hash order).
async fn list(state: &State, call: &Call, t: &Target) -> Reply {
    let uri = with_query(&t.collection_path(), &call.query_without(&["limit", "continue", "dryRun"]));
    let mut reply = state.fake("GET", &uri, None, Vec::new()).await;
    if !reply.ok() {
        return reply;
    }
    let Some(body) = reply.body.as_object_mut() else {
        return Reply::status(500, "InternalError", "the store's list is not an object");
    };
    let key = |o: &Value| {
        let get = |p: &str| o.pointer(p).and_then(Value::as_str).unwrap_or_default().to_string();
        (get("/metadata/namespace"), get("/metadata/name"))
    };
    let mut items = match body.remove("items") {
        Some(Value::Array(items)) => items,
        _ => Vec::new(),
    };
    items.sort_by_key(key);
    if let Some(token) = call.param("continue").filter(|c| !c.is_empty()) {
        let (ns, name) = token.split_once('/').unwrap_or(("", token.as_str()));
        let after = (ns.to_string(), name.to_string());
        items.retain(|o| key(o) > after);
    }
    let mut metadata = json!({ "resourceVersion": "1" });
    if let Some(limit) = call.param("limit").and_then(|l| l.parse::<usize>().ok()).filter(|l| *l > 0) {
        if items.len() > limit {
            let remaining = items.len() - limit;
            items.truncate(limit);
            let (ns, name) = items.last().map(key).unwrap_or_default();
            metadata = json!({
                "resourceVersion": "1",
                "continue": format!("{ns}/{name}"),
                "remainingItemCount": remaining,
            });
        }
    }
    body.insert("metadata".to_string(), metadata);
    body.insert("items".to_string(), Value::Array(items));
    reply
}

/// The request body as a JSON object (YAML accepted), checked against the URL like a real server does.
fn object_body(call: &Call, t: &Target, name: Option<&str>) -> Result<Value, Reply> {
    let obj = parse_body(&call.body)?;
    if !obj.is_object() {
        return Err(Reply::bad_request("the request body is not an object"));
    }
    if let Some(kind) = obj.get("kind").and_then(Value::as_str) {
        if kind != t.kind {
            return Err(Reply::bad_request(&format!("the kind in the body ({kind}) is not {} of the URL", t.kind)));
        }
    }
    if let Some(api_version) = obj.get("apiVersion").and_then(Value::as_str) {
        if api_version != t.api_version() {
            return Err(Reply::bad_request(&format!(
                "the API version in the body ({api_version}) does not match the URL's ({})",
                t.api_version()
            )));
        }
    }
    let body_name = obj.pointer("/metadata/name").and_then(Value::as_str);
    if let (Some(body_name), Some(url_name)) = (body_name, name) {
        if body_name != url_name {
            return Err(Reply::bad_request(&format!(
                "the name of the object ({body_name}) does not match the name on the URL ({url_name})"
            )));
        }
    }
    let body_ns = obj.pointer("/metadata/namespace").and_then(Value::as_str);
    if let (Some(body_ns), Some(url_ns)) = (body_ns, t.namespace.as_deref()) {
        if body_ns != url_ns {
            return Err(Reply::bad_request(
                "the namespace of the provided object does not match the namespace sent on the request",
            ));
        }
    }
    Ok(obj)
}

fn parse_body(body: &[u8]) -> Result<Value, Reply> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Err(Reply::bad_request("the request body is empty"));
    }
    if let Ok(v) = serde_json::from_slice(body) {
        return Ok(v);
    }
    std::str::from_utf8(body)
        .ok()
        .and_then(|s| serde_yaml::from_str::<Value>(s).ok())
        .ok_or_else(|| Reply::bad_request("the request body is neither JSON nor YAML"))
}

fn with_query(path: &str, query: &str) -> String {
    if query.is_empty() {
        path.to_string()
    } else {
        format!("{path}?{query}")
    }
}

fn not_found_object(t: &Target, name: &str) -> Reply {
    Reply::status(404, "NotFound", &format!("{} \"{name}\" not found", t.display_resource()))
}

/// Rewrites the fake's error messages into the wording of a real server.
fn real_messages(mut reply: Reply, t: &Target) -> Reply {
    if reply.ok() {
        return reply;
    }
    let message = reply.message();
    let fake_prefix = format!("{} \"", t.fake_plural());
    let rewritten = if let Some(rest) = message.strip_prefix(&fake_prefix) {
        format!("{} \"{rest}", t.display_resource())
    } else if message.starts_with("Resource version mismatch") {
        format!(
            "Operation cannot be fulfilled on {} \"{}\": the object has been modified; please apply your changes to \
             the latest version and try again",
            t.display_resource(),
            t.name.as_deref().unwrap_or_default()
        )
    } else {
        return reply;
    };
    if let Some(body) = reply.body.as_object_mut() {
        body.insert("message".to_string(), Value::String(rewritten));
    }
    reply
}

// ---------------------------------------------------------------------------------------------------
// Object and managed-fields helpers

fn set_meta(obj: &mut Value, key: &str, value: Value) {
    if let Some(meta) = obj.get_mut("metadata").and_then(Value::as_object_mut) {
        meta.insert(key.to_string(), value);
    }
}

fn remove_meta(obj: &mut Value, key: &str) {
    if let Some(meta) = obj.get_mut("metadata").and_then(Value::as_object_mut) {
        meta.shift_remove(key);
    }
}

/// A dry-run answer carries the live resourceVersion (none for an object that would be created).
fn with_resource_version(mut obj: Value, live: Option<&Value>) -> Value {
    match live.and_then(|l| l.pointer("/metadata/resourceVersion")).cloned() {
        Some(rv) => set_meta(&mut obj, "resourceVersion", rv),
        None => remove_meta(&mut obj, "resourceVersion"),
    }
    obj
}

/// Equal but for what every write changes: resourceVersion, generation, managedFields times and order.
fn same_object(a: &Value, b: &Value) -> bool {
    fn normalize(v: &Value) -> Value {
        let mut v = v.clone();
        let mut entries = managed_entries(&v);
        for e in &mut entries {
            if let Some(m) = e.as_object_mut() {
                m.shift_remove("time");
            }
        }
        entries.sort_by_key(|e| e.to_string());
        remove_meta(&mut v, "resourceVersion");
        remove_meta(&mut v, "generation");
        set_meta(&mut v, "managedFields", Value::Array(entries));
        v
    }
    normalize(a) == normalize(b)
}

fn managed_entries(obj: &Value) -> Vec<Value> {
    match obj.pointer("/metadata/managedFields") {
        Some(Value::Array(entries)) => entries.clone(),
        _ => Vec::new(),
    }
}

fn entry_manager(e: &Value) -> &str {
    e.get("manager").and_then(Value::as_str).unwrap_or_default()
}

fn entry_subresource(e: &Value) -> &str {
    e.get("subresource").and_then(Value::as_str).unwrap_or_default()
}

fn entry_is(e: &Value, manager: &str, sub: &str) -> bool {
    entry_manager(e) == manager && entry_subresource(e) == sub
}

fn fields_of(e: &Value) -> &Value {
    static EMPTY: Value = Value::Null;
    e.get("fieldsV1").unwrap_or(&EMPTY)
}

fn is_leaf(node: &Value) -> bool {
    node.as_object().is_none_or(Map::is_empty)
}

/// Paths (fieldsV1 keys) where both sets own a field, at the shallower of the two leaves.
fn overlaps(a: &Value, b: &Value, prefix: &mut Vec<String>, out: &mut Vec<Vec<String>>) {
    let (Some(a), Some(b)) = (a.as_object(), b.as_object()) else { return };
    for (key, a_node) in a {
        let Some(b_node) = b.get(key) else { continue };
        prefix.push(key.clone());
        if is_leaf(a_node) || is_leaf(b_node) {
            out.push(prefix.clone());
        } else {
            overlaps(a_node, b_node, prefix, out);
        }
        prefix.pop();
    }
}

fn leaf_paths(node: &Value, prefix: &mut Vec<String>, out: &mut Vec<Vec<String>>) {
    let Some(map) = node.as_object() else { return };
    for (key, child) in map {
        prefix.push(key.clone());
        if is_leaf(child) {
            out.push(prefix.clone());
        } else {
            leaf_paths(child, prefix, out);
        }
        prefix.pop();
    }
}

/// Whether a field set owns `path`, or an atomic field that contains it.
fn covered(fields: &Value, path: &[String]) -> bool {
    let mut node = fields;
    for key in path {
        match node.get(key) {
            None => return false,
            Some(next) if is_leaf(next) => return true,
            Some(next) => node = next,
        }
    }
    true
}

/// The object path of a fieldsV1 path (`f:spec`, `f:replicas`); `None` for list keys (`k:`, `v:`).
fn value_path(path: &[String]) -> Option<Vec<String>> {
    path.iter().map(|k| k.strip_prefix("f:").map(str::to_string)).collect()
}

fn value_at<'a>(obj: &'a Value, path: &[String]) -> Option<&'a Value> {
    path.iter().try_fold(obj, |node, key| node.get(key))
}

/// Removes the node at `path` and the objects it leaves empty.
fn remove_path(node: &mut Value, path: &[String]) {
    let Some((first, rest)) = path.split_first() else { return };
    let Some(map) = node.as_object_mut() else { return };
    if rest.is_empty() {
        map.shift_remove(first);
        return;
    }
    if let Some(child) = map.get_mut(first) {
        remove_path(child, rest);
        if child.as_object().is_some_and(Map::is_empty) {
            map.shift_remove(first);
        }
    }
}

struct Conflict {
    manager: String,
    api_version: Option<String>,
    paths: Vec<Vec<String>>,
}

/// Fields another manager owns that this apply sets to a different value.
fn find_conflicts(
    before: &[Value],
    own: &Value,
    manager: &str,
    sub: &str,
    live: Option<&Value>,
    patch: &Value,
) -> Vec<Conflict> {
    let Some(live) = live else { return Vec::new() };
    let mut conflicts = Vec::new();
    for e in before {
        if entry_subresource(e) != sub || entry_manager(e) == manager {
            continue;
        }
        let mut paths = Vec::new();
        overlaps(fields_of(e), own, &mut Vec::new(), &mut paths);
        paths.retain(|p| match value_path(p) {
            Some(vp) => value_at(live, &vp) != value_at(patch, &vp),
            None => true,
        });
        if !paths.is_empty() {
            conflicts.push(Conflict {
                manager: entry_manager(e).to_string(),
                api_version: e.get("apiVersion").and_then(Value::as_str).map(str::to_string),
                paths,
            });
        }
    }
    conflicts
}

/// 409 worded like the API server's:
/// `Apply failed with 1 conflict: conflict with "kubectl" using apps/v1: .spec.replicas`.
fn conflict_reply(conflicts: &[Conflict]) -> Reply {
    let total: usize = conflicts.iter().map(|c| c.paths.len()).sum();
    let mut causes = Vec::new();
    let mut groups = Vec::new();
    for c in conflicts {
        let who = match &c.api_version {
            Some(v) => format!("\"{}\" using {v}", c.manager),
            None => format!("\"{}\"", c.manager),
        };
        let fields: Vec<String> = c
            .paths
            .iter()
            .map(|p| p.iter().map(|k| format!(".{}", k.strip_prefix("f:").unwrap_or(k))).collect::<String>())
            .collect();
        for f in &fields {
            causes.push(
                json!({ "reason": "FieldManagerConflict", "message": format!("conflict with {who}"), "field": f }),
            );
        }
        groups.push(match fields.as_slice() {
            [one] => format!("conflict with {who}: {one}"),
            many => format!("conflicts with {who}:\n- {}", many.join("\n- ")),
        });
    }
    let plural = if total == 1 { "" } else { "s" };
    let message = format!("Apply failed with {total} conflict{plural}: {}", groups.join("\n"));
    let mut reply = Reply::status(409, "Conflict", &message);
    if let Some(body) = reply.body.as_object_mut() {
        body.insert("details".to_string(), json!({ "causes": causes }));
    }
    reply
}

// ---------------------------------------------------------------------------------------------------
// Discovery

struct Served {
    group: String,
    version: String,
    kind: String,
    plural: String,
    singular: String,
    namespaced: bool,
    verbs: Vec<String>,
    short_names: Vec<String>,
    status: bool,
}

/// Every resource the server serves: the fake's built-in kinds, and the Function Mesh kinds if installed.
fn served(crds: bool) -> Vec<Served> {
    let mut out: Vec<Served> = builtin::list_resources()
        .iter()
        .map(|&(g, v, k, p)| Served {
            group: g.to_string(),
            version: v.to_string(),
            kind: k.to_string(),
            plural: p.to_string(),
            singular: builtin::get_singular(g, v, k).map(str::to_string).unwrap_or_else(|| k.to_lowercase()),
            namespaced: builtin::is_namespaced(g, v, k).unwrap_or(true),
            verbs: VERBS.iter().filter(|verb| builtin::supports_verb(g, v, k, verb)).map(|s| s.to_string()).collect(),
            short_names: builtin::get_short_names(g, v, k).iter().map(|s| s.to_string()).collect(),
            status: builtin::has_subresource(g, v, k, "status"),
        })
        .collect();
    if crds {
        out.extend(FM_KINDS.iter().map(|&(kind, plural, singular)| Served {
            group: FM_GROUP.to_string(),
            version: FM_VERSION.to_string(),
            kind: kind.to_string(),
            plural: plural.to_string(),
            singular: singular.to_string(),
            namespaced: true,
            verbs: VERBS.iter().map(|s| s.to_string()).collect(),
            short_names: Vec::new(),
            status: true,
        }));
    }
    out
}

/// GA before beta before alpha, higher numbers first: the order a real server lists versions in.
fn version_priority(v: &str) -> (u8, u32, u32) {
    let Some(rest) = v.strip_prefix('v') else { return (0, 0, 0) };
    let digits = rest.chars().take_while(char::is_ascii_digit).count();
    let major = rest[..digits].parse().unwrap_or(0);
    let tail = &rest[digits..];
    let (tier, minor) = if tail.is_empty() {
        (3, 0)
    } else if let Some(n) = tail.strip_prefix("beta") {
        (2, n.parse().unwrap_or(0))
    } else if let Some(n) = tail.strip_prefix("alpha") {
        (1, n.parse().unwrap_or(0))
    } else {
        (0, 0)
    };
    (tier, major, minor)
}

/// group -> versions, preferred version first.
fn group_versions(crds: bool) -> BTreeMap<String, Vec<String>> {
    let mut groups: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for s in served(crds) {
        let versions = groups.entry(s.group).or_default();
        if !versions.contains(&s.version) {
            versions.push(s.version);
        }
    }
    for versions in groups.values_mut() {
        versions.sort_by_key(|v| std::cmp::Reverse(version_priority(v)));
    }
    groups
}

fn version_info() -> Value {
    json!({
        "major": "1",
        "minor": "34",
        "gitVersion": "v1.34.0",
        "gitCommit": "0000000000000000000000000000000000000000",
        "gitTreeState": "clean",
        "buildDate": "2025-08-27T00:00:00Z",
        "goVersion": "go1.24.6",
        "compiler": "gc",
        "platform": "linux/amd64",
    })
}

fn core_versions(addr: SocketAddr) -> Value {
    json!({
        "kind": "APIVersions",
        "versions": ["v1"],
        "serverAddressByClientCIDRs": [{ "clientCIDR": "0.0.0.0/0", "serverAddress": addr.to_string() }],
    })
}

fn group_list(crds: bool) -> Value {
    let groups: Vec<Value> = group_versions(crds)
        .into_iter()
        .filter(|(g, _)| !g.is_empty())
        .map(|(g, versions)| {
            let versions: Vec<Value> =
                versions.iter().map(|v| json!({ "groupVersion": format!("{g}/{v}"), "version": v })).collect();
            let preferred = versions.first().cloned().unwrap_or(Value::Null);
            json!({ "name": g, "versions": versions, "preferredVersion": preferred })
        })
        .collect();
    json!({ "kind": "APIGroupList", "apiVersion": "v1", "groups": groups })
}

fn resource_list(group: &str, version: &str, crds: bool) -> Option<Value> {
    let mut resources = Vec::new();
    for s in served(crds).into_iter().filter(|s| s.group == group && s.version == version) {
        let mut r = json!({
            "name": s.plural,
            "singularName": s.singular,
            "namespaced": s.namespaced,
            "kind": s.kind,
            "verbs": s.verbs,
        });
        if !s.short_names.is_empty() {
            r["shortNames"] = json!(s.short_names);
        }
        resources.push(r);
        if s.status {
            resources.push(json!({
                "name": format!("{}/status", s.plural),
                "singularName": "",
                "namespaced": s.namespaced,
                "kind": s.kind,
                "verbs": STATUS_VERBS,
            }));
        }
    }
    if resources.is_empty() {
        return None;
    }
    let group_version = if group.is_empty() { version.to_string() } else { format!("{group}/{version}") };
    Some(
        json!({ "kind": "APIResourceList", "apiVersion": "v1", "groupVersion": group_version, "resources": resources }),
    )
}

fn wants_aggregated(call: &Call) -> bool {
    call.accept.as_deref().is_some_and(|a| a.contains("as=APIGroupDiscoveryList"))
}

/// apidiscovery.k8s.io/v2 for `/api` (core) or `/apis` (the named groups).
fn aggregated_discovery(core: bool, crds: bool) -> Reply {
    let all = served(crds);
    let items: Vec<Value> = group_versions(crds)
        .into_iter()
        .filter(|(g, _)| g.is_empty() == core)
        .map(|(g, versions)| {
            let versions: Vec<Value> = versions
                .iter()
                .map(|v| {
                    let resources: Vec<Value> = all
                        .iter()
                        .filter(|s| s.group == g && &s.version == v)
                        .map(|s| {
                            let kind = json!({ "group": s.group, "version": s.version, "kind": s.kind });
                            let subresources = if s.status {
                                json!([{ "subresource": "status", "responseKind": kind, "verbs": STATUS_VERBS }])
                            } else {
                                json!([])
                            };
                            json!({
                                "resource": s.plural,
                                "responseKind": kind,
                                "scope": if s.namespaced { "Namespaced" } else { "Cluster" },
                                "singularResource": s.singular,
                                "verbs": s.verbs,
                                "shortNames": s.short_names,
                                "subresources": subresources,
                            })
                        })
                        .collect();
                    json!({ "version": v, "resources": resources, "freshness": "Current" })
                })
                .collect();
            json!({ "metadata": { "name": g }, "versions": versions })
        })
        .collect();
    Reply {
        status: 200,
        body: json!({
            "kind": "APIGroupDiscoveryList",
            "apiVersion": "apidiscovery.k8s.io/v2",
            "metadata": {},
            "items": items,
        }),
        content_type: AGGREGATED_DISCOVERY,
    }
}
