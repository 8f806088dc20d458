//! The `workloads` target against hand-written expectations from the Function
//! Mesh reference (section 4), plus shell-safety of the generated command lines.

mod support;

use k8s_openapi::api::apps::v1::StatefulSet;
use k8s_openapi::api::autoscaling::v2::HorizontalPodAutoscaler;
use k8s_openapi::api::core::v1::{ConfigMap, Service};
use mesh::compile::{Options, Target};
use serde_json::{json, Value};
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;
use support::k8s_schema::K8sValidator;

const CLUSTER: &str = "pulsar p { web_service_url = \"http://b:8080\", broker_service_url = \"pulsar://b:6650\" }\n";

fn objects(text: &str) -> Vec<Value> {
    let loaded = mesh::load::load_text("t.mesh", text);
    let out = mesh::compile::compile(&loaded, &Default::default());
    let Some(program) = out.program else {
        panic!("program does not compile: {:#?}", out.diags);
    };
    mesh::emit::workloads::emit(&program).into_iter().map(|o| o.value).collect()
}

fn find<'a>(objs: &'a [Value], kind: &str, name: &str) -> &'a Value {
    objs.iter().find(|o| o["kind"] == kind && o["metadata"]["name"] == name).unwrap_or_else(|| {
        panic!("no {kind} {name} in {:#?}", objs.iter().map(|o| &o["metadata"]["name"]).collect::<Vec<_>>())
    })
}

fn container<'a>(sts: &'a Value, name: &str) -> &'a Value {
    sts["spec"]["template"]["spec"]["containers"]
        .as_array()
        .and_then(|c| c.iter().find(|c| c["name"] == name))
        .unwrap_or_else(|| panic!("no container {name}"))
}

fn script(sts: &Value, kind: &str) -> String {
    container(sts, &format!("pulsar-{kind}"))["command"][2].as_str().unwrap_or_default().to_string()
}

/// Runs the final `exec` of a script through bash with `printf` in place of the
/// program, so each argument comes back exactly as the program would get it.
fn exec_args(script: &str) -> Vec<String> {
    let at = script.rfind("&& exec ").expect("an exec");
    let tail = &script[at + "&& exec ".len()..];
    let cmd = format!("SHARD_ID=0; printf '%s\\0' {tail}");
    let out = Command::new("bash")
        .arg("-c")
        .arg(&cmd)
        .env("brokerServiceURL", "pulsar://b:6650")
        .env("webServiceURL", "http://b:8080")
        .env("POD_NAME", "x-function-0")
        .output()
        .expect("bash runs");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let text = String::from_utf8(out.stdout).expect("utf-8");
    text.split('\0').filter(|s| !s.is_empty()).map(str::to_string).collect()
}

fn arg_after<'a>(args: &'a [String], flag: &str) -> &'a str {
    let i = args.iter().position(|a| a == flag).unwrap_or_else(|| panic!("no {flag} in {args:?}"));
    &args[i + 1]
}

fn details(sts: &Value, kind: &str) -> Value {
    let args = exec_args(&script(sts, kind));
    serde_json::from_str(arg_after(&args, "--function_details")).expect("function details are JSON")
}

fn labels(x: &str, kind: &str) -> Value {
    labels_in(x, kind, "default")
}

/// The base labels of reference 4.2 for component `x` of `kind` in Kubernetes namespace `ns`.
fn labels_in(x: &str, kind: &str, ns: &str) -> Value {
    let mut l = json!({
        "app.kubernetes.io/name": format!("{x}-{kind}"),
        "app.kubernetes.io/instance": format!("{x}-{kind}"),
        "compute.functionmesh.io/component": kind,
        "compute.functionmesh.io/name": x,
        "compute.functionmesh.io/namespace": ns,
        "component": kind,
        "name": x,
        "namespace": ns,
    });
    if kind == "function" {
        l["compute.functionmesh.io/app"] = json!("function-mesh");
        l["app"] = json!("function-mesh");
    }
    l
}

fn with_mesh_labels(mut l: Value, mesh: &str) -> Value {
    l["app.kubernetes.io/managed-by"] = json!("mesh");
    l["app.kubernetes.io/part-of"] = json!(mesh);
    l
}

const FN1: &str = "topic input : string external\ntopic output : string external\n\
function fn1(string) -> string = java(\"com.example.Upper\") { jar = \"/pulsar/examples/app.jar\", replicas = 1..3, \
resources { requests { cpu = 100m, memory = 1Gi }, limits { cpu = 200m, memory = 1Gi } } }\n\
pipeline x { input -> fn1 -> output }\n";

fn fn1_objects() -> Vec<Value> {
    objects(&format!("{CLUSTER}{FN1}"))
}

#[test]
fn java_function_matches_the_worked_example() {
    let objs = fn1_objects();
    let sts = find(&objs, "StatefulSet", "fn1-function");
    let mesh = sts["metadata"]["labels"]["app.kubernetes.io/part-of"].as_str().unwrap_or_default().to_string();
    let l = labels("fn1", "function");
    assert_eq!(l.as_object().map(|o| o.len()), Some(10));
    assert_eq!(sts["apiVersion"], "apps/v1");
    assert_eq!(sts["metadata"]["labels"], with_mesh_labels(l.clone(), &mesh));
    assert!(sts["metadata"].get("ownerReferences").is_none());
    let spec = &sts["spec"];
    assert_eq!(spec["replicas"], 1);
    assert_eq!(spec["serviceName"], "fn1-function-headless");
    assert_eq!(spec["podManagementPolicy"], "Parallel");
    assert_eq!(spec["updateStrategy"], json!({"type": "RollingUpdate"}));
    assert_eq!(spec["selector"], json!({"matchLabels": l}));
    let tmpl = &spec["template"];
    assert_eq!(tmpl["metadata"]["labels"], with_mesh_labels(l.clone(), &mesh));
    assert_eq!(tmpl["metadata"]["annotations"], json!({"prometheus.io/scrape": "true", "prometheus.io/port": "9094"}));
    let pod = &tmpl["spec"];
    assert_eq!(
        pod["securityContext"],
        json!({"runAsUser": 10000, "runAsGroup": 10001, "runAsNonRoot": false, "fsGroup": 10001,
               "seccompProfile": {"type": "RuntimeDefault"}})
    );
    assert_eq!(
        pod["affinity"],
        json!({"podAntiAffinity": {"preferredDuringSchedulingIgnoredDuringExecution": [
            {"weight": 100, "podAffinityTerm": {"labelSelector": {"matchLabels": with_mesh_labels(l.clone(), &mesh)},
                                                 "topologyKey": "kubernetes.io/hostname"}}]}})
    );
    let c = container(sts, "pulsar-function");
    assert_eq!(c["image"], "streamnative/pulsar-functions-java-runner:2.10.0.0-rc10");
    assert_eq!(c["imagePullPolicy"], "IfNotPresent");
    assert_eq!(c["command"][0], "bash");
    assert_eq!(c["command"][1], "-c");
    assert_eq!(
        c["ports"],
        json!([{"name": "tcp-grpc", "containerPort": 9093, "protocol": "TCP"},
               {"name": "http-metrics", "containerPort": 9094, "protocol": "TCP"}])
    );
    assert_eq!(c["env"], json!([{"name": "POD_NAME", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}}]));
    assert_eq!(c["envFrom"], json!([{"configMapRef": {"name": "p"}}]));
    assert_eq!(
        c["resources"],
        json!({"requests": {"cpu": "100m", "memory": "1Gi"}, "limits": {"cpu": "200m", "memory": "1Gi"}})
    );
    assert_eq!(c["securityContext"], json!({"capabilities": {"drop": ["ALL"]}, "allowPrivilegeEscalation": false}));

    let svc = find(&objs, "Service", "fn1-function-headless");
    assert_eq!(svc["apiVersion"], "v1");
    assert_eq!(svc["metadata"]["labels"], with_mesh_labels(l.clone(), &mesh));
    assert_eq!(
        svc["spec"],
        json!({"clusterIP": "None", "selector": l,
               "ports": [{"name": "tcp-grpc", "port": 9093, "targetPort": 9093},
                         {"name": "http-metrics", "port": 9094, "targetPort": 9094}]})
    );

    let hpa = find(&objs, "HorizontalPodAutoscaler", "fn1-function");
    assert_eq!(hpa["apiVersion"], "autoscaling/v2");
    assert_eq!(hpa["spec"]["minReplicas"], 1);
    assert_eq!(hpa["spec"]["maxReplicas"], 3);
    assert_eq!(
        hpa["spec"]["metrics"],
        json!([{"type": "Resource", "resource": {"name": "cpu", "target": {"type": "Utilization", "averageUtilization": 160}}}])
    );
    assert_eq!(
        hpa["spec"]["scaleTargetRef"],
        json!({"apiVersion": "apps/v1", "kind": "StatefulSet", "name": "fn1-function"})
    );

    let cm = find(&objs, "ConfigMap", "p");
    assert_eq!(cm["data"], json!({"brokerServiceURL": "pulsar://b:6650", "webServiceURL": "http://b:8080"}));
}

