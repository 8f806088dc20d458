//! Tests of the in-memory API server (`tests/support/apiserver.rs`) that the cluster tests run against.

mod support;

use std::io::{Read, Write};
use std::time::{Duration, Instant};

use futures::StreamExt;
use k8s_openapi::api::core::v1::{ConfigMap, Namespace};
use kube::api::{Api, ApiResource, DeleteParams, DynamicObject, ListParams, Patch, PatchParams, PostParams};
use kube::config::{KubeConfigOptions, Kubeconfig};
use serde_json::{json, Value};
use support::apiserver::{ApiServer, Fault, Options, Request};

const FUNCTIONS: &str = "/apis/compute.functionmesh.io/v1alpha1/namespaces/default/functions";
const CONFIGMAPS: &str = "/api/v1/namespaces/default/configmaps";

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap()
}

fn functions(client: kube::Client) -> Api<DynamicObject> {
    let resource = ApiResource {
        group: "compute.functionmesh.io".into(),
        version: "v1alpha1".into(),
        api_version: "compute.functionmesh.io/v1alpha1".into(),
        kind: "Function".into(),
        plural: "functions".into(),
    };
    Api::namespaced_with(client, "default", &resource)
}

fn function(name: &str, spec: Value) -> Value {
    json!({
        "apiVersion": "compute.functionmesh.io/v1alpha1",
        "kind": "Function",
        "metadata": { "name": name, "namespace": "default" },
        "spec": spec,
    })
}

fn configmap(name: &str, data: Value) -> ConfigMap {
    serde_json::from_value(json!({ "metadata": { "name": name }, "data": data })).unwrap()
}

/// (code, reason, message) of an API error; panics on any other outcome.
fn api_error<T: std::fmt::Debug>(result: Result<T, kube::Error>) -> (u16, String, String) {
    match result {
        Err(kube::Error::Api(s)) => (s.code, s.reason, s.message),
        other => panic!("expected an API error, got {other:?}"),
    }
}

fn rv(obj: &Value) -> String {
    obj.pointer("/metadata/resourceVersion").and_then(Value::as_str).unwrap().to_string()
}

fn names(items: &[Value]) -> Vec<String> {
    items.iter().map(|o| o["metadata"]["name"].as_str().unwrap().to_string()).collect()
}

/// One HTTP/1.1 request on its own connection: (status, content type, body). An error (or an empty
/// answer, reported as UnexpectedEof) means the connection was closed without a response.
fn raw(
    server: &ApiServer,
    method: &str,
    target: &str,
    content_type: &str,
    body: &str,
) -> std::io::Result<(u16, String, String)> {
    let addr = server.url().trim_start_matches("http://").to_string();
    let mut stream = std::net::TcpStream::connect(&addr)?;
    stream.set_read_timeout(Some(Duration::from_secs(5)))?;
    let head = format!("{method} {target} HTTP/1.1\r\nHost: {addr}\r\nContent-Type: {content_type}\r\n");
    write!(stream, "{head}Content-Length: {}\r\nConnection: close\r\n\r\n{body}", body.len())?;
    let mut answer = Vec::new();
    stream.read_to_end(&mut answer)?;
    if answer.is_empty() {
        return Err(std::io::ErrorKind::UnexpectedEof.into());
    }
    let text = String::from_utf8(answer).unwrap();
    let (head, body) = text.split_once("\r\n\r\n").unwrap();
    let status = head.split(' ').nth(1).unwrap().parse().unwrap();
    let content_type = head
        .lines()
        .find_map(|l| l.to_ascii_lowercase().strip_prefix("content-type: ").map(str::to_string))
        .unwrap_or_default();
    Ok((status, content_type, body.to_string()))
}

