//! `mesh import`: Function Mesh YAML to .mesh and back. Every manifest of the
//! shared corpus is imported, compiled, and compared with its input after
//! normalisation (operator defaults applied, quantities parsed, topic names
//! qualified, mesh's own labels and ConfigMaps ignored).

mod support;

use mesh::import::{import, qualify_topic, ImportError};
use serde_json::{json, Map, Value};
use std::path::Path;

/// Files the importer refuses, each with the reason (see docs/import.md).
const REJECTED: &[(&str, &str)] = &[];

fn compile(program: &str, mesh: bool) -> Result<Vec<Value>, String> {
    let loaded = mesh::load::load_text("imported.mesh", program);
    let out = mesh::compile::compile(&loaded, &mesh::compile::Options { mesh, ..Default::default() });
    match out.objects {
        Some(o) if !out.diags.iter().any(|d| d.is_error()) => {
            for d in &out.diags {
                println!("  warning {} {}", d.code, d.message);
            }
            Ok(o.into_iter().map(|o| o.value).collect())
        }
        _ => Err(out.diags.iter().map(|d| format!("{} {}", d.code, d.message)).collect::<Vec<_>>().join("\n")),
    }
}

/// Numbers and quantities compared by value.
fn canon_scalar(v: &mut Value) {
    match v {
        Value::Number(n) => {
            if let Some(f) = n.as_f64() {
                *v = json!(f);
            }
        }
        Value::Array(a) => a.iter_mut().for_each(canon_scalar),
        Value::Object(m) => m.values_mut().for_each(canon_scalar),
        _ => {}
    }
}

fn canon_quantities(res: &mut Value) {
    for side in ["requests", "limits"] {
        if let Some(m) = res.get_mut(side).and_then(Value::as_object_mut) {
            for q in m.values_mut() {
                let text = match q {
                    Value::String(s) => s.clone(),
                    ref other => other.to_string(),
                };
                if let Some(f) = mesh::quantity::parse(&text) {
                    *q = json!(f);
                }
            }
        }
    }
}

const PRIMS: &[(&str, &str)] = &[
    ("java.lang.String", "STRING"),
    ("java.lang.Boolean", "BOOLEAN"),
    ("java.lang.Byte", "INT8"),
    ("java.lang.Short", "INT16"),
    ("java.lang.Integer", "INT32"),
    ("java.lang.Long", "INT64"),
    ("java.lang.Float", "FLOAT"),
    ("java.lang.Double", "DOUBLE"),
];

