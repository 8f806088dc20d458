//! Every diagnostic code, exercised: each case is a small program, the code it
//! must produce, a part of the message, and the source text under the primary label.

use mesh::compile::{compile, Options};
use mesh::load::load_text;

const BASE: &str = r#"
pulsar p { web_service_url = "http://b:8080", broker_service_url = "pulsar://b:6650" }
topic input : string external
topic output : string
function f(string) -> string = java("com.F") { jar = "f.jar" }
sink s = connector("com.S") { jar = "s.nar" }
pipeline x { input -> f -> output -> s }
"#;

struct Case {
    code: &'static str,
    program: &'static str,
    message: &'static str,
    span: &'static str,
}

/// A case whose program is BASE with `extra` appended.
fn base(code: &'static str, extra: &'static str, message: &'static str, span: &'static str) -> Case {
    Case { code, program: Box::leak(format!("{BASE}{extra}").into_boxed_str()), message, span }
}

fn cases() -> Vec<Case> {
    vec![
        Case { code: "E0001", program: "topic a : \ntopic b : string external\n", message: "syntax error", span: "topic" },
        base("E0002", &*Box::leak(format!("let deep = {}1{}\n", "[".repeat(100), "]".repeat(100)).into_boxed_str()), "nesting deeper", "["),
        base("E0003", "let bad = \"a\\qb\"\n", "invalid escape", "\\q"),
        base("E0004", "let big = 99999999999999999999\n", "out of range", "99999999999999999999"),
        base("E0101", "topic output : bytes\n", "declared twice", "output"),
        base("E0102", "pipeline y { inptu -> f }\n", "cannot find topic or component `inptu`", "inptu"),
        Case {
            code: "E0103",
            program: "use \"./cycle_a.mesh\"\n",
            message: "`use` cycle",
            span: "\"./cycle_a.mesh\"",
        },
        Case { code: "E0104", program: "use \"./does_not_exist.mesh\"\n", message: "cannot use", span: "\"./does_not_exist.mesh\"" },
        Case { code: "E0105", program: "use std::io::kafkaa\n", message: "no stdlib module `std::io::kafkaa`", span: "std::io::kafkaa" },
        base("E0106", "let a = b\nlet b = a\n", "refers to itself", "b"),
        base("E0107", "function g(string) -> string = java(\"G\") { jar = \"g.jar\", dead_letter = p, max_retries = 1 }\npipeline y { input -> g }\n", "is a pulsar cluster", "p"),
        base("E0109", "pulsar q { web_service_url = \"http://c:8080\", broker_service_url = \"pulsar://c:6650\" }\n", "has no Pulsar cluster", "f"),
        base("E0110", "function g(string) = jav(\"G\") { jar = \"g.jar\" }\npipeline y { input -> g }\n", "not a function runtime", "jav"),
        Case {
            code: "E0111",
            program: "use std::io::kafka\npulsar p { web_service_url = \"http://b:8080\", broker_service_url = \"pulsar://b:6650\" }\ntopic t : bytes\nsource k = kafka::sink { bootstrap_servers = \"k:9092\", topic = \"t\", acks = \"1\" }\npipeline x { k -> t }\n",
            message: "is not a source connector",
            span: "kafka::sink",
        },
        base("E0112", "@template\nfunction tpl(string) = java(\"G\") { jar = \"g.jar\" }\npipeline y { input -> tpl }\n", "is a template and is not deployed itself", "tpl"),
        base("E0201", "function g(string) = java(\"G\") { jar = \"g.jar\", replica = 2 }\npipeline y { input -> g }\n", "unknown setting `replica`", "replica"),
        base("E0202", "function g(string) = java(\"G\") { jar = \"g.jar\", replicas = \"two\" }\npipeline y { input -> g }\n", "expected a replica count", "\"two\""),
        base("E0203", "pulsar q { web_service_url = \"http://c:8080\" }\n", "missing `broker_service_url`", "q"),
        base("E0204", "function g(string) = java(\"G\") { jar = \"g.jar\", guarantee = at_least_once }\npipeline y { input -> g }\n", "is not one of", "at_least_once"),
        base("E0205", "function g(string) = java(\"G\") { jar = \"g.jar\", jar = \"h.jar\" }\npipeline y { input -> g }\n", "set twice", "jar"),
        base("E0206", "function g(string) = java(\"G\") { jar = \"g.jar\", max_retries = -1 }\npipeline y { input -> g }\n", "out of range", "-1"),
        base("E0207", "function g(string) = java(\"G\") { jar = \"g.jar\", resources { memory = \"1GB\" } }\npipeline y { input -> g }\n", "not a Kubernetes quantity", "\"1GB\""),
        base("E0208", "function g(string) = java(\"G\") { jar = \"g.jar\", config { pw = secret(\"db\", \"pw\") } }\npipeline y { input -> g }\n", "secret cannot be part of plain configuration", "secret(\"db\", \"pw\")"),
        Case {
            code: "E0209",
            program: "use std::io::elasticsearch\npulsar p { web_service_url = \"http://b:8080\", broker_service_url = \"pulsar://b:6650\" }\nschema R = json { id: long }\ntopic t : R external\nsink es = elasticsearch::sink { elastic_search_url = \"http://es:9200\", index_name = \"i\", password = \"hunter2\" }\npipeline x { t -> es }\n",
            message: "sensitive",
            span: "\"hunter2\"",
        },
        base("E0301", "topic bad : string { name = \"ns/topic\" }\npipeline y { f -> bad }\n", "invalid topic name", "\"ns/topic\""),
        base("E0302", "function g(string) = java(\"G\") { jar = \"g.jar\" }\npipeline y { f -> g }\n", "connected without a topic", "f -> g"),
        base("E0303", "pipeline y { input -> output }\n", "cannot flow into topic", "input -> output"),
        base("E0304", "topic other : string\npipeline y { f -> other -> s }\n", "writes to two topics", "f -> other"),
        base("E0305", "pipeline y { output -> f }\n", "which it also reads", "f"),
        base("E0306", "pipeline y { s -> output }\n", "writes to no topic", "s"),
        base("E0307", "function g(string) = java(\"G\") { jar = \"g.jar\" }\n", "reads no topic", "g"),
        base("E0308", "topic lonely : string\nfunction g(string) = java(\"G\") { jar = \"g.jar\" }\npipeline y { lonely -> g }\n", "nothing in this program writes it", "lonely"),
        base("E0401", "function a_function_name_that_is_much_too_long_for_it(string) = java(\"G\") { jar = \"g.jar\" }\npipeline y { input -> a_function_name_that_is_much_too_long_for_it }\n", "at most 43", "a_function_name_that_is_much_too_long_for_it"),
        base("E0402", "function g(string) = java(\"G\") { jar = \"g.jar\", name = \"Bad_Name\" }\npipeline y { input -> g }\n", "not a valid name", "\"Bad_Name\""),
        base("E0403", "function g(string) = java(\"G\") { jar = \"g.jar\", replicas = 4..2 }\npipeline y { input -> g }\n", "not a valid replica range", "4..2"),
        base("E0404", "function g(string) = java(\"G\") { jar = \"\" }\npipeline y { input -> g }\n", "cannot be empty", "\"\""),
        base("E0405", "function g(string) = java(\"G\") { jar = \"g.jar\", guarantee = effectively_once, max_retries = 2 }\npipeline y { input -> g }\n", "effectively_once", "max_retries"),
        base("E0406", "topic dlq : bytes\nfunction g(string) = java(\"G\") { jar = \"g.jar\", dead_letter = dlq }\npipeline y { input -> g }\n", "needs `max_retries`", "dead_letter"),
        base("E0407", "function g(string) = java(\"G\") { jar = \"g.jar\", retain_ordering = true, retain_key_ordering = true }\npipeline y { input -> g }\n", "exclude each other", "retain_key_ordering"),
        base("E0408", "function g(string) = java(\"G\") { jar = \"g.jar\", window { length = 10 } }\npipeline y { input -> g }\n", "count window needs `slide`", "10"),
        base("E0409", "function g(string) = java(\"G\") { jar = \"g.jar\", resources { requests { memory = 2Gi }, limits { memory = 1Gi } } }\npipeline y { input -> g }\n", "exceeds the limit", "{ requests { memory = 2Gi }, limits { memory = 1Gi } }"),
        base("E0410", "function g(string) = java(\"G\") { jar = \"g.jar\", location = \"public/default/g\" }\npipeline y { input -> g }\n", "not a package location", "\"public/default/g\""),
        base("E0411", "function g(string) = go { go = \"/bin/g\", state { service_url = \"bk://b:4181\" } }\npipeline y { input -> g }\n", "Go functions cannot use `state`", "state"),
        base("E0412", "topic all : string { pattern = \"persistent://public/default/in-.*\" } external\nfunction g(string) = go { go = \"/bin/g\" }\npipeline y { all -> g }\n", "cannot read only a topic pattern", "g"),
        base("E0413", "function g(string) = java(\"G\") { jar = \"g.jar\", replicas = 1..3, pod { autoscaler = [cpu_80, cpu_50] } }\npipeline y { input -> g }\n", "two cpu rules", "cpu_50"),
        base("E0501", "schema Bad = array<string>\ntopic t : Bad external\nfunction g(string) = java(\"G\") { jar = \"g.jar\" }\n", "cannot be a topic schema", "array<string>"),
        base("E0502", "schema P = avro(\"no/such/file.avsc\")\ntopic t : P external\nfunction g(P) = java(\"G\") { jar = \"g.jar\" }\npipeline y { t -> g }\n", "cannot read schema file", "\"no/such/file.avsc\""),
        base("E0503", "function g(int64) = java(\"G\") { jar = \"g.jar\" }\npipeline y { input -> g }\n", "reads int64 but topic `input` holds string", "g"),
        base("E0504", "schema A = avro { b: B }\nschema B = avro { a: A }\ntopic t : A external\nfunction g(A) = java(\"G\") { jar = \"g.jar\" }\npipeline y { t -> g }\n", "defined in terms of itself", "A"),
        Case {
            code: "E0505",
            program: "use std::io::elasticsearch\npulsar p { web_service_url = \"http://b:8080\", broker_service_url = \"pulsar://b:6650\" }\ntopic raw : bytes external\nsink es = elasticsearch::sink { elastic_search_url = \"http://es:9200\", index_name = \"i\" }\npipeline x { raw -> es }\n",
            message: "cannot read topic `raw`",
            span: "es",
        },
        base("E0506", "schema V1 = avro { id: long, x: string }\nschema V2 = avro { id: long }\ntopic t : V2 compat backward\nfunction g(string) -> V1 = java(\"G\") { jar = \"g.jar\" }\nfunction h(V2) = java(\"H\") { jar = \"h.jar\" }\npipeline y { input -> g -> t -> h }\n", "field x", "g -> t"),
        base("E0507", "schema A = avro { id: long }\nschema B = avro { id: long, tier: string }\ntopic t : A external\nfunction g(B) = java(\"G\") { jar = \"g.jar\" }\npipeline y { t -> g }\n", "field tier", "g"),
        base("E0508", "schema A = avro { id: long }\nschema B = avro { id: long, n: string }\ntopic t : B compat backward history [A] external\nfunction g(B) = java(\"G\") { jar = \"g.jar\" }\npipeline y { t -> g }\n", "not a legal next version", "B"),
        base("E0509", "topic t : string\nfunction g(string) -> string = java(\"G\") { jar = \"g.jar\" }\nfunction h(string) -> int64 = java(\"H\") { jar = \"h.jar\" }\nfunction k(string) = java(\"K\") { jar = \"k.jar\" }\npipeline y { input -> [g, h] -> t -> k }\n", "write different schemas", "h"),
        base("W0302", "function g(bytes) = java(\"G\") { jar = \"g.jar\" }\npipeline y { input -> g }\n", "raw bytes", "g"),
        base("W0303", "schema E1 = avro { tier: enum Tier { a, b, c } }\nschema E2 = avro { tier: enum Tier { a, b } }\ntopic t : E1 external\nfunction g(E2) = java(\"G\") { jar = \"g.jar\" }\npipeline y { t -> g }\n", "Tier", "g"),
        base("W0304", "topic t1 : string\ntopic t2 : string\nfunction g(string) -> string = java(\"G\") { jar = \"g.jar\" }\nfunction h(string) -> string = java(\"H\") { jar = \"h.jar\" }\npipeline y { input -> g -> t1 -> h -> t2 -> g }\n", "has a cycle", "g"),
        base("E0414", "function g(string) = java(\"G\") { jar = \"g.jar\", replicas = 1..3, pod { vpa { updatePolicy { updateMode = \"Auto\" } } } }\npipeline y { input -> g }\n", "vertical pod autoscaler", "1..3"),
        base("W0101", "schema Unused = avro { id: long }\n", "never used", "Unused"),
        base("W0102", "use std::io::kafka\n", "never used", "kafka"),
        base("W0301", "topic spare : string\nfunction g(string) -> string = java(\"G\") { jar = \"g.jar\" }\npipeline y { input -> g -> spare }\n", "never read", "spare"),
    ]
}

