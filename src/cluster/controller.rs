//! The sync controller: `mesh apply --watch` in the foreground and
//! `mesh controller run` in a pod. It watches the inventory's members and,
//! on any change and at least every interval, reads them (one list per kind)
//! and re-applies what is missing or drifted;
//! fields other managers own are not in what mesh applies, so they stay.
//! Failures back off exponentially. `/healthz` and `/metrics` are served
//! when a listen address is given; every action is one JSON log line.

use super::apply::{execute, ApplyOptions};
use super::plan::{plan, Op, Topology};
use super::{ClusterError, Target};
use serde_json::{json, Value};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

/// The bundle the controller keeps in place, re-read when it changes.
pub struct Desired {
    pub mesh_name: String,
    pub objects: Vec<Value>,
    pub topology: Topology,
}

/// Where the desired state comes from: called before every pass; `Ok(None)`
/// means unchanged since the last call.
pub type Source = Box<dyn FnMut() -> Result<Option<Desired>, String> + Send>;

#[derive(Clone, Debug)]
pub struct Options {
    pub interval: Duration,
    pub listen: Option<SocketAddr>,
    pub prune: bool,
    pub apply: ApplyOptions,
    /// Longest wait after repeated failures.
    pub max_backoff: Duration,
}

/// Counters exposed on `/metrics`.
#[derive(Default)]
pub struct Metrics {
    pub passes: AtomicU64,
    pub failures: AtomicU64,
    pub applied: AtomicU64,
    pub deleted: AtomicU64,
    pub drift_corrections: AtomicU64,
    pub managed: AtomicU64,
    pub last_success_unix: AtomicU64,
}

impl Metrics {
    /// Prometheus text exposition format.
    pub fn render(&self) -> String {
        let rows = [
            ("mesh_sync_passes_total", "counter", "Sync passes run.", &self.passes),
            ("mesh_sync_failures_total", "counter", "Sync passes that failed.", &self.failures),
            ("mesh_objects_applied_total", "counter", "Objects created or updated.", &self.applied),
            ("mesh_objects_deleted_total", "counter", "Objects pruned.", &self.deleted),
            (
                "mesh_drift_corrections_total",
                "counter",
                "Objects re-applied because they drifted or were deleted.",
                &self.drift_corrections,
            ),
            ("mesh_managed_objects", "gauge", "Objects in the bundle.", &self.managed),
            (
                "mesh_last_success_timestamp_seconds",
                "gauge",
                "Unix time of the last successful pass.",
                &self.last_success_unix,
            ),
        ];
        let mut out = String::new();
        for (name, kind, help, value) in rows {
            out.push_str(&format!(
                "# HELP {name} {help}\n# TYPE {name} {kind}\n{name} {}\n",
                value.load(Ordering::Relaxed)
            ));
        }
        out
    }
}

/// One structured log line on stderr.
pub fn log(level: &str, action: &str, fields: Value) {
    let mut line = json!({"time": jiff::Timestamp::now().to_string(), "level": level, "action": action});
    if let (Some(l), Value::Object(f)) = (line.as_object_mut(), fields) {
        l.extend(f);
    }
    eprintln!("{line}");
}