#[test]
fn create_get_and_list() {
    let server = ApiServer::start();
    runtime().block_on(async {
        let cms: Api<ConfigMap> = Api::default_namespaced(server.client());
        let created = cms.create(&PostParams::default(), &configmap("a", json!({ "k": "v" }))).await.unwrap();
        assert!(created.metadata.uid.is_some() && created.metadata.resource_version.is_some());
        let got = cms.get("a").await.unwrap();
        assert_eq!(got.data.unwrap()["k"], "v");

        let (code, reason, _) = api_error(cms.create(&PostParams::default(), &configmap("a", json!({}))).await);
        assert_eq!((code, reason.as_str()), (409, "AlreadyExists"));
        let (code, reason, message) = api_error(cms.get("missing").await);
        assert_eq!((code, reason.as_str(), message.as_str()), (404, "NotFound", "configmaps \"missing\" not found"));
        assert_eq!(cms.get_opt("missing").await.unwrap(), None);
    });
    assert_eq!(server.get(&format!("{CONFIGMAPS}/a")).unwrap()["data"]["k"], "v");
    server.create(CONFIGMAPS, json!({ "apiVersion": "v1", "kind": "ConfigMap", "metadata": { "name": "b" } }));
    assert_eq!(names(&server.list(CONFIGMAPS)), ["a", "b"]);
    assert_eq!(names(&server.list("/api/v1/configmaps")), ["a", "b"], "a list across namespaces");
    assert!(server.get(&format!("{CONFIGMAPS}/missing")).is_none());
}

#[test]
fn lists_page_with_limit_and_continue_in_name_order() {
    let server = ApiServer::start();
    for name in ["c4", "c1", "c3", "c0", "c2"] {
        server.create(CONFIGMAPS, json!({ "metadata": { "name": name } }));
    }
    runtime().block_on(async {
        let cms: Api<ConfigMap> = Api::default_namespaced(server.client());
        let mut seen = Vec::new();
        let mut params = ListParams::default().limit(2);
        loop {
            let page = cms.list(&params).await.unwrap();
            assert!(page.items.len() <= 2);
            seen.extend(page.items.into_iter().map(|c| c.metadata.name.unwrap()));
            match page.metadata.continue_ {
                Some(token) if !token.is_empty() => params = ListParams::default().limit(2).continue_token(&token),
                _ => break,
            }
        }
        assert_eq!(seen, ["c0", "c1", "c2", "c3", "c4"]);
    });
}

#[test]
fn server_side_apply_creates_reapplies_and_removes_dropped_fields() {
    let server = ApiServer::start();
    let path = format!("{FUNCTIONS}/f");
    runtime().block_on(async {
        let api = functions(server.client());
        let mesh = PatchParams::apply("mesh");
        let spec = json!({ "replicas": 1, "className": "org.example.Fn", "pulsar": { "pulsarConfig": "p" } });
        let first = api.patch("f", &mesh, &Patch::Apply(function("f", spec.clone()))).await.unwrap();
        assert_eq!(first.data["spec"]["replicas"], 1);
        let managers: Vec<_> =
            first.metadata.managed_fields.iter().flatten().filter_map(|e| e.manager.clone()).collect();
        assert_eq!(managers, ["mesh"]);
        let created = server.get(&path).unwrap();

        // Unchanged: no write, the resourceVersion stays.
        let again = api.patch("f", &mesh, &Patch::Apply(function("f", spec))).await.unwrap();
        assert_eq!(again.metadata.resource_version.as_deref(), Some(rv(&created).as_str()));

        // The operator reports status; applies of the spec keep it.
        server.set_status(&path, json!({ "replicas": 1 }));

        // Changed, with `className` and `pulsar.pulsarConfig` no longer applied: both are removed.
        let changed = api.patch("f", &mesh, &Patch::Apply(function("f", json!({ "replicas": 2 })))).await.unwrap();
        assert_ne!(changed.metadata.resource_version.as_deref(), Some(rv(&created).as_str()));
        let stored = server.get(&path).unwrap();
        assert_eq!(stored["spec"], json!({ "replicas": 2 }));
        assert_eq!(stored["status"], json!({ "replicas": 1 }));
    });
}