#[test]
fn every_code_is_exercised_with_its_message_and_span() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("cycle_a.mesh"), "use \"./cycle_b.mesh\"\n").unwrap();
    std::fs::write(dir.path().join("cycle_b.mesh"), "use \"./cycle_a.mesh\"\n").unwrap();
    let mut failures = Vec::new();
    for case in cases() {
        let path = dir.path().join(format!("{}.mesh", case.code));
        std::fs::write(&path, case.program).unwrap();
        let loaded = mesh::load::load(&[path]).unwrap();
        let out = compile(&loaded, &Options::default());
        let found = out.diags.iter().find(|d| d.code == case.code && d.message.contains(case.message));
        match found {
            None => failures.push(format!(
                "{}: no diagnostic with message containing {:?}; got:\n{}",
                case.code,
                case.message,
                mesh::diag::render_human(&loaded.sources, &out.diags, false)
            )),
            Some(d) => {
                let text = loaded.sources.text(d.primary.span);
                if text != case.span {
                    failures.push(format!("{}: primary label covers {:?}, expected {:?}", case.code, text, case.span));
                }
                let rendered = mesh::diag::render_human(&loaded.sources, std::slice::from_ref(d), false)
                    .replace(&dir.path().display().to_string(), "<dir>");
                if let Err(e) = golden(&format!("{}.txt", case.code), &rendered) {
                    failures.push(e);
                }
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

/// Compares a rendered diagnostic with golden/diagnostics/NAME, or rewrites
/// it when MESH_BLESS=1, so a reviewer sees every message change as a diff.
fn golden(name: &str, rendered: &str) -> Result<(), String> {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("golden/diagnostics").join(name);
    if std::env::var_os("MESH_BLESS").is_some_and(|v| v == "1") {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, rendered).unwrap();
        return Ok(());
    }
    match std::fs::read_to_string(&path) {
        Ok(expected) if expected == rendered => Ok(()),
        Ok(expected) => Err(format!(
            "{name} differs from golden/diagnostics/{name} (MESH_BLESS=1 cargo test --test diagnostics rewrites it)\n--- expected\n{expected}\n--- got\n{rendered}"
        )),
        Err(_) => Err(format!("golden/diagnostics/{name} is missing (MESH_BLESS=1 cargo test --test diagnostics writes it)")),
    }
}

/// `passthrough` is checked against the CRD of the component's kind: each
/// case is a golden file, a code, a part of the message, the text under the
/// primary label, and a note or help the diagnostic must carry.
#[test]
fn passthrough_fields_are_checked_against_the_crd() {
    let function = |body: &str| {
        format!("{BASE}function g(string) = java(\"G\") {{ jar = \"g.jar\", passthrough {{ {body} }} }}\npipeline y {{ input -> g }}\n")
    };
    let cases = [
        ("E0201-passthrough", function("imagePullPolicyy = \"Always\""), "E0201", "`passthrough` field `imagePullPolicyy` is not in the Function spec", "imagePullPolicyy", "did you mean `imagePullPolicy`?"),
        ("E0201-passthrough-nested", function("pod { nodeSelecter { pool = \"a\" } }"), "E0201", "`passthrough` field `pod.nodeSelecter` is not in the Function spec", "nodeSelecter", "did you mean `nodeSelector`?"),
        (
            "E0201-passthrough-kind",
            format!("{BASE}sink t = connector(\"com.T\") {{ jar = \"t.nar\", passthrough {{ windowConfig {{ windowLengthCount = 2 }} }} }}\npipeline y {{ output -> t }}\n"),
            "E0201",
            "`passthrough` field `windowConfig` is not in the Sink spec",
            "windowConfig",
            "only the Function spec has `windowConfig`",
        ),
        ("E0202-passthrough", function("replicas = \"2\""), "E0202", "`passthrough` field `replicas` must be an integer, found a string", "\"2\"", ""),
        ("E0202-passthrough-nested", function("java { javaOpts = \"-Xss512k\" }"), "E0202", "`passthrough` field `java.javaOpts` must be a list, found a string", "\"-Xss512k\"", ""),
        ("E0202-passthrough-map", function("secretsMap { token = \"t\" }"), "E0202", "`passthrough` field `secretsMap.token` must be a block, found a string", "\"t\"", ""),
        (
            "E0202-passthrough-let",
            format!("{BASE}let extra = {{ timeout = 5s }}\nfunction g(string) = java(\"G\") {{ jar = \"g.jar\", passthrough = extra }}\npipeline y {{ input -> g }}\n"),
            "E0202",
            "`passthrough` field `timeout` must be an integer, found a duration",
            "5s",
            "",
        ),
    ];
    let mut failures = Vec::new();
    for (name, program, code, message, span, extra) in &cases {
        let loaded = load_text("p.mesh", program);
        let out = compile(&loaded, &Options::default());
        let Some(d) = out.diags.iter().find(|d| d.code == *code && d.message.contains(message)) else {
            failures.push(format!(
                "{name}: no {code} with {message:?}; got:\n{}",
                mesh::diag::render_human(&loaded.sources, &out.diags, false)
            ));
            continue;
        };
        let text = loaded.sources.text(d.primary.span);
        if text != *span {
            failures.push(format!("{name}: primary label covers {text:?}, expected {span:?}"));
        }
        let said = d.notes.iter().chain(d.help.iter()).any(|n| n.contains(extra));
        if !extra.is_empty() && !said {
            failures.push(format!("{name}: no note or help with {extra:?}: {d:?}"));
        }
        // Nothing else is reported: the checks do not pile up on one field.
        if out.diags.iter().filter(|d| d.is_error()).count() != 1 {
            failures.push(format!(
                "{name}: more than one error:\n{}",
                mesh::diag::render_human(&loaded.sources, &out.diags, false)
            ));
        }
        let rendered = mesh::diag::render_human(&loaded.sources, std::slice::from_ref(d), false);
        if let Err(e) = golden(&format!("{name}.txt"), &rendered) {
            failures.push(e);
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
    // Fields the CRD has pass.
    let ok = function("imagePullPolicy = \"Always\", \"downloaderImage\" = \"d:1\", pod { vpa { } }, volumeClaimTemplates = [], resources { claims = [] }");
    let out = compile(&load_text("ok.mesh", &ok), &Options::default());
    assert!(!out.diags.iter().any(|d| d.is_error()), "{:?}", out.diags);
}

#[test]
fn unknown_profile() {
    let loaded = load_text("p.mesh", &format!("{BASE}profile staging {{ tenant = \"s\" }}\n"));
    let out = compile(&loaded, &Options { profile: Some("stagin".into()), ..Options::default() });
    let d = out.diags.iter().find(|d| d.code == "E0108").expect("E0108");
    assert_eq!(d.message, "there is no profile `stagin`");
    assert_eq!(d.help.as_deref(), Some("did you mean `staging`?"));
}

#[test]
fn settings_ignored_in_a_mesh() {
    let text = format!("{BASE}function g(string) = java(\"G\") {{ jar = \"g.jar\", labels {{ team = \"a\" }} }}\npipeline y {{ input -> g }}\n");
    let loaded = load_text("m.mesh", &text);
    let out = compile(&loaded, &Options { mesh: true, ..Options::default() });
    let d = out.diags.iter().find(|d| d.code == "W0103").expect("W0103");
    assert!(d.message.contains("have no effect in a FunctionMesh"), "{}", d.message);
    assert_eq!(loaded.sources.text(d.primary.span), "g");
}

#[test]
fn breaking_change_against_a_baseline() {
    let old = format!("{BASE}schema O = avro {{ id: long }}\ntopic t : O compat backward external\nfunction g(O) = java(\"G\") {{ jar = \"g.jar\" }}\npipeline y {{ t -> g }}\n");
    let new = old.replace("schema O = avro { id: long }", "schema O = avro { id: long, note: string }");
    let compiled = |text: &str| {
        let loaded = load_text("b.mesh", text);
        let out = compile(&loaded, &Options::default());
        (loaded, out.program.expect("compiles"), out.objects.expect("objects"))
    };
    let (_, old_program, old_objects) = compiled(&old);
    let (loaded, new_program, _) = compiled(&new);
    // From the program, and from the bundle the old program compiled to: the same verdict.
    let from_bundle = mesh::baseline::from_bundle(&mesh::render::yaml(&old_objects)).unwrap();
    assert_eq!(from_bundle, mesh::baseline::records(&old_program));
    let diags = mesh::baseline::check(&new_program, &from_bundle, Default::default());
    assert_eq!(diags.len(), 1, "{diags:?}");
    assert_eq!(diags[0].code, "E0510");
    assert!(diags[0].message.contains("field note"), "{}", diags[0].message);
    assert_eq!(loaded.sources.text(diags[0].primary.span), "t");
    // An unchanged program passes.
    assert!(mesh::baseline::check(&old_program, &from_bundle, Default::default()).is_empty());
}

#[test]
fn templates_are_instantiated_with_overrides() {
    let text = format!(
        "{BASE}@template\nfunction enrich(string) -> string = java(\"com.E\") {{ jar = \"e.jar\", replicas = 2, config {{ region = \"us\" }} }}\n\
         topic eu_out : string\nfunction enrich_eu(string) = enrich {{ config {{ region = \"eu\" }} }}\npipeline y {{ input -> enrich_eu -> eu_out -> s }}\n"
    );
    let loaded = load_text("t.mesh", &text);
    let out = compile(&loaded, &Options::default());
    assert!(
        !out.diags.iter().any(|d| d.is_error()),
        "{}",
        mesh::diag::render_human(&loaded.sources, &out.diags, false)
    );
    let objects = out.objects.unwrap();
    assert!(objects.iter().all(|o| o.name != "enrich"), "the template itself is not emitted");
    let eu = objects.iter().find(|o| o.name == "enrich-eu").expect("the instance");
    assert_eq!(eu.value["spec"]["className"], "com.E");
    assert_eq!(eu.value["spec"]["java"]["jar"], "e.jar");
    assert_eq!(eu.value["spec"]["replicas"], 2);
    assert_eq!(eu.value["spec"]["funcConfig"]["region"], "eu");
    assert_eq!(eu.value["spec"]["output"]["topic"], "persistent://public/default/eu_out");
}

#[test]
fn protobuf_files_are_compiled_and_messages_checked() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("order.proto"),
        "syntax = \"proto3\";\npackage shop;\nmessage Order { int64 id = 1; message Line { string sku = 1; } repeated Line lines = 2; }\n",
    )
    .unwrap();
    let program = |message: &str| {
        let path = dir.path().join("p.mesh");
        std::fs::write(
            &path,
            format!("{BASE}schema O = protobuf_native(\"order.proto\", \"{message}\")\ntopic t : O external\nfunction g(O) = java(\"G\") {{ jar = \"g.jar\" }}\npipeline y {{ t -> g }}\n"),
        )
        .unwrap();
        let loaded = mesh::load::load(&[path]).unwrap();
        compile(&loaded, &Options::default()).diags
    };
    assert!(program("shop.Order.Line").iter().all(|d| !d.is_error()));
    let diags = program("shop.Order.Lin");
    let d = diags.iter().find(|d| d.code == "E0502").expect("E0502");
    assert_eq!(d.help.as_deref(), Some("did you mean `shop.Order.Line`?"));
    std::fs::write(dir.path().join("order.proto"), "message {").unwrap();
    assert!(program("shop.Order").iter().any(|d| d.code == "E0502" && d.message.contains("not a valid .proto file")));
}

#[test]
fn every_registered_code_has_a_case() {
    let mut tested: Vec<&str> = cases().iter().map(|c| c.code).collect();
    tested.push("E0108"); // `unknown_profile`: needs a command-line option
    tested.push("W0103"); // `settings_ignored_in_a_mesh`: needs --mesh
    tested.push("E0510"); // `breaking_change_against_a_baseline`
    let missing: Vec<&str> = mesh::codes::CODES.iter().map(|c| c.code).filter(|c| !tested.contains(c)).collect();
    assert!(missing.is_empty(), "codes without a test case: {missing:?}");
}

#[test]
fn every_code_has_an_explanation_with_an_example() {
    for info in mesh::codes::CODES {
        assert!(info.explanation.contains("Example"), "{} has no example", info.code);
        assert!(!info.title.is_empty());
    }
}

#[test]
fn base_program_is_clean() {
    let loaded = load_text("base.mesh", BASE);
    let out = compile(&loaded, &Options::default());
    assert!(out.diags.is_empty(), "{}", mesh::diag::render_human(&loaded.sources, &out.diags, false));
}