#[test]
fn java_command_line_matches_4_8() {
    let objs = fn1_objects();
    let sts = find(&objs, "StatefulSet", "fn1-function");
    let s = script(sts, "function");
    assert!(
        s.starts_with(
            "SHARD_ID=${POD_NAME##*-} && echo shardId=${SHARD_ID} && mkdir -p /pulsar/conf/java-log/ && echo "
        ),
        "{s}"
    );
    assert!(s.contains(" > /pulsar/conf/java-log/java_instance_log4j.xml && exec java "), "{s}");
    let args = exec_args(&s);
    let expected_prefix = [
        "java",
        "-cp",
        // The $(echo ...) globs match nothing on the test machine and come back as written.
        "/pulsar/instances/java-instance.jar:/pulsar/lib/com.fasterxml.jackson.dataformat-jackson-dataformat-yaml-*.jar:/pulsar/lib/org.yaml-snakeyaml-*.jar",
        "-Dpulsar.functions.instance.classpath=/pulsar/lib/*",
        "-Dlog4j.configurationFile=/pulsar/conf/java-log/java_instance_log4j.xml",
        "-Dpulsar.function.log.dir=logs/functions",
        "-Dpulsar.function.log.file=fn1-0",
        "-Dpulsar.allocator.exit_on_oom=true",
        "-XX:MaxRAMPercentage=70",
        "-XX:MaxDirectMemorySize=214748364",
        "-XX:+UseG1GC",
        "-XX:+HeapDumpOnOutOfMemoryError",
        "-XX:HeapDumpPath=/pulsar/tmp/heapdump-%p.hprof",
        "-XX:+ExitOnOutOfMemoryError",
        "-Xlog:gc*:file=/pulsar/logs/gc.log:time,level,tags:filecount=5,filesize=10M",
        "org.apache.pulsar.functions.instance.JavaInstanceMain",
        "--jar",
        "/pulsar/examples/app.jar",
        "--instance_id",
        "0",
        "--function_id",
        "0-fn1",
        "--function_version",
        "0",
        "--function_details",
    ];
    assert_eq!(&args[..expected_prefix.len()], &expected_prefix[..]);
    let expected_suffix = [
        "--pulsar_serviceurl",
        "pulsar://b:6650",
        "--max_buffered_tuples",
        "100",
        "--port",
        "9093",
        "--metrics_port",
        "9094",
        "--expected_healthcheck_interval",
        "0",
        "--cluster_name",
        "kubernetes",
        "--use_tls",
        "false",
        "--pending_async_requests",
        "1000",
    ];
    assert_eq!(&args[expected_prefix.len() + 1..], &expected_suffix[..]);
    // The reference example plus the schema types the DSL derives from the edge type
    // (`sourceSpecs[topic].schemaType` and `sinkSchemaType`, reference 5.5).
    assert_eq!(
        details(sts, "function"),
        json!({"tenant": "public", "namespace": "default", "name": "fn1",
               "className": "com.example.Upper", "autoAck": true, "parallelism": 1,
               "source": {"typeClassName": "java.lang.String",
                          "inputSpecs": {"persistent://public/default/input": {"schemaType": "STRING"}},
                          "subscriptionPosition": "EARLIEST"},
               "sink": {"typeClassName": "java.lang.String", "topic": "persistent://public/default/output",
                        "schemaType": "STRING", "forwardSourceMessageProperty": true},
               "resources": {"cpu": 0.1, "ram": "1073741824"},
               "componentType": "FUNCTION"})
    );
}

#[test]
fn function_details_keys_are_in_declaration_order() {
    let objs = fn1_objects();
    let args = exec_args(&script(find(&objs, "StatefulSet", "fn1-function"), "function"));
    let text = arg_after(&args, "--function_details");
    let order = [
        "\"tenant\"",
        "\"namespace\"",
        "\"name\"",
        "\"className\"",
        "\"autoAck\"",
        "\"parallelism\"",
        "\"source\"",
        "\"sink\"",
        "\"resources\"",
        "\"componentType\"",
    ];
    let pos: Vec<usize> = order.iter().map(|k| text.find(k).unwrap_or(usize::MAX)).collect();
    assert!(pos.windows(2).all(|w| w[0] < w[1]), "{text}");
}

#[test]
fn python_function() {
    let objs = objects(&format!(
        "{CLUSTER}topic a : string external\ntopic b : string external\n\
         function pyf(string) -> string = python(\"ex.Excl\") {{ py = \"/pulsar/ex.py\", log {{ level = debug }} }}\n\
         pipeline x {{ a -> pyf -> b }}\n"
    ));
    let sts = find(&objs, "StatefulSet", "pyf-function");
    assert_eq!(container(sts, "pulsar-function")["image"], "streamnative/pulsar-functions-python-runner:2.10.0.0-rc10");
    let s = script(sts, "function");
    assert!(s.contains("sed -i.bak 's/^  Log.setLevel/#&/' /pulsar/instances/python-instance/log.py && mkdir -p /pulsar/conf/python-log/ logs/functions && echo "), "{s}");
    assert!(s.contains("sed -i.bak 's/^level=.*/level=DEBUG/g' /pulsar/conf/python-log/python_instance_logging.ini && exec python "), "{s}");
    let args = exec_args(&s);
    assert_eq!(
        &args[..12],
        &[
            "python",
            "/pulsar/instances/python-instance/python_instance_main.py",
            "--py",
            "/pulsar/ex.py",
            "--logging_directory",
            "logs/functions",
            "--logging_file",
            "pyf-0.log",
            "--logging_config_file",
            "/pulsar/conf/python-log/python_instance_logging.ini",
            "--install_usercode_dependencies",
            "true"
        ]
    );
    let d = details(sts, "function");
    assert_eq!(d["runtime"], "PYTHON");
    assert_eq!(d["className"], "ex.Excl");
    assert!(!args.iter().any(|a| a == "--pending_async_requests"));
}