/// A component spec with the operator's defaults applied.
fn normalise_spec(kind: &str, spec: &mut Map<String, Value>) {
    // Without `replicas` the operator starts `minReplicas` of them.
    let replicas = spec.get("minReplicas").cloned().unwrap_or(json!(1));
    let mut set = |k: &str, v: Value| {
        spec.entry(k.to_string()).or_insert(v);
    };
    set("tenant", json!("public"));
    set("namespace", json!("default"));
    set("clusterName", json!("kubernetes"));
    set("replicas", replicas);
    set("minReplicas", json!(1));
    set("processingGuarantee", json!("atleast_once"));
    if kind != "Source" {
        set("autoAck", json!(true));
    }
    if kind != "Sink" {
        set("forwardSourceMessageProperty", json!(true));
    }
    if kind == "Function" {
        set("maxPendingAsyncRequests", json!(1000));
    }
    // mesh's own default when nothing says (language.md section 7).
    set("resources", json!({"requests": {"cpu": "1", "memory": "1Gi"}, "limits": {"cpu": "1", "memory": "1Gi"}}));
    if matches!(kind, "Source" | "Sink") {
        let key = if kind == "Source" { "sourceConfig" } else { "sinkConfig" };
        set(key, json!({}));
    }
    if spec.contains_key("logTopic") {
        let agent = if kind == "Function" { "runtime" } else { "sidecar" };
        spec.entry("logTopicAgent").or_insert(json!(agent));
    }
    for k in ["logTopic", "deadLetterTopic"] {
        if let Some(Value::String(t)) = spec.get_mut(k) {
            *t = qualify_topic(t);
        }
    }
    let class = spec.get("className").cloned().unwrap_or(json!(""));
    if let Some(w) = spec.get_mut("windowConfig").and_then(Value::as_object_mut) {
        // The controller sets the window function's class from `className`,
        // and the defaulting webhook slides a duration window by its length.
        w.entry("actualWindowFunctionClassName").or_insert(class);
        if let Some(len) = w.get("windowLengthDurationMs").cloned() {
            w.entry("slidingIntervalDurationMs").or_insert(len);
        }
        if let Some(Value::String(t)) = w.get_mut("lateDataTopic") {
            *t = qualify_topic(t);
        }
    }
    if let Some(input) = spec.get_mut("input").and_then(Value::as_object_mut) {
        input.entry("typeClassName").or_insert(json!("[B"));
        let class = input["typeClassName"].as_str().unwrap_or("").to_string();
        if let Some(Value::Array(ts)) = input.get_mut("topics") {
            for t in ts.iter_mut() {
                if let Value::String(s) = t {
                    *s = qualify_topic(s);
                }
            }
        }
        let pattern = input.get("topicPattern").and_then(Value::as_str).map(str::to_string);
        // The runtime infers a primitive's schema from its class: an explicit
        // schemaType equal to that is the same as none. A topic pattern is a
        // regex pattern whether or not its entry says so.
        if let Some(p) = &pattern {
            let specs = input.entry("sourceSpecs").or_insert(json!({}));
            if let Some(specs) = specs.as_object_mut() {
                let e = specs.entry(p.clone()).or_insert(json!({}));
                if let Some(e) = e.as_object_mut() {
                    e.remove("isRegexPattern");
                }
            }
        }
        if let Some(Value::Object(specs)) = input.get_mut("sourceSpecs") {
            let specs_owned = std::mem::take(specs);
            for (t, mut s) in specs_owned {
                if let Some(o) = s.as_object_mut() {
                    if PRIMS.iter().any(|(c, st)| *c == class && o.get("schemaType") == Some(&json!(st))) {
                        o.remove("schemaType");
                    }
                    if o.is_empty() {
                        continue;
                    }
                }
                let t = if pattern.as_deref() == Some(t.as_str()) { t } else { qualify_topic(&t) };
                specs.insert(t, s);
            }
            if specs.is_empty() {
                input.remove("sourceSpecs");
            }
        }
    }
    if let Some(output) = spec.get_mut("output").and_then(Value::as_object_mut) {
        output.entry("typeClassName").or_insert(json!("[B"));
        if let Some(Value::String(t)) = output.get_mut("topic") {
            *t = qualify_topic(t);
        }
        let class = output["typeClassName"].as_str().unwrap_or("").to_string();
        if PRIMS.iter().any(|(c, st)| *c == class && output.get("sinkSchemaType") == Some(&json!(st))) {
            output.remove("sinkSchemaType");
        }
        if kind == "Source" {
            let p = output.entry("producerConf").or_insert(json!({}));
            if let Some(p) = p.as_object_mut() {
                p.entry("maxPendingMessages").or_insert(json!(1000));
                p.entry("maxPendingMessagesAcrossPartitions").or_insert(json!(1000));
                p.entry("useThreadLocalProducers").or_insert(json!(true));
            }
        }
    }
    if let Some(r) = spec.get_mut("resources") {
        canon_quantities(r);
    }
}

/// What is compared of an object: kind, name and (normalised) content.
fn normalise(obj: &Value) -> Option<(String, String, Value)> {
    let kind = obj["kind"].as_str()?.to_string();
    let name = obj["metadata"]["name"].as_str()?.to_string();
    let mut v = match kind.as_str() {
        "ConfigMap" => json!({ "data": obj["data"] }),
        "Function" | "Source" | "Sink" => {
            let mut spec = obj["spec"].as_object()?.clone();
            // The operator names the Pulsar function after the resource by default.
            spec.entry("name").or_insert(json!(name));
            normalise_spec(&kind, &mut spec);
            let mut labels = obj["metadata"]["labels"].as_object().cloned().unwrap_or_default();
            labels.remove("app.kubernetes.io/managed-by");
            labels.remove("app.kubernetes.io/part-of");
            json!({ "spec": spec, "labels": labels, "annotations": obj["metadata"]["annotations"] })
        }
        "FunctionMesh" => {
            let mut spec = obj["spec"].as_object()?.clone();
            for (key, k) in [("functions", "Function"), ("sources", "Source"), ("sinks", "Sink")] {
                let list = spec.get(key).and_then(Value::as_array).cloned().unwrap_or_default();
                let mut out: Vec<Value> = list
                    .into_iter()
                    .filter_map(|mut s| {
                        normalise_spec(k, s.as_object_mut()?);
                        Some(s)
                    })
                    .collect();
                out.sort_by_key(|s| s["name"].as_str().unwrap_or("").to_string());
                if out.is_empty() {
                    spec.remove(key);
                } else {
                    spec.insert(key.to_string(), Value::Array(out));
                }
            }
            json!({ "spec": spec })
        }
        _ => return None,
    };
    canon_scalar(&mut v);
    Some((kind, name, v))
}