#[test]
fn a_field_another_manager_owns_with_another_value_is_a_conflict_naming_it() {
    let server = ApiServer::start();
    let path = format!("{FUNCTIONS}/f");
    server.apply_as("kubectl", &path, function("f", json!({ "replicas": 3 }))).unwrap();
    runtime().block_on(async {
        let api = functions(server.client());
        let mesh = PatchParams::apply("mesh");
        let desired = |replicas: i64| Patch::Apply(function("f", json!({ "replicas": replicas, "className": "C" })));

        let (code, reason, message) = api_error(api.patch("f", &mesh, &desired(2)).await);
        assert_eq!((code, reason.as_str()), (409, "Conflict"));
        assert!(message.contains("\"kubectl\"") && message.contains(".spec.replicas"), "{message}");
        assert_eq!(server.get(&path).unwrap()["spec"], json!({ "replicas": 3 }), "a conflict writes nothing");

        // The same value is no conflict: both managers own the field.
        api.patch("f", &mesh, &desired(3)).await.unwrap();
        let (code, message) = server.apply_as("kubectl", &path, function("f", json!({ "replicas": 5 }))).unwrap_err();
        assert_eq!(code, 409);
        assert!(message.contains("\"mesh\""), "{message}");

        // Forcing takes the field over.
        api.patch("f", &mesh.clone().force(), &desired(2)).await.unwrap();
        let stored = server.get(&path).unwrap();
        assert_eq!(stored["spec"]["replicas"], 2);
        let kubectl_owns_replicas = stored["metadata"]["managedFields"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["manager"] == "kubectl" && e.pointer("/fieldsV1/f:spec/f:replicas").is_some());
        assert!(!kubectl_owns_replicas, "{stored:#}");
    });
}

#[test]
fn dry_runs_answer_without_storing() {
    let server = ApiServer::start();
    let path = format!("{FUNCTIONS}/g");
    runtime().block_on(async {
        let api = functions(server.client());
        let dry = PatchParams::apply("mesh").dry_run();

        let would = api.patch("g", &dry, &Patch::Apply(function("g", json!({ "replicas": 1 })))).await.unwrap();
        assert_eq!((would.metadata.name.as_deref(), &would.data["spec"]["replicas"]), (Some("g"), &json!(1)));
        assert!(server.get(&path).is_none(), "a dry-run apply created the object");

        api.patch("g", &PatchParams::apply("mesh"), &Patch::Apply(function("g", json!({ "replicas": 1 }))))
            .await
            .unwrap();
        server.set_status(&path, json!({ "replicas": 1 }));
        let live = server.get(&path).unwrap();

        let would = api.patch("g", &dry, &Patch::Apply(function("g", json!({ "replicas": 4 })))).await.unwrap();
        assert_eq!(would.data["spec"]["replicas"], 4);
        assert_eq!(would.data["status"], json!({ "replicas": 1 }), "status is kept");
        assert_eq!(would.metadata.resource_version.as_deref(), Some(rv(&live).as_str()));
        assert_eq!(server.get(&path).unwrap(), live, "a dry-run apply changed the object");

        // Conflicts show in dry runs too.
        server.apply_as("hpa", &path, function("g", json!({ "replicas": 1 }))).unwrap();
        let (code, _, message) =
            api_error(api.patch("g", &dry, &Patch::Apply(function("g", json!({ "replicas": 9 })))).await);
        assert_eq!(code, 409);
        assert!(message.contains("\"hpa\""), "{message}");
        let live = server.get(&path).unwrap();

        let deleted = api.delete("g", &DeleteParams::default().dry_run()).await.unwrap();
        assert!(deleted.is_left());
        assert_eq!(server.get(&path).unwrap(), live, "a dry-run delete deleted");
        assert_eq!(api_error(api.delete("nothing", &DeleteParams::default().dry_run()).await).0, 404);

        let cms: Api<ConfigMap> = Api::default_namespaced(server.client());
        let post = PostParams { dry_run: true, ..Default::default() };
        let would = cms.create(&post, &configmap("c", json!({ "k": "v" }))).await.unwrap();
        assert_eq!(would.data.unwrap()["k"], "v");
        assert!(server.get(&format!("{CONFIGMAPS}/c")).is_none(), "a dry-run create created");

        let mut edited = cms.create(&PostParams::default(), &configmap("d", json!({ "k": "v" }))).await.unwrap();
        edited.data = Some([("k".to_string(), "w".to_string())].into());
        let replaced = cms.replace("d", &post, &edited).await.unwrap();
        assert_eq!(replaced.data.unwrap()["k"], "w");
        assert_eq!(server.get(&format!("{CONFIGMAPS}/d")).unwrap()["data"]["k"], "v", "a dry-run replace wrote");
    });
    // One real apply and one real create; every dry run above is left out.
    assert_eq!(server.writes(), 2);
}

