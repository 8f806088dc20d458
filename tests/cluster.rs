//! `mesh apply`, `mesh diff` and the sync controller, end to end: the `mesh`
//! binary reaches an in-memory API server on 127.0.0.1 through a kubeconfig,
//! as it would reach a real cluster.

mod support;

use serde_json::{json, Value};
use std::io::Read;
use std::path::PathBuf;
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};
use support::apiserver::{ApiServer, Fault, Options};
use support::programs::{chain, chain_changed};

const FM: &str = "/apis/compute.functionmesh.io/v1alpha1/namespaces";

/// source s -> a -> f -> b -> sink k, and g reading a as well.
const PIPELINE: &str = r#"
pulsar p { web_service_url = "http://b:8080", broker_service_url = "pulsar://b:6650" }
topic a : string
topic b : string
topic c : string
source s = connector("com.S") { jar = "s.nar", value = string }
function f(string) -> string = java("com.F") { jar = "f.jar" }
function g(string) -> string = java("com.G") { jar = "g.jar" }
sink k = connector("com.K") { jar = "k.nar" }
sink m = connector("com.M") { jar = "m.nar" }
pipeline x { s -> a -> f -> b -> k
             a -> g -> c -> m }
"#;

/// PIPELINE without its second branch (g, c and m).
fn without_g() -> String {
    PIPELINE
        .replace("             a -> g -> c -> m }", "}")
        .replace("function g(string) -> string = java(\"com.G\") { jar = \"g.jar\" }\n", "")
        .replace("sink m = connector(\"com.M\") { jar = \"m.nar\" }\n", "")
        .replace("topic c : string\n", "")
}

struct Project {
    dir: tempfile::TempDir,
}

impl Project {
    fn new(text: &str) -> Project {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("p.mesh"), text).unwrap();
        Project { dir }
    }

    fn file(&self) -> PathBuf {
        self.dir.path().join("p.mesh")
    }

    fn write(&self, text: &str) {
        std::fs::write(self.file(), text).unwrap();
    }
}

fn mesh(server: &ApiServer, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_mesh"))
        .args(args)
        .env("KUBECONFIG", server.kubeconfig())
        .env("NO_COLOR", "1")
        .stdin(Stdio::null())
        .output()
        .unwrap()
}

fn text(out: &Output) -> (String, String) {
    (String::from_utf8_lossy(&out.stdout).into_owned(), String::from_utf8_lossy(&out.stderr).into_owned())
}

fn code(out: &Output) -> i32 {
    out.status.code().unwrap_or(-1)
}

#[track_caller]
fn assert_exit(out: &Output, expected: i32) {
    let (stdout, stderr) = text(out);
    assert_eq!(code(out), expected, "stdout:\n{stdout}\nstderr:\n{stderr}");
}

fn apply(server: &ApiServer, p: &Project, extra: &[&str]) -> Output {
    let file = p.file();
    let mut args = vec!["apply", file.to_str().unwrap()];
    args.extend_from_slice(extra);
    mesh(server, &args)
}

fn function(server: &ApiServer, name: &str) -> Option<Value> {
    server.get(&format!("{FM}/default/functions/{name}"))
}

/// The names of Function Mesh objects and ConfigMaps the server holds in `default`.
fn names(server: &ApiServer, plural: &str) -> Vec<String> {
    let path = match plural {
        "configmaps" => "/api/v1/namespaces/default/configmaps".to_string(),
        _ => format!("{FM}/default/{plural}"),
    };
    let mut out: Vec<String> =
        server.list(&path).iter().filter_map(|o| o.pointer("/metadata/name")?.as_str().map(str::to_string)).collect();
    out.sort();
    out
}

#[test]
fn apply_creates_the_bundle_with_its_inventory_in_topology_order() {
    let server = ApiServer::start();
    let p = Project::new(PIPELINE);
    let out = apply(&server, &p, &[]);
    assert_exit(&out, 0);
    let (stdout, _) = text(&out);
    assert!(stdout.contains("Function/f created"), "{stdout}");
    assert!(stdout.contains("0 updated, 0 unchanged, 0 deleted"), "{stdout}");
    assert_eq!(names(&server, "functions"), ["f", "g"]);
    assert_eq!(names(&server, "sources"), ["s"]);
    assert_eq!(names(&server, "sinks"), ["k", "m"]);

    // The parent of the ApplySet, and members labelled with its id.
    let parent = server.get("/api/v1/namespaces/default/configmaps/x-applyset").expect("the inventory exists");
    let id = parent["metadata"]["labels"]["applyset.kubernetes.io/id"].as_str().unwrap().to_string();
    assert!(id.starts_with("applyset-") && id.ends_with("-v1"), "{id}");
    let annotations = &parent["metadata"]["annotations"];
    assert!(annotations["applyset.kubernetes.io/tooling"].as_str().unwrap().starts_with("mesh/"));
    assert_eq!(
        annotations["applyset.kubernetes.io/contains-group-kinds"],
        "ConfigMap,Function.compute.functionmesh.io,Sink.compute.functionmesh.io,Source.compute.functionmesh.io"
    );
    let f = function(&server, "f").unwrap();
    assert_eq!(f["metadata"]["labels"]["applyset.kubernetes.io/part-of"], id.as_str());
    let managers: Vec<&str> = f["metadata"]["managedFields"]
        .as_array()
        .map(|m| m.iter().filter_map(|e| e["manager"].as_str()).collect())
        .unwrap_or_default();
    assert!(managers.is_empty() || managers == ["mesh"], "{managers:?}");

    // Order of the writes: parent, ConfigMaps, then consumers before producers.
    let writes: Vec<String> = server.requests().into_iter().filter(|r| r.method == "PATCH").map(|r| r.path).collect();
    let position = |suffix: &str| {
        writes.iter().position(|p| p.ends_with(suffix)).unwrap_or_else(|| panic!("{suffix} not in {writes:?}"))
    };
    assert_eq!(position("/configmaps/x-applyset"), 0);
    assert!(position("/configmaps/p") < position("/sinks/k"));
    assert!(position("/sinks/k") < position("/functions/f"));
    assert!(position("/sinks/m") < position("/functions/g"));
    assert!(position("/functions/f") < position("/sources/s"));
    assert!(position("/functions/g") < position("/sources/s"));
}