/// Runs until interrupted (Ctrl-C or SIGTERM).
pub async fn run(target: Target, mut source: Source, opts: Options) -> Result<(), ClusterError> {
    let metrics = Arc::new(Metrics::default());
    if let Some(addr) = opts.listen {
        let listener = tokio::net::TcpListener::bind(addr)
            .await
            .map_err(|e| ClusterError(format!("cannot listen on {addr}: {e}")))?;
        log("info", "listen", json!({"address": listener.local_addr().map(|a| a.to_string()).unwrap_or_default()}));
        tokio::spawn(serve(listener, metrics.clone()));
    }
    let mut desired: Option<Desired> = None;
    let mut failures: u32 = 0;
    // Watches of the inventory's members wake the loop as soon as one changes; the interval stays as
    // the fallback (and the only trigger on servers that do not serve watches).
    let (nudge, mut nudged) = tokio::sync::mpsc::channel::<()>(1);
    let mut watchers: Vec<tokio::task::JoinHandle<()>> = Vec::new();
    let shutdown = shutdown_signal();
    tokio::pin!(shutdown);
    // A change of the source noticed while waiting, applied at the top of the next pass.
    let mut pending = None;
    loop {
        match pending.take().unwrap_or_else(&mut source) {
            Ok(Some(d)) => {
                log("info", "load", json!({"mesh": d.mesh_name, "objects": d.objects.len()}));
                metrics.managed.store(d.objects.len() as u64, Ordering::Relaxed);
                for w in watchers.drain(..) {
                    w.abort();
                }
                watchers = start_watches(&target, &d, nudge.clone(), opts.interval);
                desired = Some(d);
            }
            Ok(None) => {}
            Err(e) => log("error", "load", json!({"error": e})),
        }
        let delay = match &desired {
            None => opts.interval,
            Some(d) => match pass(&target, d, &opts, &metrics).await {
                Ok(()) => {
                    failures = 0;
                    opts.interval
                }
                Err(e) => {
                    failures = failures.saturating_add(1);
                    metrics.failures.fetch_add(1, Ordering::Relaxed);
                    let backoff = backoff(opts.interval, failures, opts.max_backoff);
                    log("error", "sync", json!({"error": e.0, "retry_in_ms": backoff.as_millis() as u64}));
                    backoff
                }
            },
        };
        let deadline = tokio::time::Instant::now() + delay;
        loop {
            tokio::select! {
                _ = tokio::time::sleep_until(deadline) => break,
                // After a failure the back-off holds even when objects change.
                Some(()) = nudged.recv(), if failures == 0 => {
                    // Changes come in bursts (an apply touches many objects): let them settle into one pass.
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    while nudged.try_recv().is_ok() {}
                    break;
                }
                // The source (files, a mounted ConfigMap) is looked at every second, so an edit is applied
                // without waiting for the interval.
                _ = tokio::time::sleep(SOURCE_CHECK) => match source() {
                    Ok(None) => {}
                    changed => {
                        pending = Some(changed);
                        break;
                    }
                },
                _ = &mut shutdown => {
                    for w in watchers.drain(..) {
                        w.abort();
                    }
                    log("info", "stop", json!({}));
                    return Ok(());
                }
            }
        }
    }
}

/// How often the source of the desired state is checked for changes.
const SOURCE_CHECK: Duration = Duration::from_secs(1);

/// One watch per kind of the bundle (and ConfigMaps), of the objects carrying the set's label.
fn start_watches(
    target: &Target,
    d: &Desired,
    nudge: tokio::sync::mpsc::Sender<()>,
    retry: Duration,
) -> Vec<tokio::task::JoinHandle<()>> {
    let id = super::inventory::applyset_id(&super::inventory::parent_name(&d.mesh_name), &target.namespace);
    let mut kinds: std::collections::BTreeSet<String> =
        d.objects.iter().map(|o| super::plan::Key::of(o).group_kind).collect();
    kinds.insert("ConfigMap".to_string());
    kinds
        .into_iter()
        .filter_map(|gk| {
            let (api_version, kind) = super::api_version_of(&gk)?;
            let resource = super::resource_of(&api_version, &kind)?;
            let api = super::api(target, &resource);
            let selector = format!("{}={id}", super::inventory::LABEL_PART_OF);
            Some(tokio::spawn(watch_kind(api, kind, selector, nudge.clone(), retry)))
        })
        .collect()
}

async fn watch_kind(
    api: kube::Api<kube::api::DynamicObject>,
    kind: String,
    selector: String,
    nudge: tokio::sync::mpsc::Sender<()>,
    retry: Duration,
) {
    use futures::StreamExt;
    use kube::api::WatchEvent;
    let params = kube::api::WatchParams::default().labels(&selector).timeout(290);
    loop {
        match api.watch(&params, "0").await {
            Ok(events) => {
                let mut events = Box::pin(events);
                while let Some(event) = events.next().await {
                    match event {
                        Ok(WatchEvent::Added(_) | WatchEvent::Modified(_) | WatchEvent::Deleted(_)) => {
                            // A full channel already holds a wake-up.
                            let _ = nudge.try_send(());
                        }
                        Ok(WatchEvent::Bookmark(_)) => {}
                        // Expired resource version and the like: start a new watch.
                        Ok(WatchEvent::Error(_)) | Err(_) => break,
                    }
                }
            }
            Err(e) if matches!(super::status_code(&e), Some(403..=405)) => {
                log("info", "watch", json!({"kind": kind, "fallback": "polling", "reason": super::describe(&e)}));
                return;
            }
            Err(_) => {}
        }
        tokio::time::sleep(retry).await;
    }
}