/// Imports one file and checks every object it declares comes back.
fn round_trip(file: &str, text: &str) -> Result<usize, String> {
    let imported = import(&[(file.to_string(), text.to_string())]).map_err(|e| format!("import: {e:?}"))?;
    // MESH_IMPORT_DUMP=DIR keeps the generated programs, for reading.
    if let Ok(dir) = std::env::var("MESH_IMPORT_DUMP") {
        let _ = std::fs::write(Path::new(&dir).join(file.replace(".yaml", ".mesh")), &imported.program);
    }
    let docs = support::yaml_docs(text);
    let mesh = docs.iter().any(|d| d["kind"] == "FunctionMesh");
    let objects = compile(&imported.program, mesh).map_err(|e| format!("compile:\n{e}\n{}", imported.program))?;
    let compiled: Vec<_> = objects.iter().filter_map(normalise).collect();
    let mut compared = 0;
    for d in &docs {
        let Some((kind, name, want)) = normalise(d) else { continue };
        // Only the pulsarConfig ConfigMaps are mesh's to write.
        if kind == "ConfigMap" && imported.skipped.iter().any(|s| s.contains(&format!("ConfigMap {name}:"))) {
            continue;
        }
        let got = compiled
            .iter()
            .find(|(k, n, _)| *k == kind && *n == name)
            .ok_or_else(|| format!("no compiled {kind} {name}\n{}", imported.program))?;
        if got.2 != want {
            return Err(format!(
                "{kind} {name} differs\nwant: {}\ngot:  {}\n{}",
                serde_json::to_string(&want).unwrap_or_default(),
                serde_json::to_string(&got.2).unwrap_or_default(),
                imported.program
            ));
        }
        compared += 1;
    }
    Ok(compared)
}

#[test]
fn corpus_round_trips() {
    let Some(files) = support::corpus::files("corpus round trip") else { return };
    let (mut passed, mut failures) = (0, Vec::new());
    for p in &files {
        let name = p.file_name().unwrap().to_string_lossy().to_string();
        let text = std::fs::read_to_string(p).unwrap();
        match round_trip(&name, &text) {
            Ok(_) => passed += 1,
            Err(e) if REJECTED.iter().any(|(f, _)| *f == name) => println!("{name}: rejected as documented: {e}"),
            Err(e) => failures.push(format!("{name}: {e}")),
        }
    }
    println!("{passed} of {} manifests round-trip", files.len());
    assert!(failures.is_empty(), "{} failures:\n{}", failures.len(), failures.join("\n\n"));
}

fn one(text: &str) -> Result<mesh::import::Imported, Vec<ImportError>> {
    import(&[("in.yaml".to_string(), text.to_string())])
}

#[test]
fn yaml_syntax_error_names_file_and_line() {
    let errs = one("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: [unclosed\n").unwrap_err();
    assert_eq!(errs[0].file, "in.yaml");
    assert!(errs[0].line.is_some(), "{errs:?}");
    assert!(errs[0].message.contains("YAML"), "{errs:?}");
}

#[test]
fn unknown_kinds_are_skipped_and_reported() {
    let out = one("apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\n---\nfoo: bar\n").unwrap();
    assert!(out.skipped.iter().any(|s| s.contains("Deployment web")), "{:?}", out.skipped);
    assert!(out.skipped.iter().any(|s| s.contains("(no kind)")), "{:?}", out.skipped);
}

const FUNCTION: &str = "apiVersion: compute.functionmesh.io/v1alpha1
kind: Function
metadata:
  name: f
spec:
  className: com.example.F
  replicas: REPLICAS
  input:
    topics:
    - persistent://public/default/in
    typeClassName: java.lang.String
  pulsar:
    pulsarConfig: cfg
  java:
    jar: /f.jar
";

#[test]
fn wrong_field_type_is_an_error_with_path_and_line() {
    let errs = one(&FUNCTION.replace("REPLICAS", "lots")).unwrap_err();
    assert_eq!(errs[0].path, "spec.replicas");
    assert_eq!(errs[0].line, Some(7));
    let errs =
        one(&FUNCTION.replace("REPLICAS", "1").replace("- persistent://public/default/in", "- {a: 1}")).unwrap_err();
    assert_eq!(errs[0].path, "spec.input.topics", "{errs:?}");
}

#[test]
fn missing_required_field_is_an_error() {
    let errs = one(&FUNCTION.replace("REPLICAS", "1").replace("  className: com.example.F\n", "")).unwrap_err();
    assert!(errs.iter().any(|e| e.path == "spec.className"), "{errs:?}");
    let errs = one("apiVersion: compute.functionmesh.io/v1alpha1\nkind: Sink\nmetadata:\n  name: s\n").unwrap_err();
    assert_eq!(errs[0].path, "spec");
}

