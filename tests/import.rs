//! `mesh import`: Function Mesh YAML to .mesh and back. Every manifest of the
//! shared corpus is imported, compiled, and compared with its input after
//! normalisation (operator defaults applied, quantities parsed, topic names
//! qualified, mesh's own labels and ConfigMaps ignored).

use mesh::import::{import, qualify_topic, ImportError};
use serde_json::{json, Map, Value};
use std::path::Path;

const CORPUS: &str = "/work/shared/corpus/function-mesh";

/// Files the importer refuses, each with the reason (see docs/import.md).
const REJECTED: &[(&str, &str)] = &[];

fn yaml_docs(text: &str) -> Vec<Value> {
    use serde::Deserialize;
    serde_yaml::Deserializer::from_str(text)
        .filter_map(|d| serde_yaml::Value::deserialize(d).ok())
        .filter_map(|v| serde_json::to_value(v).ok())
        .filter(Value::is_object)
        .collect()
}

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
    let mut set = |k: &str, v: Value| {
        spec.entry(k.to_string()).or_insert(v);
    };
    set("tenant", json!("public"));
    set("namespace", json!("default"));
    set("clusterName", json!("kubernetes"));
    set("replicas", json!(1));
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
    let docs = yaml_docs(text);
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
    let dir = Path::new(CORPUS);
    if !dir.is_dir() {
        println!("note: {CORPUS} is absent; corpus round trip skipped");
        return;
    }
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
        .collect();
    files.sort();
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
    let Ok(dir) = std::fs::read_dir(CORPUS) else { return };
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