#[test]
fn go_function() {
    let objs = objects(&format!(
        "{CLUSTER}topic a : string external\ntopic b : string external\n\
         function gof(string) -> string = go {{ go = \"/pulsar/go-func\", config {{ k = \"v w\" }} }}\n\
         pipeline x {{ a -> gof -> b }}\n"
    ));
    let sts = find(&objs, "StatefulSet", "gof-function");
    let c = container(sts, "pulsar-function");
    assert_eq!(c["image"], "streamnative/pulsar-functions-go-runner:2.10.0.0-rc10");
    assert_eq!(c["env"][1], json!({"name": "LOGGING_LEVEL", "value": "info"}));
    let s = script(sts, "function");
    let at = s.find("GO_FUNCTION_CONF=").expect("go conf");
    let end = s.find(" && echo goFunctionConfigs").expect("echo");
    let cmd = format!("SHARD_ID=2; {} && printf '%s' \"$GO_FUNCTION_CONF\"", &s[at..end]);
    let out =
        Command::new("bash").arg("-c").arg(&cmd).env("brokerServiceURL", "pulsar://b:6650").output().expect("bash");
    let conf: Value = serde_json::from_slice(&out.stdout).expect("go config is JSON");
    assert_eq!(conf["pulsarServiceURL"], "pulsar://b:6650");
    assert_eq!(conf["instanceID"], 2);
    assert_eq!(conf["funcID"], "2-gof");
    assert_eq!(conf["runtime"], 3);
    assert_eq!(conf["sourceSpecsTopic"], "persistent://public/default/a");
    assert_eq!(conf["sinkSpecsTopic"], "persistent://public/default/b");
    assert_eq!(conf["expectedHealthCheckInterval"], -1);
    assert_eq!(conf["userConfig"], "{\"k\":\"v w\"}");
    assert!(
        s.ends_with("chmod +x /pulsar/go-func && exec /pulsar/go-func -instance-conf \"${GO_FUNCTION_CONF}\""),
        "{s}"
    );
}

#[test]
fn source_and_sink() {
    let text = format!(
        "{CLUSTER}use std::io::{{kafka, elasticsearch}}\n@class(\"com.x.S\")\nschema S = json {{ id: long }}\ntopic t : S\n\
         source src = kafka::source {{ bootstrap_servers = \"k:9092\", topic = \"o\", group_id = \"g\", value = S }}\n\
         sink snk = elasticsearch::sink {{ elastic_search_url = \"http://es:9200\", index_name = \"i\" }}\n\
         pipeline x {{ src -> t -> snk }}\n"
    );
    let objs = objects(&text);
    for (name, kind) in [("src", "source"), ("snk", "sink")] {
        let sts = find(&objs, "StatefulSet", &format!("{name}-{kind}"));
        let l = labels(name, kind);
        assert_eq!(l.as_object().map(|o| o.len()), Some(8));
        assert_eq!(sts["spec"]["selector"]["matchLabels"], l);
        let c = container(sts, &format!("pulsar-{kind}"));
        assert_eq!(c["image"], "streamnative/pulsar-all:2.10.0.0-rc10");
        let args = exec_args(&script(sts, kind));
        assert!(!args.iter().any(|a| a == "--pending_async_requests"));
        let d = details(sts, kind);
        assert_eq!(d["className"], "org.apache.pulsar.functions.api.utils.IdentityFunction");
        assert_eq!(d["componentType"], kind.to_uppercase());
        if kind == "source" {
            assert_eq!(d["sink"]["topic"], "persistent://public/default/t");
            assert!(d["sink"]["producerSpec"].is_object());
            assert!(d["source"]["configs"].as_str().is_some_and(|c| c.contains("\"bootstrapServers\"")), "{d}");
            assert!(d.get("retryDetails").is_none());
        } else {
            assert_eq!(
                d["source"]["inputSpecs"].as_object().map(|m| m.contains_key("persistent://public/default/t")),
                Some(true)
            );
            assert!(d["sink"]["configs"].as_str().is_some_and(|c| c.contains("\"indexName\"")), "{d}");
            assert!(d.get("userConfig").is_none());
        }
        assert!(d.get("logTopic").is_none());
        assert!(find(&objs, "Service", &format!("{name}-{kind}-headless"))["spec"]["selector"] == l);
    }
}

#[test]
fn window_function() {
    let objs = objects(&format!(
        "{CLUSTER}topic a : string external\ntopic b : string external\n\
         function w(string) -> string = java(\"com.example.W\") {{ jar = \"/pulsar/w.jar\", window {{ length = 10, slide = 5 }}, config {{ z = 1, a = \"x\" }} }}\n\
         pipeline x {{ a -> w -> b }}\n"
    ));
    let d = details(find(&objs, "StatefulSet", "w-function"), "function");
    assert_eq!(d["className"], "org.apache.pulsar.functions.windowing.WindowFunctionExecutor");
    let user = d["userConfig"].as_str().expect("userConfig is a JSON string");
    assert!(user.starts_with("{\"__WINDOWCONFIGS__\":{\"actualWindowFunctionClassName\":\"com.example.W\""), "{user}");
    let user: Value = serde_json::from_str(user).expect("JSON");
    assert_eq!(
        user,
        json!({"__WINDOWCONFIGS__": {"actualWindowFunctionClassName": "com.example.W", "windowLengthCount": 10,
                                     "slidingIntervalCount": 5},
               "a": "x", "z": 1})
    );
}

#[test]
fn secrets_become_env_and_provider() {
    let objs = objects(&format!(
        "{CLUSTER}topic a : string external\ntopic b : string external\n\
         function s(string) -> string = java(\"com.example.S\") {{ jar = \"/pulsar/s.jar\", \
         secrets {{ zeta = secret(\"sz\", \"kz\"), alpha = secret(\"sa\", \"ka\") }} }}\n\
         pipeline x {{ a -> s -> b }}\n"
    ));
    let sts = find(&objs, "StatefulSet", "s-function");
    let c = container(sts, "pulsar-function");
    assert_eq!(
        c["env"],
        json!([{"name": "POD_NAME", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}},
               {"name": "alpha", "valueFrom": {"secretKeyRef": {"name": "sa", "key": "ka"}}},
               {"name": "zeta", "valueFrom": {"secretKeyRef": {"name": "sz", "key": "kz"}}}])
    );
    let args = exec_args(&script(sts, "function"));
    assert_eq!(
        arg_after(&args, "--secrets_provider"),
        "org.apache.pulsar.functions.secretsprovider.EnvironmentBasedSecretsProvider"
    );
    let d = details(sts, "function");
    let m: Value = serde_json::from_str(d["secretsMap"].as_str().expect("string")).expect("JSON");
    assert_eq!(m, json!({"alpha": {"path": "sa", "key": "ka"}, "zeta": {"path": "sz", "key": "kz"}}));
}

const SECURE: &str = "pulsar p { web_service_url = \"https://b:8443\", broker_service_url = \"pulsar+ssl://b:6651\",\n\
  auth = oauth2 { issuer_url = \"https://auth.example.com/\", audience = \"urn:x\", key = secret(\"sn-platform-oauth2\", \"auth.json\") }\n\
  tls { enabled = true, hostname_verification = true, ca = secret(\"pulsar-ca\", \"ca.crt\") } }\n\
  topic a : string external\ntopic b : string external\n\
  function f(string) -> string = java(\"com.example.F\") { jar = \"/pulsar/f.jar\" }\npipeline x { a -> f -> b }\n";