#[test]
fn simple_function_imports_and_compiles() {
    let out = one(&FUNCTION.replace("REPLICAS", "2")).unwrap();
    let objects = compile(&out.program, false).unwrap_or_else(|e| panic!("{e}\n{}", out.program));
    let f = objects.iter().find(|o| o["kind"] == "Function").unwrap();
    assert_eq!(f["spec"]["replicas"], 2);
    assert_eq!(f["spec"]["input"]["topics"][0], "persistent://public/default/in");
    // Formatted output is a fixed point of the formatter.
    assert_eq!(mesh::fmt::format_source(&out.program).unwrap(), out.program);
}

#[test]
fn garbage_never_panics() {
    for text in [
        "",
        "---\n---\n",
        "- 1\n- 2\n",
        "kind: Function\n",
        "apiVersion: compute.functionmesh.io/v1alpha1\nkind: FunctionMesh\nmetadata: {name: m}\nspec: {functions: 3}\n",
        "\u{0}\u{1}:::",
    ] {
        let _ = one(text);
    }
}

#[test]
fn legacy_bare_locations_stay_in_passthrough() {
    let text = FUNCTION
        .replace("REPLICAS", "1")
        .replace("    jar: /f.jar\n", "    jar: /f.jar\n    jarLocation: public/default/f\n");
    let out = one(&text).unwrap();
    assert!(out.program.contains("jarLocation = \"public/default/f\""), "{}", out.program);
    assert!(!out.program.contains("location ="), "{}", out.program);
    let objects = compile(&out.program, false).unwrap_or_else(|e| panic!("{e}\n{}", out.program));
    let f = objects.iter().find(|o| o["kind"] == "Function").unwrap();
    assert_eq!(f["spec"]["java"]["jarLocation"], "public/default/f");
    // A location mesh accepts becomes `location`.
    let text = text.replace("public/default/f", "function://public/default/f@1");
    let out = one(&text).unwrap();
    assert!(out.program.contains("location = \"function://public/default/f@1\""), "{}", out.program);
}

#[test]
fn files_are_combined_and_secrets_skipped() {
    let cm = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cfg\ndata:\n  webServiceURL: http://b:8080\n  brokerServiceURL: pulsar://b:6650\n---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: other\n---\napiVersion: v1\nkind: Secret\nmetadata:\n  name: s\n";
    let out = import(&[("f.yaml".into(), FUNCTION.replace("REPLICAS", "1")), ("cm.yaml".into(), cm.into())]).unwrap();
    assert!(out.program.contains("\"http://b:8080\""), "{}", out.program);
    assert!(out.skipped.iter().any(|s| s.starts_with("cm.yaml: ConfigMap other")), "{:?}", out.skipped);
    assert!(out.skipped.iter().any(|s| s.starts_with("cm.yaml: Secret s")), "{:?}", out.skipped);
    // Without the ConfigMap, placeholders keep the program compiling.
    let out = one(&FUNCTION.replace("REPLICAS", "1")).unwrap();
    assert!(compile(&out.program, false).is_ok(), "{}", out.program);
}

#[test]
fn function_mesh_member_errors_name_their_path() {
    let text = "apiVersion: compute.functionmesh.io/v1alpha1\nkind: FunctionMesh\nmetadata:\n  name: m\nspec:\n  functions:\n  - name: a\n    className: C\n    replicas: many\n";
    let errs = one(text).unwrap_err();
    assert!(errs.iter().any(|e| e.path == "spec.functions[0].replicas" && e.line == Some(9)), "{errs:?}");
}

/// Truncated and corrupted corpus files give errors or programs, never a panic.
#[test]
fn mangled_corpus_never_panics() {
    let Ok(dir) = std::fs::read_dir(support::corpus::dir()) else { return };
    for e in dir.flatten() {
        let Ok(text) = std::fs::read_to_string(e.path()) else { continue };
        let step = (text.len() / 7).max(1);
        for cut in (0..text.len()).step_by(step) {
            if !text.is_char_boundary(cut) {
                continue;
            }
            let _ = one(&text[..cut]);
            let _ = one(&text.replacen(": ", ": [", 1 + cut % 3));
            let _ = one(&text.replace("replicas: 1", "replicas: {}").replace("typeClassName:", "typeClassName: 3 #"));
        }
    }
}

/// A standalone component of `kind` with `extra` appended to its spec (two
/// spaces of indentation; four continue the `java` block, which comes last).
fn component(kind: &str, extra: &str) -> String {
    let io = match kind {
        "Source" => "  output:\n    topic: out\n    typeClassName: java.lang.String\n",
        "Sink" => "  input:\n    topics:\n    - in\n    typeClassName: java.lang.String\n",
        _ => "  input:\n    topics:\n    - in\n    typeClassName: java.lang.String\n  output:\n    topic: out\n    typeClassName: java.lang.String\n",
    };
    format!(
        "apiVersion: compute.functionmesh.io/v1alpha1\nkind: {kind}\nmetadata:\n  name: c\nspec:\n  className: com.example.C\n{io}  pulsar:\n    pulsarConfig: cfg\n{extra}  java:\n    jar: /c.jar\n"
    )
}