#[test]
fn delete_removes_and_a_second_delete_is_not_found() {
    let server = ApiServer::start();
    let path = format!("{FUNCTIONS}/f");
    server.apply_as("mesh", &path, function("f", json!({ "replicas": 1 }))).unwrap();
    runtime().block_on(async {
        let api = functions(server.client());
        api.delete("f", &DeleteParams::default()).await.unwrap();
        assert!(server.get(&path).is_none());
        let (code, _, message) = api_error(api.delete("f", &DeleteParams::default()).await);
        assert_eq!(code, 404);
        assert_eq!(message, "functions.compute.functionmesh.io \"f\" not found");
    });
    assert!(!server.delete(&path));
    server.create(CONFIGMAPS, json!({ "metadata": { "name": "x" } }));
    assert!(server.delete(&format!("{CONFIGMAPS}/x")));
    assert!(server.list(CONFIGMAPS).is_empty());
}

#[test]
fn discovery_serves_builtin_kinds_and_the_installed_crds() {
    let server = ApiServer::start();
    runtime().block_on(async {
        let client = server.client();
        let groups = client.list_api_groups().await.unwrap();
        let preferred = |name: &str| {
            let group = groups.groups.iter().find(|g| g.name == name).unwrap_or_else(|| panic!("no group {name}"));
            group.preferred_version.as_ref().unwrap().group_version.clone()
        };
        assert_eq!(preferred("compute.functionmesh.io"), "compute.functionmesh.io/v1alpha1");
        assert_eq!(preferred("apps"), "apps/v1");
        assert_eq!(preferred("autoscaling"), "autoscaling/v2");
        assert_eq!(preferred("rbac.authorization.k8s.io"), "rbac.authorization.k8s.io/v1");

        let fm = client.list_api_group_resources("compute.functionmesh.io/v1alpha1").await.unwrap();
        let listed: Vec<(&str, &str)> = fm.resources.iter().map(|r| (r.name.as_str(), r.kind.as_str())).collect();
        for expected in [
            ("functions", "Function"),
            ("functions/status", "Function"),
            ("sources", "Source"),
            ("sources/status", "Source"),
            ("sinks", "Sink"),
            ("sinks/status", "Sink"),
            ("functionmeshes", "FunctionMesh"),
            ("functionmeshes/status", "FunctionMesh"),
        ] {
            assert!(listed.contains(&expected), "{expected:?} missing from {listed:?}");
        }
        let functions = fm.resources.iter().find(|r| r.name == "functions").unwrap();
        assert!(functions.namespaced && functions.verbs.iter().any(|v| v == "patch"));

        assert_eq!(client.list_core_api_versions().await.unwrap().versions, ["v1"]);
        let core = client.list_core_api_resources("v1").await.unwrap();
        let namespaced = |list: &k8s_openapi::apimachinery::pkg::apis::meta::v1::APIResourceList, name: &str| {
            list.resources.iter().find(|r| r.name == name).unwrap_or_else(|| panic!("no {name}")).namespaced
        };
        for name in ["configmaps", "secrets", "services", "serviceaccounts", "events"] {
            assert!(namespaced(&core, name), "{name}");
        }
        assert!(!namespaced(&core, "namespaces"));
        let apps = client.list_api_group_resources("apps/v1").await.unwrap();
        assert!(namespaced(&apps, "statefulsets") && namespaced(&apps, "statefulsets/status"));
        assert!(namespaced(&apps, "deployments"));
        let hpa = client.list_api_group_resources("autoscaling/v2").await.unwrap();
        assert!(namespaced(&hpa, "horizontalpodautoscalers"));
        let rbac = client.list_api_group_resources("rbac.authorization.k8s.io/v1").await.unwrap();
        assert!(namespaced(&rbac, "roles") && namespaced(&rbac, "rolebindings"));
        assert_eq!(api_error(client.list_api_group_resources("example.com/v1").await).0, 404);

        assert_eq!(client.apiserver_version().await.unwrap().minor, "34");

        let discovery = kube::Discovery::new(client.clone()).run().await.unwrap();
        assert!(discovery.has_group("compute.functionmesh.io"));
        let aggregated = client.list_api_groups_aggregated().await.unwrap();
        let fm = aggregated
            .items
            .iter()
            .find(|g| g.metadata.as_ref().and_then(|m| m.name.as_deref()) == Some("compute.functionmesh.io"))
            .expect("the Function Mesh group in aggregated discovery");
        assert!(fm.versions[0].resources.iter().any(|r| r.resource.as_deref() == Some("functions")));
    });
}