#[test]
fn oauth2_and_tls() {
    let objs = objects(SECURE);
    let sts = find(&objs, "StatefulSet", "f-function");
    let pod = &sts["spec"]["template"]["spec"];
    assert_eq!(
        pod["volumes"],
        json!([{"name": "pulsar-ca-ca-crt", "secret": {"secretName": "pulsar-ca", "items": [{"key": "ca.crt", "path": "ca.crt"}]}},
               {"name": "sn-platform-oauth2-auth-json",
                "secret": {"secretName": "sn-platform-oauth2", "items": [{"key": "auth.json", "path": "auth.json"}]}}])
    );
    let c = container(sts, "pulsar-function");
    assert_eq!(
        c["volumeMounts"],
        json!([{"name": "pulsar-ca-ca-crt", "mountPath": "/etc/tls/pulsar-functions"},
               {"name": "sn-platform-oauth2-auth-json", "mountPath": "/etc/oauth2"}])
    );
    let args = exec_args(&script(sts, "function"));
    assert_eq!(
        arg_after(&args, "--client_auth_plugin"),
        "org.apache.pulsar.client.impl.auth.oauth2.AuthenticationOAuth2"
    );
    let params: Value = serde_json::from_str(arg_after(&args, "--client_auth_params")).expect("JSON");
    assert_eq!(
        params,
        json!({"credentials_url": "file:///etc/oauth2/auth.json", "privateKey": "/etc/oauth2/auth.json",
               "private_key": "/etc/oauth2/auth.json", "issuerUrl": "https://auth.example.com/",
               "issuer_url": "https://auth.example.com/", "audience": "urn:x", "scope": ""})
    );
    assert_eq!(arg_after(&args, "--use_tls"), "true");
    assert_eq!(arg_after(&args, "--tls_allow_insecure"), "false");
    assert_eq!(arg_after(&args, "--hostname_verification_enabled"), "true");
    assert_eq!(arg_after(&args, "--tls_trust_cert_path"), "/etc/tls/pulsar-functions/ca.crt");
}

#[test]
fn builtin_autoscaler_rules() {
    let objs = objects(&format!(
        "{CLUSTER}topic a : string external\ntopic b : string external\n\
         function f(string) -> string = java(\"com.example.F\") {{ jar = \"/pulsar/f.jar\", replicas = 2..5, \
         resources {{ requests {{ cpu = 1, memory = 1Gi }}, limits {{ cpu = 2, memory = 2Gi }} }}, \
         pod {{ autoscaler = [cpu_50, memory_20] }} }}\n\
         pipeline x {{ a -> f -> b }}\n"
    ));
    let hpa = find(&objs, "HorizontalPodAutoscaler", "f-function");
    assert_eq!(hpa["spec"]["minReplicas"], 2);
    assert_eq!(hpa["spec"]["maxReplicas"], 5);
    assert_eq!(
        hpa["spec"]["metrics"],
        json!([{"type": "Resource", "resource": {"name": "cpu", "target": {"type": "Utilization", "averageUtilization": 100}}},
               {"type": "Resource", "resource": {"name": "memory", "target": {"type": "Utilization", "averageUtilization": 40}}}])
    );
}

#[test]
fn no_hpa_without_max_replicas() {
    let objs = objects(&format!(
        "{CLUSTER}topic a : string external\ntopic b : string external\n\
         function f(string) -> string = java(\"com.example.F\") {{ jar = \"/pulsar/f.jar\", replicas = 2 }}\n\
         pipeline x {{ a -> f -> b }}\n"
    ));
    assert!(!objs.iter().any(|o| o["kind"] == "HorizontalPodAutoscaler"));
    assert_eq!(find(&objs, "StatefulSet", "f-function")["spec"]["replicas"], 2);
}

/// Values with quotes, spaces, `$(...)`, backticks and newlines stay inside their argument.
#[test]
fn hostile_values_never_escape_their_argument() {
    let nasty = "it's \\\"$(touch /tmp/pwned)\\\" `id` ${HOME} a  b\\nline";
    let objs = objects(&format!(
        "{CLUSTER}topic a : string external\ntopic b : string external\n\
         function f(string) -> string = java(\"com.example.F\") {{ jar = \"/pulsar/my app's.jar\", \
         java_opts = [\"-Dx={nasty}\"], config {{ v = \"{nasty}\" }} }}\n\
         pipeline x {{ a -> f -> b }}\n"
    ));
    let sts = find(&objs, "StatefulSet", "f-function");
    let args = exec_args(&script(sts, "function"));
    let expected = "it's \"$(touch /tmp/pwned)\" `id` ${HOME} a  b\nline";
    assert_eq!(arg_after(&args, "--jar"), "/pulsar/my app's.jar");
    assert!(args.iter().any(|a| a == &format!("-Dx={expected}")), "{args:?}");
    let d: Value = serde_json::from_str(arg_after(&args, "--function_details")).expect("JSON");
    let user: Value = serde_json::from_str(d["userConfig"].as_str().expect("string")).expect("JSON");
    assert_eq!(user["v"], expected);
}

#[test]
fn shell_quote_round_trips_through_bash() {
    for s in ["plain", "", "a b", "it's", "'", "$(id)", "`id`", "a\nb", "\"q\"", "${X}", "*", "--x=1"] {
        let out = Command::new("bash")
            .arg("-c")
            .arg(format!("printf '%s' {}", mesh::emit::workloads::shell_quote(s)))
            .output()
            .expect("bash");
        assert_eq!(String::from_utf8_lossy(&out.stdout), s);
    }
}

#[test]
fn package_location_downloads_inline() {
    let objs = objects(&format!(
        "{CLUSTER}topic a : string external\ntopic b : string external\n\
         function f(string) -> string = java(\"com.example.F\") {{ jar = \"function://public/default/f@1\" }}\n\
         pipeline x {{ a -> f -> b }}\n"
    ));
    let s = script(find(&objs, "StatefulSet", "f-function"), "function");
    assert!(s.starts_with("/pulsar/bin/pulsar-admin --admin-url \"${webServiceURL}\" packages download function://public/default/f@1 --path "), "{s}");
    assert!(s.contains(" && SHARD_ID=${POD_NAME##*-} && "), "{s}");
}

#[test]
fn objects_round_trip_through_their_types() {
    let mut texts: Vec<String> = vec![format!("{CLUSTER}{FN1}"), SECURE.to_string()];
    for e in std::fs::read_dir("examples").expect("examples") {
        let path = e.expect("entry").path();
        if path.extension().is_some_and(|x| x == "mesh") {
            texts.push(std::fs::read_to_string(&path).expect("read"));
        }
    }
    for text in texts {
        let loaded = mesh::load::load_text("t.mesh", &text);
        let out = mesh::compile::compile(&loaded, &Default::default());
        // Examples that need other files (split pipelines) may not compile from text alone.
        let Some(program) = out.program else { continue };
        for o in mesh::emit::workloads::emit(&program) {
            let v = o.value;
            let back = match v["kind"].as_str() {
                Some("StatefulSet") => {
                    serde_json::to_value(serde_json::from_value::<StatefulSet>(v.clone()).expect("sts"))
                }
                Some("Service") => serde_json::to_value(serde_json::from_value::<Service>(v.clone()).expect("svc")),
                Some("HorizontalPodAutoscaler") => {
                    serde_json::to_value(serde_json::from_value::<HorizontalPodAutoscaler>(v.clone()).expect("hpa"))
                }
                Some("ConfigMap") => serde_json::to_value(serde_json::from_value::<ConfigMap>(v.clone()).expect("cm")),
                // No k8s-openapi type; `every_emitted_object_validates` checks it against the VPA schema.
                Some("VerticalPodAutoscaler") => continue,
                other => panic!("unexpected kind {other:?}"),
            }
            .expect("serialises");
            assert_eq!(back, v);
        }
    }
}