/// Imports `yaml`, checks that the program says each of `syntax` and needs
/// no `passthrough`, and that it compiles back to the input's objects.
fn maps_to_syntax(yaml: &str, syntax: &[&str]) -> String {
    let out = one(yaml).unwrap_or_else(|e| panic!("{e:?}"));
    for s in syntax {
        assert!(says(&out.program, s), "no {s:?} in:\n{}", out.program);
    }
    assert!(!out.program.contains("passthrough"), "{}", out.program);
    round_trip("in.yaml", yaml).unwrap_or_else(|e| panic!("{e}"));
    out.program
}

/// Whether `program` contains `text`, however the formatter laid either out
/// (aligned `=`, blocks on one line or several).
fn says(program: &str, text: &str) -> bool {
    let squash = |s: &str| s.chars().filter(|c| !c.is_whitespace() && *c != ',').collect::<String>();
    squash(program).contains(&squash(text))
}

/// Imports `yaml`, checks the program keeps `kept` in `passthrough`, and
/// that it compiles back to the input's objects.
fn keeps_in_passthrough(yaml: &str, kept: &[&str]) -> String {
    let out = one(yaml).unwrap_or_else(|e| panic!("{e:?}"));
    let pass = out.program.split("passthrough").nth(1).unwrap_or_else(|| panic!("no passthrough:\n{}", out.program));
    for k in kept {
        assert!(says(pass, k), "{k:?} is not in passthrough:\n{}", out.program);
    }
    round_trip("in.yaml", yaml).unwrap_or_else(|e| panic!("{e}"));
    out.program
}

#[test]
fn windows_and_state_use_their_blocks() {
    let count = "  windowConfig:\n    windowLengthCount: 10\n    slidingIntervalCount: 5\n    lateDataTopic: late\n    processingGuarantees: ATMOST_ONCE\n    actualWindowFunctionClassName: com.example.C\n  statefulConfig:\n    pulsar:\n      serviceUrl: bk://bookie:4181\n      javaProvider:\n        className: com.example.Store\n";
    let program = maps_to_syntax(
        &component("Function", count),
        &[
            "window { length = 10, slide = 5, late_data = late, guarantee = atmost_once }",
            "state { service_url = \"bk://bookie:4181\", provider = \"com.example.Store\" }",
        ],
    );
    // The late-data topic is declared, so the window can name it.
    assert!(
        says(&program, "topic late : string external { name = \"persistent://public/default/late\" }"),
        "{program}"
    );
    // A time window: the slide defaults to the length, as the operator does.
    let time = "  windowConfig:\n    windowLengthDurationMs: 300000\n    timestampExtractorClassName: com.example.Ts\n    maxLagMs: 1500\n    watermarkEmitIntervalMs: 1000\n";
    maps_to_syntax(
        &component("Function", time),
        &["window { length = 300s, timestamp_extractor = \"com.example.Ts\", max_lag = 1500ms, watermark_interval = 1s }"],
    );
    // A count window may go without a slide when it has both lag and watermark.
    let lagged = "  windowConfig:\n    windowLengthCount: 100\n    maxLagMs: 10\n    watermarkEmitIntervalMs: 20\n";
    maps_to_syntax(
        &component("Function", lagged),
        &["window { length = 100, max_lag = 10ms, watermark_interval = 20ms }"],
    );
    // State on a source, too.
    let state = "  statefulConfig:\n    pulsar:\n      serviceUrl: bk://bookie:4181\n";
    maps_to_syntax(&component("Source", state), &["state { service_url = \"bk://bookie:4181\" }"]);
}

#[test]
fn windows_mesh_cannot_write_exactly_stay_in_passthrough() {
    // mesh refuses a count window without a slide (E0408): the whole window stays.
    let program = keeps_in_passthrough(
        &component("Function", "  windowConfig:\n    windowLengthCount: 10\n"),
        &["windowConfig { windowLengthCount = 10 }"],
    );
    assert!(!program.contains("window {"), "{program}");
    // Another window class than the function's: the block, plus that field.
    let other = "  windowConfig:\n    windowLengthCount: 10\n    slidingIntervalCount: 10\n    actualWindowFunctionClassName: \"\"\n";
    let program = keeps_in_passthrough(&component("Function", other), &["actualWindowFunctionClassName = \"\""]);
    assert!(says(&program, "window { length = 10, slide = 10 }"), "{program}");
    // Go functions have no state (E0411).
    let go = "apiVersion: compute.functionmesh.io/v1alpha1\nkind: Function\nmetadata:\n  name: g\nspec:\n  input:\n    topics:\n    - in\n  pulsar:\n    pulsarConfig: cfg\n  statefulConfig:\n    pulsar:\n      serviceUrl: bk://bookie:4181\n  golang:\n    go: /g\n";
    keeps_in_passthrough(go, &["statefulConfig"]);
}