#[test]
fn applying_again_writes_nothing_and_a_change_writes_only_the_changed_object() {
    let server = ApiServer::start();
    let p = Project::new(PIPELINE);
    assert_exit(&apply(&server, &p, &[]), 0);
    server.clear_requests();
    let out = apply(&server, &p, &[]);
    assert_exit(&out, 0);
    assert_eq!(server.writes(), 0, "{:?}", server.requests());
    assert!(text(&out).0.contains("0 created, 0 updated, 7 unchanged, 0 deleted"), "{}", text(&out).0);

    p.write(&PIPELINE.replace(r#"jar = "f.jar""#, r#"jar = "f2.jar""#));
    server.clear_requests();
    let out = apply(&server, &p, &[]);
    assert_exit(&out, 0);
    assert_eq!(server.writes(), 1, "{:?}", server.requests());
    assert!(text(&out).0.contains("Function/f updated"));
    assert_eq!(function(&server, "f").unwrap()["spec"]["java"]["jar"], "f2.jar");
}

#[test]
fn pruning_asks_first_and_never_leaves_the_inventory() {
    let server = ApiServer::start();
    let p = Project::new(PIPELINE);
    assert_exit(&apply(&server, &p, &[]), 0);
    // An object of the same kind that mesh did not create: outside the inventory.
    server.create(
        &format!("{FM}/default/functions"),
        json!({"apiVersion": "compute.functionmesh.io/v1alpha1", "kind": "Function",
               "metadata": {"name": "stranger", "namespace": "default"}, "spec": {"className": "x"}}),
    );
    let smaller = without_g();
    p.write(&smaller);

    // The diff shows the deletions; --no-prune leaves them out.
    let out = mesh(&server, &["diff", p.file().to_str().unwrap()]);
    assert_exit(&out, 0);
    let (stdout, _) = text(&out);
    assert!(stdout.contains("Function/g would be deleted") && stdout.contains("-  name: g"), "{stdout}");
    assert!(stdout.contains("0 to create, 1 to update, 4 unchanged, 2 to delete"), "{stdout}");
    let out = mesh(&server, &["diff", p.file().to_str().unwrap(), "--no-prune"]);
    assert!(text(&out).0.contains("1 to update, 4 unchanged, 0 to delete"), "{}", text(&out).0);

    // No terminal to ask on and no --yes: nothing changes.
    server.clear_requests();
    let out = apply(&server, &p, &[]);
    assert_exit(&out, 1);
    let (_, stderr) = text(&out);
    assert!(stderr.contains("delete  Function/g") && stderr.contains("delete  Sink/m"), "{stderr}");
    assert!(stderr.contains("pass --yes to confirm"), "{stderr}");
    assert_eq!(server.writes(), 0);
    assert!(function(&server, "g").is_some());

    // --no-prune applies and keeps them.
    assert_exit(&apply(&server, &p, &["--no-prune"]), 0);
    assert!(function(&server, "g").is_some());

    let out = apply(&server, &p, &["--yes"]);
    assert_exit(&out, 0);
    let (stdout, _) = text(&out);
    assert!(stdout.contains("Function/g deleted") && stdout.contains("Sink/m deleted"), "{stdout}");
    assert_eq!(names(&server, "functions"), ["f", "stranger"]);
    assert_eq!(names(&server, "sinks"), ["k"]);
    let parent = server.get("/api/v1/namespaces/default/configmaps/x-applyset").unwrap();
    assert!(parent["metadata"]["annotations"]["applyset.kubernetes.io/contains-group-kinds"]
        .as_str()
        .unwrap()
        .contains("Sink.compute.functionmesh.io"));

    // Down to nothing of a kind: the kind leaves the parent's list after its members are gone.
    let no_sinks = smaller.replace("b -> k", "b").replace("sink k = connector(\"com.K\") { jar = \"k.nar\" }\n", "");
    let no_sinks = no_sinks.replace("topic b : string", "topic b : string external");
    p.write(&no_sinks);
    let out = apply(&server, &p, &["--yes"]);
    assert_exit(&out, 0);
    assert!(names(&server, "sinks").is_empty());
    let parent = server.get("/api/v1/namespaces/default/configmaps/x-applyset").unwrap();
    let kinds = parent["metadata"]["annotations"]["applyset.kubernetes.io/contains-group-kinds"].as_str().unwrap();
    assert!(!kinds.contains("Sink"), "{kinds}");
    assert!(function(&server, "stranger").is_some(), "an object outside the inventory was deleted");
}

#[test]
fn diff_shows_changes_and_dry_run_changes_nothing() {
    let server = ApiServer::start();
    let p = Project::new(PIPELINE);

    // Before anything exists: everything would be created.
    let out = mesh(&server, &["diff", p.file().to_str().unwrap(), "--exit-code"]);
    assert_exit(&out, 1);
    assert!(text(&out).0.contains("7 to create, 0 to update, 0 unchanged, 0 to delete"), "{}", text(&out).0);
    assert_eq!(server.writes(), 0);

    assert_exit(&apply(&server, &p, &[]), 0);
    let out = mesh(&server, &["diff", p.file().to_str().unwrap(), "--exit-code"]);
    assert_exit(&out, 0);
    assert!(text(&out).0.contains("0 to create, 0 to update, 7 unchanged, 0 to delete"));

    p.write(&PIPELINE.replace(r#"jar = "f.jar""#, r#"jar = "f2.jar""#));
    server.clear_requests();
    let out = mesh(&server, &["diff", p.file().to_str().unwrap(), "--exit-code"]);
    assert_exit(&out, 1);
    let (stdout, _) = text(&out);
    assert!(stdout.contains("Function/f would be updated"), "{stdout}");
    assert!(stdout.contains("-    jar: f.jar") && stdout.contains("+    jar: f2.jar"), "{stdout}");
    assert!(!stdout.contains("managedFields") && !stdout.contains("resourceVersion"), "{stdout}");
    assert!(stdout.contains("0 to create, 1 to update, 6 unchanged, 0 to delete"), "{stdout}");
    // Without --exit-code a diff is not a failure.
    assert_exit(&mesh(&server, &["diff", p.file().to_str().unwrap()]), 0);

    let out = apply(&server, &p, &["--dry-run"]);
    assert_exit(&out, 0);
    assert!(text(&out).0.contains("+    jar: f2.jar"));
    assert_eq!(server.writes(), 0, "{:?}", server.requests());
    assert_eq!(function(&server, "f").unwrap()["spec"]["java"]["jar"], "f.jar");
}

#[test]
fn conflicts_name_the_other_manager_and_force_takes_over() {
    let server = ApiServer::start();
    let p = Project::new(PIPELINE);
    assert_exit(&apply(&server, &p, &[]), 0);
    // Someone else sets a field mesh has not declared.
    server
        .apply_as(
            "kubectl-edit",
            &format!("{FM}/default/functions/f"),
            json!({"apiVersion": "compute.functionmesh.io/v1alpha1", "kind": "Function",
                   "metadata": {"name": "f"}, "spec": {"timeout": 1000}}),
        )
        .unwrap();
    // Now the program declares it with another value.
    p.write(&PIPELINE.replace(r#"jar = "f.jar" }"#, r#"jar = "f.jar", timeout = 5s }"#));
    let out = apply(&server, &p, &[]);
    assert_exit(&out, 3);
    let (_, stderr) = text(&out);
    assert!(stderr.contains("Function/f: conflict"), "{stderr}");
    assert!(stderr.contains("kubectl-edit") && stderr.contains("--force-conflicts"), "{stderr}");
    assert!(stderr.contains("timeout"), "{stderr}");

    assert_exit(&apply(&server, &p, &["--force-conflicts"]), 0);
    assert_eq!(function(&server, "f").unwrap()["spec"]["timeout"], 5000);
}

#[test]
fn server_errors_and_dropped_connections_fail_clearly_and_the_next_run_converges() {
    let server = ApiServer::start();
    let p = Project::new(PIPELINE);

    fail_once(&server, "PATCH", "/functions/g", 500, "InternalError", "etcd is sad");
    let out = apply(&server, &p, &[]);
    assert_exit(&out, 3);
    assert!(text(&out).1.contains("Function/g: etcd is sad"), "{}", text(&out).1);
    // Consumers went in; the producer's step was not started.
    assert!(function(&server, "f").is_some());
    assert!(server.get(&format!("{FM}/default/sources/s")).is_none());

    server.inject("PATCH", "/sources/s", Fault::Drop, 1);
    let out = apply(&server, &p, &[]);
    assert_exit(&out, 3);
    assert!(text(&out).1.contains("Source/s:"), "{}", text(&out).1);

    server.inject("PATCH", "/sources/s", Fault::Delay(Duration::from_secs(3)), 1);
    let out = apply(&server, &p, &["--request-timeout", "1s"]);
    assert_exit(&out, 3);
    assert!(text(&out).1.contains("timed out"), "{}", text(&out).1);

    let out = apply(&server, &p, &[]);
    assert_exit(&out, 0);
    assert!(server.get(&format!("{FM}/default/sources/s")).is_some());
    server.clear_requests();
    assert_exit(&apply(&server, &p, &[]), 0);
    assert_eq!(server.writes(), 0);
}

#[test]
fn cluster_problems_exit_3_with_the_reason() {
    let p = Project::new(PIPELINE);
    let without_crds = ApiServer::with(Options { crds_installed: false, ..Options::default() });
    let out = apply(&without_crds, &p, &[]);
    assert_exit(&out, 3);
    let (_, stderr) = text(&out);
    assert!(stderr.contains("Function Mesh CRDs are not installed"), "{stderr}");
    assert!(stderr.contains("functions.compute.functionmesh.io") && stderr.contains("--target workloads"), "{stderr}");
    assert_eq!(without_crds.writes(), 0);
    // The workloads target needs no CRDs.
    assert_exit(&apply(&without_crds, &p, &["--target", "workloads"]), 0);
    assert!(!without_crds.list("/apis/apps/v1/namespaces/default/statefulsets").is_empty());

    let server = ApiServer::start();
    let out = apply(&server, &p, &["-n", "missing"]);
    assert_exit(&out, 3);
    assert!(text(&out).1.contains("namespace `missing` does not exist"), "{}", text(&out).1);
    assert_exit(&apply(&server, &p, &["-n", "missing", "--create-namespace"]), 0);
    assert!(server.get(&format!("{FM}/missing/functions/f")).is_some());

    // Refused credentials.
    fail_once(&server, "GET", "/api/v1/namespaces/default", 401, "Unauthorized", "Unauthorized");
    let out = apply(&server, &p, &[]);
    assert_exit(&out, 3);
    assert!(text(&out).1.contains("the cluster refused the credentials (401 Unauthorized)"), "{}", text(&out).1);

    // The `other` context's namespace is `team`.
    let out = apply(&server, &p, &["--context", "other"]);
    assert_exit(&out, 3);
    assert!(text(&out).1.contains("`team`"), "{}", text(&out).1);
    let out = apply(&server, &p, &["--context", "nowhere"]);
    assert_exit(&out, 3);

    // Nothing listening.
    let dead = {
        let s = ApiServer::start();
        let copy = tempfile::NamedTempFile::new().unwrap();
        std::fs::copy(s.kubeconfig(), copy.path()).unwrap();
        copy
    };
    let out = Command::new(env!("CARGO_BIN_EXE_mesh"))
        .args(["apply", p.file().to_str().unwrap()])
        .env("KUBECONFIG", dead.path())
        .output()
        .unwrap();
    assert_exit(&out, 3);
    assert!(text(&out).1.contains("cannot reach the cluster"), "{}", text(&out).1);
}

fn mark_ready(server: &ApiServer, namespace: &str) {
    for (plural, kind) in [("functions", "function"), ("sources", "source"), ("sinks", "sink")] {
        for obj in server.list(&format!("{FM}/{namespace}/{plural}")) {
            let name = obj["metadata"]["name"].as_str().unwrap_or_default().to_string();
            let generation = obj["metadata"]["generation"].clone();
            server.set_status(
                &format!("{FM}/{namespace}/{plural}/{name}"),
                json!({"observedGeneration": generation, "replicas": 1, "selector": "",
                       "conditions": {"StatefulSet": {"condition": "StatefulSetReady", "status": "True", "action": "NoAction"},
                                      "Service": {"condition": "ServiceReady", "status": "True", "action": "NoAction"}}}),
            );
            let sts = format!("{name}-{kind}");
            let path = format!("/apis/apps/v1/namespaces/{namespace}/statefulsets/{sts}");
            if server.get(&path).is_none() {
                server.create(
                    &format!("/apis/apps/v1/namespaces/{namespace}/statefulsets"),
                    json!({"apiVersion": "apps/v1", "kind": "StatefulSet", "metadata": {"name": sts},
                           "spec": {"replicas": 1, "serviceName": sts, "selector": {"matchLabels": {"a": "b"}},
                                    "template": {"metadata": {"labels": {"a": "b"}}, "spec": {"containers": []}}}}),
                );
            }
            server.set_status(&path, json!({"replicas": 1, "readyReplicas": 1}));
        }
    }
}

#[test]
fn wait_reports_what_is_not_ready_and_returns_once_everything_is() {
    let server = ApiServer::start();
    let p = Project::new(PIPELINE);
    server.create(
        "/api/v1/namespaces/default/events",
        json!({"apiVersion": "v1", "kind": "Event", "metadata": {"name": "e1"},
               "involvedObject": {"kind": "Pod", "name": "f-function-0", "namespace": "default"},
               "type": "Warning", "reason": "BackOff", "message": "Back-off restarting failed container",
               "lastTimestamp": "2026-01-01T00:00:00Z"}),
    );
    let out = apply(&server, &p, &["--wait", "--timeout", "1s"]);
    assert_exit(&out, 3);
    let (_, stderr) = text(&out);
    assert!(stderr.contains("timed out after 1s waiting for:"), "{stderr}");
    assert!(stderr.contains("Function/f (no status from the operator yet)"), "{stderr}");
    assert!(stderr.contains("Pod/f-function-0: Warning BackOff: Back-off restarting failed container"), "{stderr}");

    mark_ready(&server, "default");
    let out = apply(&server, &p, &["--wait", "--timeout", "10s"]);
    assert_exit(&out, 0);
    assert!(text(&out).1.contains("Function/f: ready"), "{}", text(&out).1);
}

/// The next request of `method` whose path contains `path` gets this error status.
fn fail_once(server: &ApiServer, method: &str, path: &str, code: u16, reason: &str, message: &str) {
    server.inject(method, path, Fault::Status(code, reason.into(), message.into()), 1);
}

/// Kills the child when the test ends, however it ends.
struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// `mesh controller ARGS... --bundle DIR/bundle.yaml` against the server, its log captured.
fn run_controller(server: &ApiServer, dir: &std::path::Path, args: &[&str]) -> Running {
    let child = Command::new(env!("CARGO_BIN_EXE_mesh"))
        .arg("controller")
        .args(args)
        .arg("--bundle")
        .arg(dir.join("bundle.yaml"))
        .env("KUBECONFIG", server.kubeconfig())
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    Running(child)
}

/// Stops the process and returns what it wrote on stderr.
fn stop_and_read_log(mut running: Running) -> String {
    let _ = running.0.kill();
    let mut log = String::new();
    if let Some(mut e) = running.0.stderr.take() {
        let _ = e.read_to_string(&mut log);
    }
    log
}

/// A counter or gauge from Prometheus text.
fn metric(text: &str, name: &str) -> u64 {
    text.lines().find_map(|l| l.strip_prefix(name)?.strip_prefix(' ')).and_then(|n| n.trim().parse().ok()).unwrap_or(0)
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

fn eventually(what: &str, mut ok: impl FnMut() -> bool) {
    let start = Instant::now();
    while !ok() {
        assert!(start.elapsed() < Duration::from_secs(20), "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn http_get(port: u16, path: &str) -> String {
    use std::io::Write;
    let mut s = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    write!(s, "GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").unwrap();
    let mut out = String::new();
    s.read_to_string(&mut out).unwrap();
    out
}

#[test]
fn watch_puts_back_what_was_deleted_or_edited_and_follows_the_file() {
    let server = ApiServer::start();
    let p = Project::new(PIPELINE);
    let port = free_port();
    let child = Command::new(env!("CARGO_BIN_EXE_mesh"))
        .args(["apply", p.file().to_str().unwrap(), "--watch", "--yes", "--interval", "200ms"])
        .args(["--listen", &format!("127.0.0.1:{port}")])
        .env("KUBECONFIG", server.kubeconfig())
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let _running = Running(child);
    eventually("the first apply", || function(&server, "f").is_some() && function(&server, "g").is_some());

    assert!(server.delete(&format!("{FM}/default/functions/f")));
    eventually("f to come back", || function(&server, "f").is_some());

    // An edit of a field mesh owns is reverted; a field of another manager stays.
    server
        .apply_as(
            "autoscaler",
            &format!("{FM}/default/functions/g"),
            json!({"apiVersion": "compute.functionmesh.io/v1alpha1", "kind": "Function",
                   "metadata": {"name": "g", "labels": {"team": "data"}}}),
        )
        .unwrap();
    let client = server.client();
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let resource = kube::api::ApiResource {
            group: "compute.functionmesh.io".into(),
            version: "v1alpha1".into(),
            api_version: "compute.functionmesh.io/v1alpha1".into(),
            kind: "Function".into(),
            plural: "functions".into(),
        };
        let api: kube::Api<kube::api::DynamicObject> = kube::Api::namespaced_with(client, "default", &resource);
        let patch = json!({"spec": {"java": {"jar": "tampered.jar"}}});
        api.patch("g", &kube::api::PatchParams::default(), &kube::api::Patch::Merge(&patch)).await.unwrap();
    });
    eventually("g's jar to be restored", || function(&server, "g").unwrap()["spec"]["java"]["jar"] == "g.jar");
    assert_eq!(function(&server, "g").unwrap()["metadata"]["labels"]["team"], "data");

    // Editing the program re-applies it, pruning included (--yes).
    p.write(&PIPELINE.replace(r#"jar = "f.jar""#, r#"jar = "f3.jar""#));
    eventually("the edit to land", || function(&server, "f").unwrap()["spec"]["java"]["jar"] == "f3.jar");

    assert!(http_get(port, "/healthz").contains("200 OK"));
    assert!(http_get(port, "/readyz").contains("200 OK"));
    let metrics = http_get(port, "/metrics");
    assert!(metric(&metrics, "mesh_drift_corrections_total") >= 2, "{metrics}");
    assert!(metrics.contains("mesh_managed_objects 7"), "{metrics}");
}

#[test]
fn controller_manifests_and_run_from_a_bundle() {
    let server = ApiServer::start();
    let p = Project::new(PIPELINE);
    let out = mesh(&server, &["controller", "manifests", p.file().to_str().unwrap(), "--image", "example/mesh:1"]);
    assert_exit(&out, 0);
    let docs = support::yaml_docs(&text(&out).0);
    let kinds: Vec<&str> = docs.iter().filter_map(|d| d["kind"].as_str()).collect();
    assert_eq!(kinds, ["ServiceAccount", "Role", "RoleBinding", "ConfigMap", "Deployment"]);
    let validator = support::k8s_schema::K8sValidator::new();
    for doc in &docs {
        assert_eq!(validator.validate(doc), Vec::<String>::new(), "{doc}");
    }
    let rules = docs[1]["rules"].as_array().unwrap();
    let granted: Vec<String> = rules
        .iter()
        .flat_map(|r| r["resources"].as_array().unwrap().iter().map(|x| x.as_str().unwrap().to_string()))
        .collect();
    assert_eq!(granted, ["configmaps", "functions", "sinks", "sources"]);
    let deployment: k8s_openapi::api::apps::v1::Deployment = serde_json::from_value(docs[4].clone()).unwrap();
    let container = &deployment.spec.unwrap().template.spec.unwrap().containers[0];
    assert_eq!(container.image.as_deref(), Some("example/mesh:1"));
    assert!(!container.args.as_ref().unwrap().contains(&"--mesh-name".to_string()));
    let bundle = docs[3]["data"]["bundle.yaml"].as_str().unwrap();
    let topology = docs[3]["data"]["topology.json"].as_str().unwrap();

    // What the Deployment runs, here against the test server.
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("bundle.yaml"), bundle).unwrap();
    std::fs::write(dir.path().join("topology.json"), topology).unwrap();
    // The pipeline's name comes from the bundle's labels, as in the Deployment.
    let topology_file = dir.path().join("topology.json");
    let running = run_controller(
        &server,
        dir.path(),
        &["run", "--interval", "200ms", "--topology", topology_file.to_str().unwrap()],
    );
    eventually("the controller's apply", || names(&server, "functions") == ["f", "g"]);
    assert!(server.delete(&format!("{FM}/default/sinks/k")));
    eventually("k to come back", || names(&server, "sinks") == ["k", "m"]);
    let log = stop_and_read_log(running);
    // One JSON object per line.
    for line in log.lines() {
        let v: Value = serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}"));
        assert!(v["time"].is_string() && v["action"].is_string(), "{line}");
    }
    assert!(log.contains(r#""reason":"missing""#) && log.contains("Sink/k"), "{log}");
}

#[test]
fn controller_manifests_without_a_pipeline_set_up_a_controller_for_any() {
    let server = ApiServer::start();
    let out = mesh(&server, &["controller", "manifests", "-n", "pipelines"]);
    assert_exit(&out, 0);
    let (stdout, stderr) = text(&out);
    assert!(stderr.contains("mesh-controller-bundle"), "{stderr}");
    let docs = support::yaml_docs(&stdout);
    let kinds: Vec<&str> = docs.iter().filter_map(|d| d["kind"].as_str()).collect();
    assert_eq!(kinds, ["ServiceAccount", "Role", "RoleBinding", "Deployment"]);
    let validator = support::k8s_schema::K8sValidator::new();
    for doc in &docs {
        assert_eq!(validator.validate(doc), Vec::<String>::new(), "{doc}");
        assert_eq!(doc["metadata"]["namespace"], "pipelines");
    }
    assert_eq!(docs[3]["spec"]["template"]["spec"]["volumes"][0]["configMap"]["name"], "mesh-controller-bundle");
}

#[test]
fn a_thousand_unchanged_objects_cost_no_write_and_k_changes_cost_k_patches() {
    let server = ApiServer::start();
    let p = Project::new(&chain(998));
    let started = Instant::now();
    assert_exit(&apply(&server, &p, &[]), 0);
    let first = started.elapsed();
    let objects = server.writes() - 1; // the inventory parent
    assert_eq!(objects, 1000, "998 functions, the cluster ConfigMap and the topics ConfigMap");

    server.clear_requests();
    let started = Instant::now();
    assert_exit(&apply(&server, &p, &[]), 0);
    let again = started.elapsed();
    assert_eq!(server.writes(), 0);
    let reads = server.requests().len();

    p.write(&chain_changed(998, &[3, 400, 998]));
    server.clear_requests();
    assert_exit(&apply(&server, &p, &[]), 0);
    assert_eq!(server.writes(), 3);
    eprintln!("1000 objects: first apply {first:?}; unchanged re-apply {again:?} with {reads} requests, 0 writes");
}

#[test]
fn the_workloads_target_leaves_replicas_to_the_autoscaler_and_prunes_it_with_the_range() {
    let server = ApiServer::start();
    let scaled = r#"
pulsar p { web_service_url = "http://b:8080", broker_service_url = "pulsar://b:6650" }
topic a : string external
topic b : string external
function f(string) -> string = java("com.F") { jar = "f.jar", replicas = 2..5 }
pipeline w { a -> f -> b }
"#;
    let p = Project::new(scaled);
    assert_exit(&apply(&server, &p, &["--target", "workloads"]), 0);
    let sts_path = "/apis/apps/v1/namespaces/default/statefulsets/f-function";
    let hpa_path = "/apis/autoscaling/v2/namespaces/default/horizontalpodautoscalers/f-function";
    let sts = server.get(sts_path).expect("the StatefulSet");
    assert!(sts.pointer("/spec/replicas").is_none(), "mesh must not own the replicas an HPA moves");
    assert!(server.get(hpa_path).is_some());

    // The autoscaler scales; applying again and diffing leave it be.
    server
        .apply_as(
            "kube-controller-manager",
            sts_path,
            json!({"apiVersion": "apps/v1", "kind": "StatefulSet", "metadata": {"name": "f-function"},
                   "spec": {"replicas": 4}}),
        )
        .unwrap();
    server.clear_requests();
    assert_exit(&apply(&server, &p, &["--target", "workloads"]), 0);
    assert_eq!(server.writes(), 0, "{:?}", server.requests());
    assert_exit(&mesh(&server, &["diff", p.file().to_str().unwrap(), "--target", "workloads", "--exit-code"]), 0);
    assert_eq!(server.get(sts_path).unwrap()["spec"]["replicas"], 4);

    // Readiness of the workloads target is the StatefulSets'.
    let out = apply(&server, &p, &["--target", "workloads", "--wait", "--timeout", "1s"]);
    assert_exit(&out, 3);
    assert!(
        text(&out).1.contains("StatefulSet/f-function (StatefulSet f-function: 0/4 replicas ready)"),
        "{}",
        text(&out).1
    );
    server.set_status(sts_path, json!({"replicas": 4, "readyReplicas": 4}));
    assert_exit(&apply(&server, &p, &["--target", "workloads", "--wait", "--timeout", "5s"]), 0);

    // A fixed replica count: the HPA goes, and mesh owns the replicas again.
    p.write(&scaled.replace("replicas = 2..5", "replicas = 3"));
    let out = apply(&server, &p, &["--target", "workloads", "--yes", "--force-conflicts"]);
    assert_exit(&out, 0);
    assert!(text(&out).0.contains("HorizontalPodAutoscaler/f-function deleted"), "{}", text(&out).0);
    assert!(server.get(hpa_path).is_none());
    assert_eq!(server.get(sts_path).unwrap()["spec"]["replicas"], 3);
}

/// Runs `mesh apply` on a terminal (util-linux `script` gives it one) and answers its question.
fn apply_on_a_terminal(server: &ApiServer, p: &Project, answer: &str) -> Option<(i32, String)> {
    use std::io::Write;
    let command = format!("{} apply {}", env!("CARGO_BIN_EXE_mesh"), p.file().display());
    let mut child = Command::new("script")
        .args(["-qec", &command, "/dev/null"])
        .env("KUBECONFIG", server.kubeconfig())
        .env("NO_COLOR", "1")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .ok()?;
    // The answer waits in the terminal's input until mesh reads it.
    child.stdin.take()?.write_all(answer.as_bytes()).ok()?;
    let out = child.wait_with_output().ok()?;
    Some((code(&out), String::from_utf8_lossy(&out.stdout).into_owned()))
}

#[test]
fn an_interactive_apply_asks_before_deleting() {
    if Command::new("script").arg("--version").output().is_err() {
        println!("note: util-linux `script` is not installed; the terminal case is skipped");
        return;
    }
    let server = ApiServer::start();
    let p = Project::new(PIPELINE);
    assert_exit(&apply(&server, &p, &[]), 0);
    p.write(&without_g());

    let (status, screen) = apply_on_a_terminal(&server, &p, "n\n").expect("script runs");
    assert_eq!(status, 1, "{screen}");
    assert!(screen.contains("2 objects no longer declared will be deleted. Continue? [y/N]"), "{screen}");
    assert!(function(&server, "g").is_some());

    let (status, screen) = apply_on_a_terminal(&server, &p, "y\n").expect("script runs");
    assert_eq!(status, 0, "{screen}");
    assert!(screen.contains("Function/g deleted"), "{screen}");
    assert!(function(&server, "g").is_none());
}

#[test]
fn watch_reacts_to_changes_before_the_interval_comes_round() {
    let server = ApiServer::start();
    let p = Project::new(PIPELINE);
    // A minute between passes: anything faster than that is the watches' doing.
    let child = Command::new(env!("CARGO_BIN_EXE_mesh"))
        .args(["apply", p.file().to_str().unwrap(), "--watch", "--interval", "60s"])
        .env("KUBECONFIG", server.kubeconfig())
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let _running = Running(child);
    eventually("the first apply", || names(&server, "sinks") == ["k", "m"]);
    // Let the controller's first pass end; the next one is a minute away.
    std::thread::sleep(Duration::from_secs(1));

    let started = Instant::now();
    assert!(server.delete(&format!("{FM}/default/sinks/m")));
    eventually("m to come back", || names(&server, "sinks") == ["k", "m"]);
    assert!(started.elapsed() < Duration::from_secs(10), "{:?}", started.elapsed());

    // An edit of the program is noticed within seconds too.
    let started = Instant::now();
    p.write(&PIPELINE.replace(r#"jar = "g.jar""#, r#"jar = "g2.jar""#));
    eventually("the edit to land", || function(&server, "g").unwrap()["spec"]["java"]["jar"] == "g2.jar");
    assert!(started.elapsed() < Duration::from_secs(10), "{:?}", started.elapsed());
}

#[test]
fn a_namespace_flag_that_contradicts_the_program_is_a_usage_error() {
    let server = ApiServer::with(Options { namespaces: vec!["default".into(), "shop".into()], ..Options::default() });
    let p = Project::new(&PIPELINE.replace("pulsar p {", "defaults { kubernetes_namespace = \"shop\" }\npulsar p {"));
    let out = apply(&server, &p, &["-n", "other"]);
    assert_exit(&out, 2);
    assert!(text(&out).1.contains("contradicts the program's kubernetes_namespace `shop`"), "{}", text(&out).1);
    assert_exit(&mesh(&server, &["diff", p.file().to_str().unwrap(), "-n", "other"]), 2);
    assert!(server.requests().is_empty());
    // The program's namespace is used, and -n may repeat it.
    assert_exit(&apply(&server, &p, &["-n", "shop"]), 0);
    assert!(server.get(&format!("{FM}/shop/functions/f")).is_some());
}

#[test]
fn a_server_without_discovery_or_namespace_reads_still_gets_the_bundle() {
    // Some servers (and proxies) answer discovery and namespace reads with errors that say nothing about
    // the namespace or the CRDs; mesh then goes on and lets the writes tell.
    let server = ApiServer::start();
    fail_once(&server, "GET", "/apis/compute.functionmesh.io/v1alpha1", 500, "InternalError", "no");
    fail_once(&server, "GET", "/api/v1/namespaces/default", 403, "Forbidden", "no");
    let p = Project::new(PIPELINE);
    assert_exit(&apply(&server, &p, &[]), 0);
    assert_eq!(names(&server, "functions"), ["f", "g"]);

    // Without discovery, a 404 from listing the resource still shows the CRDs are missing.
    let without_crds = ApiServer::with(Options { crds_installed: false, ..Options::default() });
    fail_once(&without_crds, "GET", "/apis/compute.functionmesh.io/v1alpha1", 500, "InternalError", "no");
    let out = apply(&without_crds, &p, &[]);
    assert_exit(&out, 3);
    assert!(text(&out).1.contains("Function Mesh CRDs are not installed"), "{}", text(&out).1);
}

#[test]
fn a_controller_that_cannot_sync_stays_unready_and_backs_off() {
    let server = ApiServer::with(Options { crds_installed: false, ..Options::default() });
    let p = Project::new(PIPELINE);
    let bundle = mesh(&server, &["compile", p.file().to_str().unwrap()]);
    assert_exit(&bundle, 0);
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("bundle.yaml"), &bundle.stdout).unwrap();
    let port = free_port();
    let listen = format!("127.0.0.1:{port}");
    // `mesh controller` without `run` is the same command.
    let running = run_controller(&server, dir.path(), &["--interval", "100ms", "--listen", &listen]);
    eventually("two failed passes", || {
        std::net::TcpStream::connect(("127.0.0.1", port)).is_ok()
            && metric(&http_get(port, "/metrics"), "mesh_sync_failures_total") >= 2
    });
    assert!(http_get(port, "/healthz").contains("200 OK"));
    assert!(http_get(port, "/readyz").contains("503"), "{}", http_get(port, "/readyz"));
    let log = stop_and_read_log(running);
    let errors: Vec<Value> = log
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter(|v| v["level"] == "error" && v["action"] == "sync")
        .collect();
    assert!(errors.len() >= 2, "{log}");
    // The back-off doubles: 100 ms, 200 ms, ...
    assert_eq!(errors[0]["retry_in_ms"], 100, "{log}");
    assert_eq!(errors[1]["retry_in_ms"], 200, "{log}");
}

#[test]
fn a_bundle_too_big_for_a_config_map_is_refused_by_controller_manifests() {
    let server = ApiServer::start();
    let p = Project::new(&chain(1200));
    let out = mesh(&server, &["controller", "manifests", p.file().to_str().unwrap()]);
    assert_exit(&out, 1);
    let (stdout, stderr) = text(&out);
    assert!(stderr.contains("more than the 1 MiB a ConfigMap can hold"), "{stderr}");
    assert!(stdout.is_empty());
}