#[test]
fn examples_emit_via_files() {
    for e in std::fs::read_dir("examples").expect("examples") {
        let path = e.expect("entry").path();
        if path.extension().is_some_and(|x| x == "mesh") {
            let Ok(loaded) = mesh::load::load(std::slice::from_ref(&path)) else { continue };
            let out = mesh::compile::compile(&loaded, &Default::default());
            if let Some(p) = out.program {
                let objs = mesh::emit::workloads::emit(&p);
                assert!(objs.iter().any(|o| o.kind == "StatefulSet"), "{}", path.display());
            }
        }
    }
}

#[test]
fn filebeat_sidecar_and_liveness() {
    let objs = objects(&format!(
        "{CLUSTER}topic a : string external\ntopic b : string external\ntopic logs : string\n\
         function f(string) -> string = java(\"com.example.F\") {{ jar = \"/pulsar/f.jar\", log_topic = logs, \
         log_agent = sidecar, pod {{ liveness {{ period = 10s, initial_delay = 30s, failure_threshold = 3 }} }} }}\n\
         pipeline x {{ a -> f -> b }}\n"
    ));
    let sts = find(&objs, "StatefulSet", "f-function");
    let pod = &sts["spec"]["template"]["spec"];
    assert_eq!(pod["containers"][1]["name"], "filebeat");
    let fb = container(sts, "filebeat");
    assert_eq!(fb["image"], "streamnative/filebeat:v0.6.0");
    assert_eq!(fb["command"][0], "/bin/sh");
    assert_eq!(fb["command"][2], "--");
    assert_eq!(fb["env"][0], json!({"name": "logTopic", "value": "persistent://public/default/logs"}));
    assert_eq!(fb["securityContext"]["runAsUser"], 1000);
    assert_eq!(pod["volumes"], json!([{"name": "filebeat-logs", "emptyDir": {}}]));
    let c = container(sts, "pulsar-function");
    assert_eq!(c["volumeMounts"], json!([{"name": "filebeat-logs", "mountPath": "/pulsar/logs/functions"}]));
    assert_eq!(
        c["livenessProbe"],
        json!({"httpGet": {"path": "/", "port": 9094, "scheme": "HTTP"}, "initialDelaySeconds": 30,
               "timeoutSeconds": 10, "periodSeconds": 10, "failureThreshold": 3})
    );
    // The sidecar agent ships the logs, so the instance is not told about the topic.
    assert!(details(sts, "function").get("logTopic").is_none());
}

#[test]
fn pulsarctl_runner_image_downloads_with_wget() {
    let objs = objects(&format!(
        "{CLUSTER}topic a : string external\ntopic b : string external\n\
         function f(string) -> string = java(\"com.example.F\") {{ jar = \"https://repo.example.com/f.jar\", \
         image = \"streamnative/pulsar-functions-pulsarctl-java-runner:3.0\" }}\n\
         pipeline x {{ a -> f -> b }}\n"
    ));
    let sts = find(&objs, "StatefulSet", "f-function");
    assert_eq!(container(sts, "pulsar-function")["image"], "streamnative/pulsar-functions-pulsarctl-java-runner:3.0");
    let s = script(sts, "function");
    assert!(s.starts_with("wget https://repo.example.com/f.jar -O "), "{s}");
}

// ---- VPA (reference 4.1, 4.2, 4.10) ----

const VPA_FN: &str = "topic a : string external\ntopic b : string external\n\
function v(string) -> string = java(\"com.example.V\") { jar = \"/pulsar/v.jar\", replicas = 2, pod { vpa { \
update_policy { update_mode = \"Auto\", min_replicas = 2 }, \
resource_policy { container_policies = [{ container_name = \"pulsar-function\", mode = \"Auto\", \
min_allowed = { cpu = 100m, memory = 512Mi }, max_allowed = { cpu = 2, memory = 4Gi }, \
controlled_resources = [\"cpu\", \"memory\"], controlled_values = \"RequestsAndLimits\" }] } } } }\n\
pipeline x { a -> v -> b }\n";

#[test]
fn vpa_matches_the_reference() {
    let objs = objects(&format!("{CLUSTER}{VPA_FN}"));
    // Named like the StatefulSet, the base labels (plus mesh's own), `updatePolicy` and `resourcePolicy`
    // copied verbatim. The operator's targetRef is the CR; without one the StatefulSet is the target, as
    // for the HPA.
    let expected = json!({
        "apiVersion": "autoscaling.k8s.io/v1",
        "kind": "VerticalPodAutoscaler",
        "metadata": {"name": "v-function", "labels": with_mesh_labels(labels("v", "function"), "x")},
        "spec": {
            "targetRef": {"apiVersion": "apps/v1", "kind": "StatefulSet", "name": "v-function"},
            "updatePolicy": {"updateMode": "Auto", "minReplicas": 2},
            "resourcePolicy": {"containerPolicies": [{
                "containerName": "pulsar-function",
                "mode": "Auto",
                "minAllowed": {"cpu": "100m", "memory": "512Mi"},
                "maxAllowed": {"cpu": 2, "memory": "4Gi"},
                "controlledResources": ["cpu", "memory"],
                "controlledValues": "RequestsAndLimits",
            }]},
        },
    });
    assert_eq!(find(&objs, "VerticalPodAutoscaler", "v-function"), &expected);
    let kinds: Vec<&str> = objs.iter().filter_map(|o| o["kind"].as_str()).collect();
    assert_eq!(kinds, ["ConfigMap", "StatefulSet", "Service", "VerticalPodAutoscaler"]);
    // The VPA resizes the pods; the StatefulSet keeps its fixed replica count.
    assert_eq!(find(&objs, "StatefulSet", "v-function")["spec"]["replicas"], 2);
}

#[test]
fn empty_vpa_block_still_creates_a_vpa_for_a_sink() {
    let objs = objects(&format!(
        "{CLUSTER}use std::io::elasticsearch\n@class(\"com.x.S\")\nschema S = json {{ id: long }}\ntopic t : S external\n\
         sink snk = elasticsearch::sink {{ elastic_search_url = \"http://es:9200\", index_name = \"i\", pod {{ vpa {{ }} }} }}\n\
         pipeline x {{ t -> snk }}\n"
    ));
    let vpa = find(&objs, "VerticalPodAutoscaler", "snk-sink");
    assert_eq!(vpa["metadata"]["labels"], with_mesh_labels(labels("snk", "sink"), "x"));
    // Without policies the VPA API's defaults apply (update mode Auto).
    assert_eq!(vpa["spec"], json!({"targetRef": {"apiVersion": "apps/v1", "kind": "StatefulSet", "name": "snk-sink"}}));
}

#[test]
fn no_vpa_unless_asked() {
    assert!(!fn1_objects().iter().any(|o| o["kind"] == "VerticalPodAutoscaler"));
}

#[test]
fn hpa_and_vpa_are_exclusive() {
    // The checker refuses the pair (E0414, the operator's V20)...
    let errors = error_codes(&format!(
        "{CLUSTER}topic a : string external\n\
         function f(string) = java(\"F\") {{ jar = \"f.jar\", replicas = 1..3, pod {{ vpa {{ }} }} }}\npipeline x {{ a -> f }}\n"
    ));
    assert_eq!(errors, ["E0414"]);
    // ...and when `passthrough` slips a VPA past it, the emitter still writes only the HPA.
    let objs = objects(&format!(
        "{CLUSTER}topic a : string external\n\
         function f(string) = java(\"F\") {{ jar = \"f.jar\", replicas = 1..3, \
         passthrough {{ \"pod\" {{ \"vpa\" {{ \"updatePolicy\" {{ \"updateMode\" = \"Off\" }} }} }} }} }}\n\
         pipeline x {{ a -> f }}\n"
    ));
    assert!(objs.iter().any(|o| o["kind"] == "HorizontalPodAutoscaler"));
    assert!(!objs.iter().any(|o| o["kind"] == "VerticalPodAutoscaler"));
}