/// `interval * 2^(failures-1)`, capped.
pub fn backoff(interval: Duration, failures: u32, max: Duration) -> Duration {
    let factor = 2u32.saturating_pow(failures.saturating_sub(1).min(16));
    interval.saturating_mul(factor).min(max.max(interval))
}

async fn pass(target: &Target, d: &Desired, opts: &Options, metrics: &Metrics) -> Result<(), ClusterError> {
    metrics.passes.fetch_add(1, Ordering::Relaxed);
    let p = plan(target, &d.mesh_name, &d.objects, &d.topology, opts.prune).await?;
    let drifted = p.count(Op::Create) + p.count(Op::Update);
    let deleted = p.count(Op::Delete);
    if drifted + deleted > 0 || p.parent_before.is_some() || p.parent_after.is_some() {
        for c in p.changes.iter().filter(|c| c.op != Op::Unchanged) {
            let reason = match c.op {
                Op::Create => "missing",
                Op::Update => "drifted",
                _ => "no longer declared",
            };
            log(
                "info",
                "plan",
                json!({"object": c.key.to_string(), "op": format!("{:?}", c.op).to_lowercase(), "reason": reason}),
            );
        }
        let report = |line: &str| log("info", "apply", json!({"result": line}));
        execute(target, &p, opts.apply, &report).await?;
        metrics.applied.fetch_add(drifted as u64, Ordering::Relaxed);
        metrics.deleted.fetch_add(deleted as u64, Ordering::Relaxed);
        metrics.drift_corrections.fetch_add(drifted as u64, Ordering::Relaxed);
    }
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0);
    metrics.last_success_unix.store(now, Ordering::Relaxed);
    Ok(())
}

async fn shutdown_signal() {
    #[cfg(unix)]
    {
        let mut term = match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(s) => s,
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
                return;
            }
        };
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}

/// Serves `/healthz` and `/metrics` over HTTP/1.1.
async fn serve(listener: tokio::net::TcpListener, metrics: Arc<Metrics>) {
    use http_body_util::Full;
    use hyper::{body::Bytes, Response};
    loop {
        let Ok((stream, _)) = listener.accept().await else {
            // Out of file descriptors or similar: give the system a moment instead of spinning.
            tokio::time::sleep(Duration::from_millis(100)).await;
            continue;
        };
        let metrics = metrics.clone();
        tokio::spawn(async move {
            let service = hyper::service::service_fn(move |req: hyper::Request<hyper::body::Incoming>| {
                let metrics = metrics.clone();
                async move {
                    let (status, content_type, body) = match req.uri().path() {
                        "/healthz" => (200, "text/plain", "ok\n".to_string()),
                        // Ready once a pass has brought the cluster in line with the bundle.
                        "/readyz" if metrics.last_success_unix.load(Ordering::Relaxed) > 0 => {
                            (200, "text/plain", "ok\n".to_string())
                        }
                        "/readyz" => (503, "text/plain", "no successful sync yet\n".to_string()),
                        "/metrics" => (200, "text/plain; version=0.0.4", metrics.render()),
                        _ => (404, "text/plain", "not found\n".to_string()),
                    };
                    Response::builder()
                        .status(status)
                        .header("content-type", content_type)
                        .body(Full::new(Bytes::from(body)))
                }
            });
            let io = hyper_util::rt::TokioIo::new(stream);
            let _ = hyper::server::conn::http1::Builder::new().serve_connection(io, service).await;
        });
    }
}

/// The pipeline a controller is set up for: its name, compiled bundle,
/// apply order and objects.
pub struct BundleSpec<'a> {
    pub mesh_name: &'a str,
    pub bundle_yaml: &'a str,
    pub topology: &'a Topology,
    pub objects: &'a [Value],
}

/// Kinds mesh can write, for a controller set up before its bundle is known.
const ALL_KINDS: [(&str, &str); 9] = [
    ("v1", "ConfigMap"),
    ("v1", "Service"),
    ("apps/v1", "StatefulSet"),
    ("autoscaling/v2", "HorizontalPodAutoscaler"),
    ("autoscaling.k8s.io/v1", "VerticalPodAutoscaler"),
    ("compute.functionmesh.io/v1alpha1", "Function"),
    ("compute.functionmesh.io/v1alpha1", "Source"),
    ("compute.functionmesh.io/v1alpha1", "Sink"),
    ("compute.functionmesh.io/v1alpha1", "FunctionMesh"),
];

/// The ConfigMap a controller reads its bundle from, when set up without one.
pub const DEFAULT_BUNDLE_CONFIG_MAP: &str = "mesh-controller-bundle";