#[test]
fn batch_sources_and_producers_use_their_blocks() {
    let producer = "    producerConf:\n      maxPendingMessages: 100\n      maxPendingMessagesAcrossPartitions: 2000\n      useThreadLocalProducers: false\n      batchBuilder: KEY_BASED\n      compressionType: ZSTD\n      cryptoConfig:\n        cryptoKeyReaderClassName: com.example.Keys\n        cryptoKeyReaderConfig:\n          dir: /keys\n        encryptionKeys:\n        - orders\n        producerCryptoFailureAction: SEND\n        cryptoSecrets:\n        - secretName: keys\n          secretKey: pub.pem\n          asVolume: /keys\n";
    let batch = "  batchSourceConfig:\n    discoveryTriggererClassName: com.example.Trigger\n    discoveryTriggererConfig:\n      interval: 5\n      a.b: x\n";
    let typed = "    typeClassName: java.lang.String\n";
    let yaml = component("Source", batch).replace(typed, &format!("{typed}{producer}"));
    maps_to_syntax(
        &yaml,
        &[
            "max_pending_messages                   = 100",
            "max_pending_messages_across_partitions = 2000",
            "thread_local                           = false",
            "batch_builder                          = KEY_BASED",
            "compression                            = ZSTD",
            "key_reader = \"com.example.Keys\"",
            "key_reader_config { dir = \"/keys\" }",
            "encryption_keys = [\"orders\"]",
            "failure_action = SEND",
            "secrets = [{ secret = secret(\"keys\", \"pub.pem\"), mount = \"/keys\" }]",
            "batch { discovery = \"com.example.Trigger\", config { interval = 5, \"a.b\" = \"x\" } }",
        ],
    );
    // An explicit empty producerConf stays empty instead of taking the operator's defaults.
    let empty = component("Source", "").replace(
        "    typeClassName: java.lang.String\n",
        "    typeClassName: java.lang.String\n    producerConf: {}\n",
    );
    maps_to_syntax(&empty, &["producer {}"]);
    // A value mesh does not know stays, next to what it does.
    let odd = component("Function", "").replace(
        "  output:\n    topic: out\n",
        "  output:\n    topic: out\n    producerConf:\n      maxPendingMessages: 7\n      compressionType: BROTLI\n",
    );
    let program = keeps_in_passthrough(&odd, &["producerConf { compressionType = \"BROTLI\" }"]);
    assert!(says(&program, "producer { max_pending_messages = 7 }"), "{program}");
}

#[test]
fn consumers_use_their_block_when_every_input_agrees() {
    let specs = "    sourceSpecs:\n      in:\n        receiverQueueSize: 500\n        cryptoConfig:\n          cryptoKeyReaderClassName: com.example.Keys\n          consumerCryptoFailureAction: DISCARD\n      persistent://public/default/in2:\n        receiverQueueSize: 500\n        cryptoConfig:\n          cryptoKeyReaderClassName: com.example.Keys\n          consumerCryptoFailureAction: DISCARD\n";
    let yaml = component("Sink", "").replace(
        "    - in\n    typeClassName: java.lang.String\n",
        &format!("    - in\n    - persistent://public/default/in2\n    typeClassName: java.lang.String\n{specs}"),
    );
    maps_to_syntax(
        &yaml,
        &["consumer { receiver_queue_size = 500, crypto { key_reader = \"com.example.Keys\", failure_action = DISCARD } }"],
    );
    // Different settings per topic cannot be one `consumer` block.
    let differ = yaml.replacen("receiverQueueSize: 500", "receiverQueueSize: 10", 1);
    let program = keeps_in_passthrough(&differ, &["receiverQueueSize = 10", "receiverQueueSize = 500"]);
    assert!(!program.contains("consumer {"), "{program}");
}