fn error_codes(text: &str) -> Vec<&'static str> {
    let loaded = mesh::load::load_text("t.mesh", text);
    let out = mesh::compile::compile(&loaded, &Default::default());
    out.diags.iter().filter(|d| d.is_error()).map(|d| d.code).collect()
}

#[test]
fn vpa_settings_are_checked_against_the_vpa_api() {
    let with = |vpa: &str| {
        error_codes(&format!(
            "{CLUSTER}topic a : string external\n\
             function f(string) = java(\"F\") {{ jar = \"f.jar\", pod {{ vpa {{ {vpa} }} }} }}\npipeline x {{ a -> f }}\n"
        ))
    };
    assert_eq!(with("update_policy { update_mode = \"Initial\" }"), Vec::<&str>::new());
    // Enum values are case-sensitive, as in the API.
    assert_eq!(with("update_policy { update_mode = \"auto\" }"), ["E0202"]);
    assert_eq!(with("update_polcy { update_mode = \"Auto\" }"), ["E0201"]);
    assert_eq!(with("resource_policy { container_policies = [{ container_name = \"*\", mode = \"On\" }] }"), ["E0202"]);
    // V21: every container policy names its container.
    assert_eq!(with("resource_policy { container_policies = [{ container_name = \"\" }] }"), ["E0203"]);
    assert_eq!(with("resource_policy { container_policies = [{ mode = \"Off\" }] }"), ["E0202"]);
    // Quantities are integers or strings in the quantity grammar.
    let bound = |q: &str| {
        with(&format!(
            "resource_policy {{ container_policies = [{{ container_name = \"*\", max_allowed {{ cpu = {q} }} }}] }}"
        ))
    };
    assert_eq!(bound("2"), Vec::<&str>::new());
    assert_eq!(bound("1500m"), Vec::<&str>::new());
    assert_eq!(bound("0.5"), ["E0202"]);
    assert_eq!(bound("\"two\""), ["E0207"]);
}

// ---- Validation against the Kubernetes OpenAPI schemas ----

fn validator() -> &'static K8sValidator {
    static VALIDATOR: OnceLock<K8sValidator> = OnceLock::new();
    VALIDATOR.get_or_init(K8sValidator::new)
}

/// Asserts `obj` is rejected with an error at `path` whose message mentions `word`.
#[track_caller]
fn rejected(obj: &Value, path: &str, word: &str) {
    let errors = validator().validate(obj);
    assert!(
        errors.iter().any(|e| e.starts_with(&format!("{path}: ")) && e.contains(word)),
        "{path} / {word}: {errors:#?}"
    );
}

#[test]
fn the_schema_validator_rejects_what_kubectl_strict_rejects() {
    let objs = objects(&format!("{CLUSTER}{FN1}"));
    let sts = find(&objs, "StatefulSet", "fn1-function");
    assert_eq!(validator().validate(sts), Vec::<String>::new());

    // A wrong type.
    let mut bad = sts.clone();
    bad["spec"]["replicas"] = json!("three");
    rejected(&bad, "/spec/replicas", "integer");
    // int32 fields are int32.
    bad["spec"]["replicas"] = json!(1_i64 << 40);
    rejected(&bad, "/spec/replicas", "maximum");
    // A missing required field.
    let mut bad = sts.clone();
    bad["spec"]["template"]["spec"]["containers"][0].as_object_mut().map(|c| c.remove("name"));
    rejected(&bad, "/spec/template/spec/containers/0", "\"name\" is a required property");
    let mut bad = sts.clone();
    bad["metadata"].as_object_mut().map(|m| m.remove("name"));
    rejected(&bad, "/metadata", "\"name\" is a required property");
    // Unknown fields, at the top of the spec and deep inside the pod.
    let mut bad = sts.clone();
    bad["spec"]["replica"] = json!(1);
    rejected(&bad, "/spec", "'replica' was unexpected");
    let mut bad = sts.clone();
    bad["spec"]["template"]["spec"]["containers"][0]["imagePullPolicyy"] = json!("Always");
    rejected(&bad, "/spec/template/spec/containers/0", "'imagePullPolicyy' was unexpected");
    // A quantity the API server cannot parse.
    let mut bad = sts.clone();
    bad["spec"]["template"]["spec"]["containers"][0]["resources"]["limits"]["memory"] = json!("1 Gi");
    rejected(&bad, "/spec/template/spec/containers/0/resources/limits/memory", "");
    // apiVersion and kind must name a known type.
    let mut bad = sts.clone();
    bad["apiVersion"] = json!("apps/v1beta1");
    rejected(&bad, "(root)", "no schema");

    let svc = find(&objs, "Service", "fn1-function-headless");
    assert_eq!(validator().validate(svc), Vec::<String>::new());
    let mut bad = svc.clone();
    bad["spec"]["ports"][0]["port"] = json!("9093");
    rejected(&bad, "/spec/ports/0/port", "integer");
    bad["spec"]["ports"][0].as_object_mut().map(|p| p.remove("port"));
    rejected(&bad, "/spec/ports/0", "\"port\" is a required property");

    let hpa = find(&objs, "HorizontalPodAutoscaler", "fn1-function");
    assert_eq!(validator().validate(hpa), Vec::<String>::new());
    let mut bad = hpa.clone();
    bad["spec"].as_object_mut().map(|s| s.remove("maxReplicas"));
    rejected(&bad, "/spec", "\"maxReplicas\" is a required property");
}

#[test]
fn the_vpa_schema_can_fail() {
    let objs = objects(&format!("{CLUSTER}{VPA_FN}"));
    let vpa = find(&objs, "VerticalPodAutoscaler", "v-function");
    assert_eq!(validator().validate(vpa), Vec::<String>::new());
    let mut bad = vpa.clone();
    bad["spec"]["updatePolicy"]["updateMode"] = json!("Sometimes");
    rejected(&bad, "/spec/updatePolicy/updateMode", "Sometimes");
    let mut bad = vpa.clone();
    bad["spec"]["updatePolicy"]["minReplicas"] = json!("2");
    rejected(&bad, "/spec/updatePolicy/minReplicas", "integer");
    let mut bad = vpa.clone();
    bad["spec"].as_object_mut().map(|s| s.remove("targetRef"));
    rejected(&bad, "/spec", "\"targetRef\" is a required property");
    let mut bad = vpa.clone();
    bad["spec"]["targetRef"].as_object_mut().map(|t| t.remove("kind"));
    rejected(&bad, "/spec/targetRef", "\"kind\" is a required property");
    let mut bad = vpa.clone();
    bad["spec"]["resourcePolicy"]["containerPolicies"][0]["maxAllowed"]["cpu"] = json!("two");
    rejected(&bad, "/spec/resourcePolicy/containerPolicies/0/maxAllowed/cpu", "");
    let mut bad = vpa.clone();
    bad["spec"]["resourcePolicy"]["containerPolicies"][0]["containerNam"] = json!("x");
    rejected(&bad, "/spec/resourcePolicy/containerPolicies/0", "'containerNam' was unexpected");
    let mut bad = vpa.clone();
    bad["status"] = json!({});
    rejected(&bad, "(root)", "'status' was unexpected");
}