/// What `mesh controller manifests` prints to run the controller in a
/// namespace: a ServiceAccount, a Role allowing exactly the kinds of the
/// bundle (plus ConfigMaps, for the inventory), its RoleBinding, the
/// ConfigMap carrying the bundle and topology, and the Deployment. Without a
/// bundle, the Role allows every kind mesh writes and the bundle ConfigMap
/// ([`DEFAULT_BUNDLE_CONFIG_MAP`]) is left to the user to create.
pub fn manifests(namespace: &str, image: &str, bundle: Option<&BundleSpec>) -> Vec<Value> {
    let name = match bundle {
        Some(b) => format!("{}-mesh-controller", b.mesh_name),
        None => "mesh-controller".to_string(),
    };
    let mut labels = json!({
        "app.kubernetes.io/name": "mesh-controller",
        "app.kubernetes.io/instance": name,
        "app.kubernetes.io/managed-by": "mesh",
    });
    if let Some(b) = bundle {
        labels["app.kubernetes.io/part-of"] = json!(b.mesh_name);
    }
    let kinds: Vec<(String, String)> = match bundle {
        Some(b) => super::kinds_of(b.objects),
        None => ALL_KINDS.iter().map(|(a, k)| (a.to_string(), k.to_string())).collect(),
    };
    let mut by_group: std::collections::BTreeMap<String, std::collections::BTreeSet<String>> = Default::default();
    by_group.entry(String::new()).or_default().insert("configmaps".into());
    for (api_version, kind) in &kinds {
        if let Some(r) = super::resource_of(api_version, kind) {
            by_group.entry(r.group).or_default().insert(r.plural);
        }
    }
    let rules: Vec<Value> = by_group
        .into_iter()
        .map(|(group, resources)| {
            json!({
                "apiGroups": [group],
                "resources": resources.into_iter().collect::<Vec<_>>(),
                "verbs": ["get", "list", "create", "patch", "delete"],
            })
        })
        .collect();
    let config_map = match bundle {
        Some(_) => format!("{name}-bundle"),
        None => DEFAULT_BUNDLE_CONFIG_MAP.to_string(),
    };
    let mut args = vec!["controller", "run", "--bundle", "/etc/mesh/bundle.yaml"];
    if bundle.is_some() {
        args.extend(["--topology", "/etc/mesh/topology.json"]);
    }
    args.extend(["-n", namespace, "--listen", "0.0.0.0:8080"]);
    let mut out = vec![
        json!({"apiVersion": "v1", "kind": "ServiceAccount",
               "metadata": {"name": name, "namespace": namespace, "labels": labels}}),
        json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role",
               "metadata": {"name": name, "namespace": namespace, "labels": labels}, "rules": rules}),
        json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding",
               "metadata": {"name": name, "namespace": namespace, "labels": labels},
               "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": name},
               "subjects": [{"kind": "ServiceAccount", "name": name, "namespace": namespace}]}),
    ];
    if let Some(b) = bundle {
        let topology_json = serde_json::to_string_pretty(b.topology).unwrap_or_default();
        out.push(json!({"apiVersion": "v1", "kind": "ConfigMap",
               "metadata": {"name": config_map, "namespace": namespace, "labels": labels},
               "data": {"bundle.yaml": b.bundle_yaml, "topology.json": topology_json}}));
    }
    out.push(json!({"apiVersion": "apps/v1", "kind": "Deployment",
               "metadata": {"name": name, "namespace": namespace, "labels": labels},
               "spec": {
                   "replicas": 1,
                   "selector": {"matchLabels": {"app.kubernetes.io/instance": name}},
                   "template": {
                       "metadata": {"labels": labels,
                                    "annotations": {"prometheus.io/scrape": "true", "prometheus.io/port": "8080"}},
                       "spec": {
                           "serviceAccountName": name,
                           "securityContext": {"runAsNonRoot": true, "runAsUser": 65532, "seccompProfile": {"type": "RuntimeDefault"}},
                           "containers": [{
                               "name": "controller",
                               "image": image,
                               "args": args,
                               "ports": [{"name": "http", "containerPort": 8080}],
                               "livenessProbe": {"httpGet": {"path": "/healthz", "port": "http"}, "periodSeconds": 20},
                               "readinessProbe": {"httpGet": {"path": "/readyz", "port": "http"}, "periodSeconds": 10},
                               "resources": {"requests": {"cpu": "50m", "memory": "64Mi"}, "limits": {"memory": "256Mi"}},
                               "securityContext": {"allowPrivilegeEscalation": false, "readOnlyRootFilesystem": true,
                                                   "capabilities": {"drop": ["ALL"]}},
                               "volumeMounts": [{"name": "bundle", "mountPath": "/etc/mesh", "readOnly": true}],
                           }],
                           "volumes": [{"name": "bundle", "configMap": {"name": config_map}}],
                       },
                   },
               }}));
    out
}