#[test]
fn serdes_logs_and_other_settings_use_their_syntax() {
    let yaml = component(
        "Function",
        "  subscriptionPosition: latest\n  cleanupSubscription: true\n  retainKeyOrdering: true\n  skipToLatest: true\n  maxPendingAsyncRequests: 500\n  showPreciseParallelism: true\n  runtimeFlags: --verbose\n  logTopicAgent: sidecar\n",
    )
    .replace("    typeClassName: java.lang.String\n  output:", "    typeClassName: java.lang.String\n    customSerdeSources:\n      persistent://public/default/in: com.example.InSerDe\n  output:\n    sinkSerdeClassName: com.example.OutSerDe")
        + "    javaOpts:\n    - -Xss512k\n    log:\n      level: info\n      format: text\n      rotatePolicy: SizedPolicyWith10MB\n      logConfig:\n        name: logs\n        key: log4j2.xml\n      javaLog4JConfigFileType: xml\n";
    maps_to_syntax(
        &yaml,
        &[
            "position                   = latest",
            "cleanup_subscription       = true",
            "retain_key_ordering        = true",
            "skip_to_latest             = true",
            "max_pending_async_requests = 500",
            "precise_parallelism        = true",
            "runtime_flags              = \"--verbose\"",
            "log_agent                  = sidecar",
            "java_opts                  = [\"-Xss512k\"]",
            "serde { input = \"com.example.InSerDe\", output = \"com.example.OutSerDe\" }",
            "log { level = info, format = text, rotate = size_10mb, config_map = config_map(\"logs\", \"log4j2.xml\"), java_config_type = xml }",
        ],
    );
    let sink = component(
        "Sink",
        "  negativeAckRedeliveryDelayMs: 1500\n  retainOrdering: true\n  cleanupSubscription: false\n",
    ) + "    extraDependenciesDir: /deps\n";
    let program = keeps_in_passthrough(&sink, &["cleanupSubscription = false"]);
    for s in ["negative_ack_redelivery_delay = 1500ms", "retain_ordering = true", "extra_dependencies_dir = \"/deps\""]
    {
        assert!(says(&program, s), "no {s:?} in:\n{program}");
    }
}

#[test]
fn pod_settings_use_the_pod_block() {
    let pod = "  pod:\n    serviceAccountName: sa\n    nodeSelector:\n      pool: secure\n    terminationGracePeriodSeconds: 30\n    tolerations:\n    - key: dedicated\n      operator: Equal\n      value: secure\n      effect: NoSchedule\n    securityContext:\n      runAsNonRoot: true\n      runAsUser: 10000\n    affinity:\n      podAntiAffinity:\n        preferredDuringSchedulingIgnoredDuringExecution:\n        - weight: 1\n          podAffinityTerm:\n            topologyKey: zone\n            labelSelector:\n              matchLabels:\n                app_name: s\n    env:\n    - name: TOKEN\n      valueFrom:\n        secretKeyRef:\n          name: creds\n          key: token\n    - name: MODE\n      value: fast\n    liveness:\n      periodSeconds: 10\n      successThreshold: 1\n      failureThreshold: 3\n    startupProbe:\n      httpGet:\n        path: /ready\n        port: 8080\n      periodSeconds: 5\n    vpa:\n      updatePolicy:\n        updateMode: Auto\n    builtinAutoscaler:\n    - AverageUtilizationMemoryPercent50\n  volumeMounts:\n  - name: cache\n    mountPath: /cache\n";
    maps_to_syntax(
        &component("Sink", pod),
        &[
            "service_account = \"sa\"",
            "node_selector { pool = \"secure\" }",
            "termination_grace_period = 30s",
            "tolerations = [{ key = \"dedicated\", operator = \"Equal\", value = \"secure\", effect = \"NoSchedule\" }]",
            "security_context { runAsNonRoot = true, runAsUser = 10000 }",
            // A key mesh would turn into camelCase is quoted.
            "matchLabels { \"app_name\" = \"s\" }",
            "env { TOKEN = secret(\"creds\", \"token\"), MODE = \"fast\" }",
            "liveness { period = 10s, success_threshold = 1, failure_threshold = 3 }",
            "startup_probe {",
            "vpa { updatePolicy { updateMode = \"Auto\" } }",
            "autoscaler = [memory_50]",
            "volume_mounts = [{ name = \"cache\", mountPath = \"/cache\" }]",
        ],
    );
    // Shapes the pod settings do not write stay, beside those they do.
    let odd = "  pod:\n    serviceAccountName: sa\n    env:\n    - name: MODE\n      valueFrom:\n        configMapKeyRef:\n          name: cm\n          key: mode\n    tolerations:\n    - key: dedicated\n      tolerationSecs: 5\n";
    let program = keeps_in_passthrough(&component("Sink", odd), &["configMapKeyRef", "tolerationSecs"]);
    assert!(says(&program, "pod { service_account = \"sa\" }"), "{program}");
    // No `vpa` with a replica range (E0414).
    let ranged =
        "  minReplicas: 1\n  maxReplicas: 3\n  pod:\n    vpa:\n      updatePolicy:\n        updateMode: Auto\n";
    keeps_in_passthrough(&component("Sink", ranged), &["vpa"]);
}