/// The workloads target's objects for one program; `Err` holds the diagnostics.
fn compile_workloads(loaded: &mesh::load::Loaded) -> Result<Vec<Value>, String> {
    let out = mesh::compile::compile(loaded, &Options { target: Target::Workloads, ..Options::default() });
    match out.objects {
        Some(objs) if !out.diags.iter().any(|d| d.is_error()) => Ok(objs.into_iter().map(|o| o.value).collect()),
        _ => Err(out.diags.iter().map(|d| format!("{} {}", d.code, d.message)).collect::<Vec<_>>().join("\n")),
    }
}

#[test]
fn every_emitted_object_validates() {
    let mut examples: Vec<PathBuf> = std::fs::read_dir(Path::new(env!("CARGO_MANIFEST_DIR")).join("examples"))
        .expect("examples")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.is_file() && p.extension().is_some_and(|x| x == "mesh"))
        .collect();
    examples.sort();
    assert!(!examples.is_empty());
    let mut programs: Vec<(String, Vec<Value>)> = examples
        .iter()
        .map(|path| {
            let loaded = mesh::load::load(std::slice::from_ref(path)).expect("example loads");
            let objs = compile_workloads(&loaded).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            (path.display().to_string(), objs)
        })
        .collect();
    // The programs of this file, for what the examples leave out (every VPA field, the filebeat sidecar, ...).
    for (name, text) in [
        ("FN1", format!("{CLUSTER}{FN1}")),
        ("SECURE", SECURE.to_string()),
        ("VPA_FN", format!("{CLUSTER}{VPA_FN}")),
        (
            "filebeat",
            format!(
                "{CLUSTER}topic a : string external\ntopic b : string external\ntopic logs : string\n\
                 function f(string) -> string = java(\"com.example.F\") {{ jar = \"/pulsar/f.jar\", log_topic = logs, \
                 log_agent = sidecar, pod {{ liveness {{ period = 10s }}, autoscaler = [cpu_50, memory_20] }}, \
                 replicas = 1..4 }}\npipeline x {{ a -> f -> b }}\n"
            ),
        ),
    ] {
        let objs = compile_workloads(&mesh::load::load_text("t.mesh", &text)).unwrap_or_else(|e| panic!("{name}: {e}"));
        programs.push((name.to_string(), objs));
    }
    let mut per_kind: BTreeMap<String, usize> = BTreeMap::new();
    let mut failures = Vec::new();
    for (name, objs) in &programs {
        for o in objs {
            *per_kind.entry(o["kind"].as_str().unwrap_or_default().to_string()).or_default() += 1;
            let errors = validator().validate(o);
            if !errors.is_empty() {
                failures.push(format!("{name}: {} {}:\n  {}", o["kind"], o["metadata"]["name"], errors.join("\n  ")));
            }
        }
    }
    let total: usize = per_kind.values().sum();
    println!("{total} objects of {} programs validated: {per_kind:?}", programs.len());
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    // Every kind of the validator but those only the controller manifests have.
    let controller_only = ["Deployment", "ServiceAccount", "Role", "RoleBinding"];
    for (_, kind) in validator().kinds().into_iter().filter(|(_, k)| !controller_only.contains(&k.as_str())) {
        assert!(per_kind.contains_key(&kind), "no {kind} was validated");
    }
}

// ---- The corpus walk ----

/// Manifests in the corpus snapshot (its README lists them); a walk that sees fewer skipped some.
const CORPUS_FILES: usize = 49;

/// What the reference says the operator makes of one Function, Source or Sink, read from the manifest.
struct Expected {
    /// `X`: `metadata.name`, or for a FunctionMesh member its item name (the workloads target compiles
    /// members as standalone components, see `--mesh` in the CLI).
    x: String,
    kind: &'static str,
    namespace: Option<String>,
    replicas: i64,
    min_replicas: i64,
    max_replicas: Option<i64>,
    vpa: bool,
    image: String,
}

const JAVA_RUNNER: &str = "streamnative/pulsar-functions-java-runner:2.10.0.0-rc10";
const PULSAR_ALL: &str = "streamnative/pulsar-all:2.10.0.0-rc10";

/// Reference 4.7, first match wins.
fn expected_image(kind: &str, spec: &Value) -> String {
    let s = |p: &str| spec.pointer(p).and_then(Value::as_str).filter(|s| !s.is_empty());
    if let Some(image) = s("/image") {
        return image.to_string();
    }
    if kind != "function" {
        let package = s("/java/jarLocation")
            .is_some_and(|l| ["function://", "sink://", "source://"].iter().any(|p| l.starts_with(p)));
        return if s("/java/jar").is_some() && package { JAVA_RUNNER } else { PULSAR_ALL }.to_string();
    }
    if s("/java/jar").is_some() {
        JAVA_RUNNER.to_string()
    } else if s("/python/py").is_some() {
        "streamnative/pulsar-functions-python-runner:2.10.0.0-rc10".to_string()
    } else if s("/golang/go").is_some() {
        "streamnative/pulsar-functions-go-runner:2.10.0.0-rc10".to_string()
    } else if spec.get("genericRuntime").is_some() {
        match s("/genericRuntime/language") {
            Some("nodejs") => "streamnative/pulsar-functions-generic-nodejs-runner:0.1.0",
            Some("python") => "streamnative/pulsar-functions-generic-python-runner:0.1.0",
            Some("executable" | "wasm") => "streamnative/pulsar-functions-generic-base-runner:0.1.0",
            _ => "",
        }
        .to_string()
    } else {
        PULSAR_ALL.to_string()
    }
}

fn expected_components(docs: &[Value]) -> Vec<Expected> {
    let one = |kind: &'static str, x: &str, namespace: Option<&str>, spec: &Value| Expected {
        x: x.to_string(),
        kind,
        namespace: namespace.map(str::to_string),
        replicas: spec["replicas"].as_i64().unwrap_or(1),
        min_replicas: spec["minReplicas"].as_i64().unwrap_or(1),
        max_replicas: spec["maxReplicas"].as_i64(),
        vpa: spec.pointer("/pod/vpa").is_some_and(|v| !v.is_null()),
        image: expected_image(kind, spec),
    };
    let mut out = Vec::new();
    for d in docs {
        let name = d["metadata"]["name"].as_str().unwrap_or_default();
        let namespace = d["metadata"]["namespace"].as_str();
        match d["kind"].as_str() {
            Some("Function") => out.push(one("function", name, namespace, &d["spec"])),
            Some("Source") => out.push(one("source", name, namespace, &d["spec"])),
            Some("Sink") => out.push(one("sink", name, namespace, &d["spec"])),
            Some("FunctionMesh") => {
                for (key, kind) in [("functions", "function"), ("sources", "source"), ("sinks", "sink")] {
                    for item in d["spec"][key].as_array().into_iter().flatten() {
                        out.push(one(kind, item["name"].as_str().unwrap_or_default(), namespace, item));
                    }
                }
            }
            _ => {}
        }
    }
    out
}