/// The pipeline a bundle belongs to: the `app.kubernetes.io/part-of` label
/// mesh puts on every object.
pub fn mesh_name_of(objects: &[Value]) -> Result<String, String> {
    let names: std::collections::BTreeSet<&str> = objects
        .iter()
        .filter_map(|o| o.pointer("/metadata/labels/app.kubernetes.io~1part-of").and_then(Value::as_str))
        .collect();
    match names.len() {
        1 => Ok(names.into_iter().next().unwrap_or_default().to_string()),
        0 => Err("the bundle's objects carry no app.kubernetes.io/part-of label; pass --mesh-name".into()),
        _ => Err(format!(
            "the bundle mixes pipelines ({}); pass --mesh-name",
            names.into_iter().collect::<Vec<_>>().join(", ")
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_and_caps() {
        let s = Duration::from_secs;
        assert_eq!(backoff(s(5), 1, s(300)), s(5));
        assert_eq!(backoff(s(5), 2, s(300)), s(10));
        assert_eq!(backoff(s(5), 4, s(300)), s(40));
        assert_eq!(backoff(s(5), 30, s(300)), s(300));
    }

    #[test]
    fn metrics_are_prometheus_text() {
        let m = Metrics::default();
        m.passes.store(3, Ordering::Relaxed);
        let text = m.render();
        assert!(text.contains("# TYPE mesh_sync_passes_total counter\nmesh_sync_passes_total 3\n"), "{text}");
    }

    #[test]
    fn the_role_allows_only_the_kinds_of_the_bundle() {
        let objects = vec![
            json!({"apiVersion": "compute.functionmesh.io/v1alpha1", "kind": "Function", "metadata": {"name": "f"}}),
            json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"}}),
        ];
        let spec = BundleSpec { mesh_name: "shop", bundle_yaml: "", topology: &Topology::default(), objects: &objects };
        let m = manifests("ns", "img:1", Some(&spec));
        let kinds: Vec<&str> = m.iter().filter_map(|o| o["kind"].as_str()).collect();
        assert_eq!(kinds, ["ServiceAccount", "Role", "RoleBinding", "ConfigMap", "Deployment"]);
        let rules = &m[1]["rules"];
        assert_eq!(rules.as_array().map(Vec::len), Some(2));
        assert_eq!(rules[0]["resources"], json!(["configmaps"]));
        assert_eq!(rules[1]["apiGroups"], json!(["compute.functionmesh.io"]));
        assert_eq!(rules[1]["resources"], json!(["functions"]));

        // Without a bundle: every kind mesh writes, and the bundle ConfigMap is the user's.
        let m = manifests("ns", "img:1", None);
        let kinds: Vec<&str> = m.iter().filter_map(|o| o["kind"].as_str()).collect();
        assert_eq!(kinds, ["ServiceAccount", "Role", "RoleBinding", "Deployment"]);
        let groups: Vec<&str> =
            m[1]["rules"].as_array().unwrap().iter().filter_map(|r| r["apiGroups"][0].as_str()).collect();
        assert_eq!(groups, ["", "apps", "autoscaling", "autoscaling.k8s.io", "compute.functionmesh.io"]);
        assert_eq!(m[3]["spec"]["template"]["spec"]["volumes"][0]["configMap"]["name"], DEFAULT_BUNDLE_CONFIG_MAP);
    }

    #[test]
    fn the_pipeline_name_comes_from_the_bundle_labels() {
        let of = |names: &[&str]| -> Vec<Value> {
            names.iter().map(|n| json!({"metadata": {"labels": {"app.kubernetes.io/part-of": n}}})).collect()
        };
        assert_eq!(mesh_name_of(&of(&["shop", "shop"])), Ok("shop".to_string()));
        assert!(mesh_name_of(&of(&["shop", "ops"])).unwrap_err().contains("ops, shop"));
        assert!(mesh_name_of(&[]).is_err());
    }
}