#[test]
fn without_crds_the_function_mesh_group_is_absent() {
    let server = ApiServer::with(Options { crds_installed: false, ..Options::default() });
    runtime().block_on(async {
        let client = server.client();
        let groups = client.list_api_groups().await.unwrap();
        assert!(groups.groups.iter().all(|g| g.name != "compute.functionmesh.io"));
        assert!(groups.groups.iter().any(|g| g.name == "apps"));
        let (code, reason, _) = api_error(client.list_api_group_resources("compute.functionmesh.io/v1alpha1").await);
        assert_eq!((code, reason.as_str()), (404, "NotFound"));

        let api = functions(client);
        let apply = Patch::Apply(function("f", json!({ "replicas": 1 })));
        let (code, reason, _) = api_error(api.patch("f", &PatchParams::apply("mesh"), &apply).await);
        assert_eq!((code, reason.as_str()), (404, "NotFound"));
    });
    assert!(server.get(&format!("{FUNCTIONS}/f")).is_none());
    let (status, content_type, body) = raw(&server, "GET", FUNCTIONS, "application/json", "").unwrap();
    assert_eq!((status, content_type.as_str()), (404, "application/json"));
    let body: Value = serde_json::from_str(&body).unwrap();
    assert_eq!((&body["kind"], &body["reason"]), (&json!("Status"), &json!("NotFound")));
}

#[test]
fn an_injected_status_answers_the_matching_requests_only() {
    let server = ApiServer::start();
    server.create(CONFIGMAPS, json!({ "metadata": { "name": "a" } }));
    server.inject("GET", "/configmaps/a", Fault::Status(500, "InternalError".into(), "boom".into()), 1);
    runtime().block_on(async {
        let cms: Api<ConfigMap> = Api::default_namespaced(server.client());
        let other = cms.get_opt("b").await.unwrap();
        assert!(other.is_none(), "a request that does not match is handled normally");
        assert_eq!(api_error(cms.get("a").await), (500, "InternalError".to_string(), "boom".to_string()));
        cms.get("a").await.expect("the fault applies once");
    });
}

#[test]
fn a_dropped_connection_is_a_connection_error_and_the_write_does_not_happen() {
    let server = ApiServer::start();
    server.inject("PATCH", "/functions/f", Fault::Drop, 1);
    runtime().block_on(async {
        let api = functions(server.client());
        let apply = Patch::Apply(function("f", json!({ "replicas": 1 })));
        let err = api.patch("f", &PatchParams::apply("mesh"), &apply).await.unwrap_err();
        assert!(!matches!(err, kube::Error::Api(_)), "expected a connection error, got {err:?}");
        assert!(server.get(&format!("{FUNCTIONS}/f")).is_none());
        api.patch("f", &PatchParams::apply("mesh"), &apply).await.expect("the next request is served");
    });
    assert_eq!(server.requests().iter().filter(|r| r.method == "PATCH").count(), 2);

    server.inject("*", "/configmaps", Fault::Drop, 1);
    assert!(raw(&server, "GET", CONFIGMAPS, "application/json", "").is_err(), "an answer came on a dropped connection");
}