/// Every invariant of reference 4.1-4.10 for one component; returns the problems found.
fn check_component(e: &Expected, objs: &[Value]) -> Vec<String> {
    let mut problems = Vec::new();
    let mut expect = |ok: bool, what: String| {
        if !ok {
            problems.push(what);
        }
    };
    let sts_name = format!("{}-{}", e.x, e.kind);
    let get = |kind: &str, name: &str| objs.iter().find(|o| o["kind"] == kind && o["metadata"]["name"] == name);
    let (Some(sts), Some(svc)) = (get("StatefulSet", &sts_name), get("Service", &format!("{sts_name}-headless")))
    else {
        return vec![format!("{sts_name}: no StatefulSet {sts_name} and Service {sts_name}-headless")];
    };
    let hpa = get("HorizontalPodAutoscaler", &sts_name);
    let vpa = get("VerticalPodAutoscaler", &sts_name);
    let base = labels_in(&e.x, e.kind, e.namespace.as_deref().unwrap_or("default"));
    let mesh = sts["metadata"]["labels"]["app.kubernetes.io/part-of"].as_str().unwrap_or_default();
    let meta_labels = with_mesh_labels(base.clone(), mesh);
    for o in [Some(sts), Some(svc), hpa, vpa].into_iter().flatten() {
        let what = format!("{} {}", o["kind"], o["metadata"]["name"]);
        expect(o["metadata"]["labels"] == meta_labels, format!("{what}: labels {}", o["metadata"]["labels"]));
        let ns = o["metadata"]["namespace"].as_str();
        expect(ns == e.namespace.as_deref(), format!("{what}: namespace {ns:?}, want {:?}", e.namespace));
    }
    expect(
        sts["spec"]["selector"] == json!({"matchLabels": base}),
        format!("{sts_name}: selector {}", sts["spec"]["selector"]),
    );
    expect(svc["spec"]["selector"] == base, format!("{sts_name}: Service selector {}", svc["spec"]["selector"]));
    expect(svc["spec"]["clusterIP"] == "None", format!("{sts_name}: the Service is not headless"));
    let pod_labels = &sts["spec"]["template"]["metadata"]["labels"];
    let selected = base.as_object().is_some_and(|b| b.iter().all(|(k, v)| &pod_labels[k] == v));
    expect(selected, format!("{sts_name}: the selector does not select the pod template ({pod_labels})"));
    expect(
        sts["spec"]["serviceName"] == svc["metadata"]["name"],
        format!("{sts_name}: serviceName {}", sts["spec"]["serviceName"]),
    );
    expect(
        sts["spec"]["replicas"] == e.replicas,
        format!("{sts_name}: replicas {}, want {}", sts["spec"]["replicas"], e.replicas),
    );
    let target = json!({"apiVersion": "apps/v1", "kind": "StatefulSet", "name": sts_name});
    match (e.max_replicas, hpa) {
        (Some(max), Some(h)) => {
            expect(
                h["spec"]["scaleTargetRef"] == target,
                format!("{sts_name}: HPA target {}", h["spec"]["scaleTargetRef"]),
            );
            expect(
                h["spec"]["maxReplicas"] == max,
                format!("{sts_name}: HPA max {}, want {max}", h["spec"]["maxReplicas"]),
            );
            let min = e.min_replicas;
            expect(
                h["spec"]["minReplicas"] == min,
                format!("{sts_name}: HPA min {}, want {min}", h["spec"]["minReplicas"]),
            );
        }
        (None, None) => {}
        (max, h) => expect(false, format!("{sts_name}: maxReplicas {max:?} but HPA present: {}", h.is_some())),
    }
    match (e.vpa, vpa) {
        (true, Some(v)) => {
            expect(v["spec"]["targetRef"] == target, format!("{sts_name}: VPA target {}", v["spec"]["targetRef"]))
        }
        (false, None) => {}
        (asked, v) => expect(false, format!("{sts_name}: pod.vpa {asked} but VPA present: {}", v.is_some())),
    }
    let main = sts["spec"]["template"]["spec"]["containers"]
        .as_array()
        .and_then(|cs| cs.iter().find(|c| c["name"] == format!("pulsar-{}", e.kind)));
    match main {
        Some(c) => {
            expect(c["image"] == e.image.as_str(), format!("{sts_name}: image {}, want {}", c["image"], e.image))
        }
        None => expect(false, format!("{sts_name}: no container pulsar-{}", e.kind)),
    }
    problems
}

/// Imports every corpus manifest, compiles it with the workloads target and checks each component
/// against the reference and every object against its schema.
#[test]
fn corpus_compiles_to_valid_workloads() {
    let Some(files) = support::corpus::files("corpus walk") else { return };
    let (mut walked, mut components, mut validated) = (0, 0, 0);
    let mut failures = Vec::new();
    for path in &files {
        let file = path.file_name().unwrap_or_default().to_string_lossy().to_string();
        let text = std::fs::read_to_string(path).expect("read");
        let imported = match mesh::import::import(&[(file.clone(), text.clone())]) {
            Ok(i) => i,
            Err(e) => {
                failures.push(format!("{file}: import: {e:?}"));
                continue;
            }
        };
        let objs = match compile_workloads(&mesh::load::load_text("imported.mesh", &imported.program)) {
            Ok(o) => o,
            Err(e) => {
                failures.push(format!("{file}: compile:\n{e}\n{}", imported.program));
                continue;
            }
        };
        let expected = expected_components(&support::yaml_docs(&text));
        let mut problems: Vec<String> = expected.iter().flat_map(|e| check_component(e, &objs)).collect();
        // Nothing beyond the ConfigMaps and each component's StatefulSet, Service and autoscaler.
        let mut want: BTreeSet<(String, String)> = BTreeSet::new();
        for e in &expected {
            let sts = format!("{}-{}", e.x, e.kind);
            want.insert(("StatefulSet".into(), sts.clone()));
            want.insert(("Service".into(), format!("{sts}-headless")));
            if e.max_replicas.is_some() {
                want.insert(("HorizontalPodAutoscaler".into(), sts.clone()));
            } else if e.vpa {
                want.insert(("VerticalPodAutoscaler".into(), sts));
            }
        }
        let got: BTreeSet<(String, String)> = objs
            .iter()
            .filter(|o| o["kind"] != "ConfigMap")
            .map(|o| {
                (
                    o["kind"].as_str().unwrap_or_default().into(),
                    o["metadata"]["name"].as_str().unwrap_or_default().into(),
                )
            })
            .collect();
        if got != want {
            problems.push(format!("objects {got:?}, want {want:?}"));
        }
        for o in &objs {
            let errors = validator().validate(o);
            if !errors.is_empty() {
                problems.push(format!("{} {}:\n  {}", o["kind"], o["metadata"]["name"], errors.join("\n  ")));
            }
        }
        if problems.is_empty() {
            walked += 1;
            components += expected.len();
            validated += objs.len();
        } else {
            failures.push(format!("{file}:\n{}", problems.join("\n")));
        }
    }
    println!(
        "{walked} of {} corpus files compile to workloads that keep the reference's invariants \
         ({components} components, {validated} objects validated)",
        files.len()
    );
    assert!(failures.is_empty(), "{} failures:\n{}", failures.len(), failures.join("\n\n"));
    assert_eq!(walked, files.len());
    assert_eq!(files.len(), CORPUS_FILES, "the corpus snapshot changed");
    assert!(components > 0);
}

/// Reference 4.7: a source or sink runs on the Java runner only with a `jar` and a package location.
#[test]
fn connector_runner_image_needs_a_jar_and_a_package_location() {
    let sink = |settings: &str| {
        let text = format!(
            "{CLUSTER}topic t : string external\nsink k = connector(\"com.K\") {{ {settings} }}\npipeline x {{ t -> k }}\n"
        );
        let objs = objects(&text);
        container(find(&objs, "StatefulSet", "k-sink"), "pulsar-sink")["image"].as_str().unwrap_or_default().to_string()
    };
    let runner = "streamnative/pulsar-functions-java-runner:2.10.0.0-rc10";
    let all = "streamnative/pulsar-all:2.10.0.0-rc10";
    assert_eq!(sink(r#"jar = "k.nar", location = "sink://public/default/k@1""#), runner);
    assert_eq!(sink(r#"jar = "", location = "sink://public/default/k@1""#), all);
    assert_eq!(sink(r#"jar = "k.nar""#), all);
}