#[test]
fn null_fields_are_left_unset_and_reported() {
    let with_nulls =
        component("Function", "  replicas: null\n  funcConfig:\n    a: 1\n    b: null\n  pod:\n    labels: null\n");
    let out = one(&with_nulls).unwrap_or_else(|e| panic!("{e:?}"));
    assert_eq!(
        out.skipped,
        [
            "in.yaml: Function c: spec.replicas: null, left unset",
            "in.yaml: Function c: spec.funcConfig.b: null, left unset",
            "in.yaml: Function c: spec.pod.labels: null, left unset",
        ]
    );
    // The same program as without those fields.
    let without = component("Function", "  funcConfig:\n    a: 1\n  pod: {}\n");
    assert_eq!(out.program, one(&without).unwrap().program);
    assert!(round_trip("in.yaml", &without).is_ok());
    // A null inside a list is no field: an error naming it.
    let listed = component("Function", "  volumeMounts:\n  - null\n");
    let errs = one(&listed).unwrap_err();
    assert_eq!(errs[0].path, "spec.volumeMounts[0]", "{errs:?}");
    assert_eq!(errs[0].line, Some(16), "{errs:?}");
}

#[test]
fn min_replicas_without_max_round_trip() {
    // The spec, then the replicas and minReplicas the compiled object must have.
    for (spec, replicas, min) in [
        ("  replicas: 3\n  minReplicas: 2\n", 3, 2),
        ("  replicas: 3\n  minReplicas: 3\n", 3, 3),
        ("  replicas: 4\n  minReplicas: 1\n", 4, 1),
        // Without `replicas`, the operator starts `minReplicas`.
        ("  minReplicas: 2\n", 2, 2),
    ] {
        let yaml = component("Function", spec);
        let out = one(&yaml).unwrap();
        if let Err(e) = round_trip("in.yaml", &yaml) {
            panic!("{spec}: {e}");
        }
        let objects = compile(&out.program, false).unwrap();
        let f = &objects.iter().find(|o| o["kind"] == "Function").unwrap()["spec"];
        assert_eq!((&f["replicas"], &f["minReplicas"]), (&json!(replicas), &json!(min)), "{spec}\n{}", out.program);
        assert!(f.get("maxReplicas").is_none());
    }
}

#[test]
fn fields_the_crd_does_not_have_fail_the_import() {
    let errs = one(&component("Function", "  imagePullPolicyy: Always\n")).unwrap_err();
    assert_eq!((errs[0].path.as_str(), errs[0].line), ("spec.imagePullPolicyy", Some(16)), "{errs:?}");
    assert!(errs[0].message.contains("not a field of the Function spec"), "{errs:?}");
    assert!(errs[0].message.contains("did you mean `imagePullPolicy`?"), "{errs:?}");
    let errs = one(&component("Sink", "  windowConfig:\n    windowLengthCount: 3\n")).unwrap_err();
    assert!(errs[0].message.contains("only the Function spec has it"), "{errs:?}");
    let errs = one(&component("Function", "  pod:\n    nodeSelecter:\n      a: b\n")).unwrap_err();
    assert_eq!((errs[0].path.as_str(), errs[0].line), ("spec.pod.nodeSelecter", Some(17)), "{errs:?}");
    let errs = one(&component("Function", "  imagePullPolicy: 3\n")).unwrap_err();
    assert_eq!(errs[0].message, "expected a string", "{errs:?}");
    // A FunctionMesh member names its place in the list.
    let mesh = "apiVersion: compute.functionmesh.io/v1alpha1\nkind: FunctionMesh\nmetadata:\n  name: m\nspec:\n  functions:\n  - name: a\n    className: C\n    input:\n      topics:\n      - in\n    pulsar:\n      pulsarConfig: cfg\n    java:\n      jar: a.jar\n    statefulConfg: {}\n";
    let errs = one(mesh).unwrap_err();
    assert_eq!((errs[0].path.as_str(), errs[0].line), ("spec.functions[0].statefulConfg", Some(16)), "{errs:?}");
}

#[test]
fn settings_mesh_refuses_together_stay_in_passthrough() {
    // effectively_once excludes retries and a timeout (E0405).
    let eo = component("Function", "  processingGuarantee: effectively_once\n  timeout: 100\n  maxMessageRetry: 2\n");
    keeps_in_passthrough(&eo, &["timeout = 100", "maxMessageRetry = 2"]);
    // A Go function has no class in mesh; a className given anyway is kept.
    let go = "apiVersion: compute.functionmesh.io/v1alpha1\nkind: Function\nmetadata:\n  name: g\nspec:\n  className: main\n  input:\n    topics:\n    - in\n  pulsar:\n    pulsarConfig: cfg\n  golang:\n    go: /g\n";
    keeps_in_passthrough(go, &["className = \"main\""]);
}