#[test]
fn a_delay_outlasts_a_client_timeout_and_the_request_still_completes() {
    let server = ApiServer::start();
    let delay = Duration::from_millis(800);
    server.inject("POST", "/configmaps", Fault::Delay(delay), 1);
    runtime().block_on(async {
        let mut config = server.config();
        config.read_timeout = Some(Duration::from_millis(100));
        let cms: Api<ConfigMap> = Api::default_namespaced(server.client_with(config));
        let start = Instant::now();
        let err = cms.create(&PostParams::default(), &configmap("slow", json!({}))).await.unwrap_err();
        assert!(!matches!(err, kube::Error::Api(_)), "expected a timeout, got {err:?}");
        assert!(start.elapsed() < delay, "the client waited {:?}", start.elapsed());
        assert!(cms.get_opt("slow").await.unwrap().is_none(), "handled before the delay");
        // Like a real server, it finishes the request the client gave up on.
        while cms.get_opt("slow").await.unwrap().is_none() {
            assert!(start.elapsed() < delay * 4, "the delayed request was never handled");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        assert!(start.elapsed() >= delay, "handled after {:?}", start.elapsed());
    });
}

#[test]
fn the_request_log_keeps_order_and_writes_leave_out_dry_runs() {
    let server = ApiServer::start();
    runtime().block_on(async {
        let cms: Api<ConfigMap> = Api::default_namespaced(server.client());
        let cm = || Patch::Apply(json!({ "apiVersion": "v1", "kind": "ConfigMap", "metadata": { "name": "x" } }));
        assert!(cms.get_opt("x").await.unwrap().is_none());
        cms.patch("x", &PatchParams::apply("mesh"), &cm()).await.unwrap();
        cms.patch("x", &PatchParams::apply("mesh").dry_run(), &cm()).await.unwrap();
        cms.delete("x", &DeleteParams::default().dry_run()).await.unwrap();
        cms.delete("x", &DeleteParams::default()).await.unwrap();
        cms.list(&ListParams::default()).await.unwrap();
    });
    server.get(&format!("{CONFIGMAPS}/x")); // not logged
    let requests = server.requests();
    let summary: Vec<(&str, &str)> = requests.iter().map(|r| (r.method.as_str(), r.path.as_str())).collect();
    let object = format!("{CONFIGMAPS}/x");
    assert_eq!(
        summary,
        [
            ("GET", object.as_str()),
            ("PATCH", object.as_str()),
            ("PATCH", object.as_str()),
            ("DELETE", object.as_str()),
            ("DELETE", object.as_str()),
            ("GET", CONFIGMAPS),
        ]
    );
    assert!(requests[1].query.contains("fieldManager=mesh") && !requests[1].query.contains("dryRun"));
    assert!(requests[2].query.contains("dryRun=All"));
    assert_eq!(server.writes(), 2);
    server.clear_requests();
    assert_eq!(server.requests(), Vec::<Request>::new());
    assert_eq!(server.writes(), 0);
}

#[test]
fn namespaces_exist_as_configured_and_can_be_created() {
    let server = ApiServer::with(Options { namespaces: vec!["default".into(), "team".into()], ..Options::default() });
    assert!(server.get("/api/v1/namespaces/team").is_some());
    assert!(server.get("/api/v1/namespaces/nope").is_none());
    runtime().block_on(async {
        let client = server.client();
        let namespaces: Api<Namespace> = Api::all(client.clone());
        let listed: Vec<_> = namespaces.list(&ListParams::default()).await.unwrap().items;
        let listed: Vec<_> = listed.into_iter().map(|n| n.metadata.name.unwrap()).collect();
        assert_eq!(listed, ["default", "team"]);
        let (code, _, message) = api_error(namespaces.get("nope").await);
        assert_eq!((code, message.as_str()), (404, "namespaces \"nope\" not found"));

        let in_nope: Api<ConfigMap> = Api::namespaced(client.clone(), "nope");
        let (code, _, message) = api_error(in_nope.create(&PostParams::default(), &configmap("c", json!({}))).await);
        assert_eq!((code, message.as_str()), (404, "namespaces \"nope\" not found"));
        let cm = Patch::Apply(json!({ "apiVersion": "v1", "kind": "ConfigMap", "metadata": { "name": "c" } }));
        assert_eq!(api_error(in_nope.patch("c", &PatchParams::apply("mesh"), &cm).await).0, 404);

        let ns = Patch::Apply(json!({ "apiVersion": "v1", "kind": "Namespace", "metadata": { "name": "nope" } }));
        namespaces.patch("nope", &PatchParams::apply("mesh"), &ns).await.unwrap();
        in_nope.create(&PostParams::default(), &configmap("c", json!({}))).await.unwrap();
        let made: Namespace = serde_json::from_value(json!({ "metadata": { "name": "made" } })).unwrap();
        namespaces.create(&PostParams::default(), &made).await.unwrap();
    });
    assert!(server.get("/api/v1/namespaces/made").is_some());
    assert!(server.get("/api/v1/namespaces/nope/configmaps/c").is_some());

    let bare = ApiServer::with(Options { namespaces: Vec::new(), ..Options::default() });
    assert!(bare.get("/api/v1/namespaces/default").is_none());
    assert!(bare.list("/api/v1/namespaces").is_empty());
}

#[test]
fn the_kubeconfig_has_two_contexts_on_this_server() {
    let server = ApiServer::with(Options { namespaces: vec!["default".into(), "team".into()], ..Options::default() });
    let kubeconfig = Kubeconfig::read_from(server.kubeconfig()).unwrap();
    runtime().block_on(async {
        let current =
            kube::Config::from_custom_kubeconfig(kubeconfig.clone(), &KubeConfigOptions::default()).await.unwrap();
        assert_eq!(current.default_namespace, "default");
        assert_eq!(current.cluster_url.to_string().trim_end_matches('/'), server.url());

        let options = KubeConfigOptions { context: Some("other".into()), ..Default::default() };
        let other = kube::Config::from_custom_kubeconfig(kubeconfig.clone(), &options).await.unwrap();
        assert_eq!(other.default_namespace, "team");
        let missing = KubeConfigOptions { context: Some("missing".into()), ..Default::default() };
        assert!(kube::Config::from_custom_kubeconfig(kubeconfig, &missing).await.is_err());

        let cms: Api<ConfigMap> = Api::default_namespaced(server.client_with(other));
        cms.create(&PostParams::default(), &configmap("t", json!({}))).await.unwrap();
    });
    assert!(server.get("/api/v1/namespaces/team/configmaps/t").is_some());
    assert!(server.get(&format!("{CONFIGMAPS}/t")).is_none());
}

#[test]
fn raw_http_takes_yaml_applies_and_answers_json_statuses() {
    let server = ApiServer::start();
    let yaml = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: y\ndata:\n  k: v\n";
    let target = format!("{CONFIGMAPS}/y?fieldManager=tool");
    let (status, content_type, body) = raw(&server, "PATCH", &target, "application/apply-patch+yaml", yaml).unwrap();
    assert_eq!((status, content_type.as_str()), (201, "application/json"));
    let body: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(body["data"]["k"], "v");

    let (status, _, _) = raw(&server, "PATCH", &target, "application/apply-patch+yaml", "{ not: [valid").unwrap();
    assert_eq!(status, 400);
    let renamed = yaml.replace("name: y", "name: z");
    let (status, _, _) = raw(&server, "PATCH", &target, "application/apply-patch+yaml", &renamed).unwrap();
    assert_eq!(status, 400, "a body naming another object is refused");
    let (status, _, _) =
        raw(&server, "GET", "/apis/example.com/v1/namespaces/default/widgets", "application/json", "").unwrap();
    assert_eq!(status, 404);
    let (status, _, body) = raw(&server, "GET", "/version", "application/json", "").unwrap();
    assert_eq!(status, 200);
    assert_eq!(serde_json::from_str::<Value>(&body).unwrap()["major"], "1");
}

#[test]
fn parallel_applies_are_all_served_and_repeats_write_nothing() {
    let server = ApiServer::start();
    let count = 300;
    let apply_all = |client: kube::Client| async move {
        let api = functions(client);
        futures::stream::iter(0..count)
            .map(|i| {
                let api = api.clone();
                async move {
                    let name = format!("f{i:03}");
                    let obj = function(&name, json!({ "replicas": 1, "className": "C" }));
                    api.patch(&name, &PatchParams::apply("mesh"), &Patch::Apply(obj)).await.map(|_| ())
                }
            })
            .buffer_unordered(8)
            .collect::<Vec<_>>()
            .await
    };
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    let start = Instant::now();
    let results = rt.block_on(apply_all(server.client()));
    assert!(results.iter().all(Result::is_ok), "{:?}", results.iter().find(|r| r.is_err()));
    let stored = server.list(FUNCTIONS);
    assert_eq!(stored.len(), count);
    let versions: Vec<String> = stored.iter().map(rv).collect();

    let results = rt.block_on(apply_all(server.client()));
    assert!(results.iter().all(Result::is_ok));
    let again: Vec<String> = server.list(FUNCTIONS).iter().map(rv).collect();
    assert_eq!(again, versions, "re-applying unchanged objects rewrote them");
    assert_eq!(server.writes(), 2 * count);
    assert!(start.elapsed() < Duration::from_secs(20), "{} applies took {:?}", 2 * count, start.elapsed());
}

/// The next watch event as (type, object name), failing after 5 s.
async fn next_event<S>(events: &mut S) -> (&'static str, String)
where
    S: futures::Stream<Item = kube::Result<kube::api::WatchEvent<ConfigMap>>> + Unpin,
{
    use kube::api::WatchEvent;
    match tokio::time::timeout(Duration::from_secs(5), events.next()).await {
        Ok(Some(Ok(WatchEvent::Added(o)))) => ("ADDED", o.metadata.name.unwrap_or_default()),
        Ok(Some(Ok(WatchEvent::Modified(o)))) => ("MODIFIED", o.metadata.name.unwrap_or_default()),
        Ok(Some(Ok(WatchEvent::Deleted(o)))) => ("DELETED", o.metadata.name.unwrap_or_default()),
        other => panic!("unexpected watch item: {other:?}"),
    }
}

#[test]
fn watches_stream_additions_changes_and_deletions_of_the_selected_objects() {
    let server = ApiServer::start();
    let labelled = |name: &str, value: &str| {
        json!({"apiVersion": "v1", "kind": "ConfigMap",
               "metadata": {"name": name, "labels": {"set": "a"}}, "data": {"k": value}})
    };
    server.apply_as("tool", &format!("{CONFIGMAPS}/one"), labelled("one", "1")).unwrap();
    server.create(CONFIGMAPS, json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "other"}}));
    runtime().block_on(async {
        let api: Api<ConfigMap> = Api::namespaced(server.client(), "default");
        let params = kube::api::WatchParams::default().labels("set=a").timeout(10);
        let mut events = Box::pin(api.watch(&params, "0").await.unwrap());
        // The unlabelled ConfigMap is not part of the watch.
        assert_eq!(next_event(&mut events).await, ("ADDED", "one".to_string()));
        server.apply_as("tool", &format!("{CONFIGMAPS}/one"), labelled("one", "2")).unwrap();
        assert_eq!(next_event(&mut events).await, ("MODIFIED", "one".to_string()));
        server.apply_as("tool", &format!("{CONFIGMAPS}/two"), labelled("two", "1")).unwrap();
        assert_eq!(next_event(&mut events).await, ("ADDED", "two".to_string()));
        assert!(server.delete(&format!("{CONFIGMAPS}/one")));
        assert_eq!(next_event(&mut events).await, ("DELETED", "one".to_string()));
    });
}
