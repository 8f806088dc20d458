//! `mesh check --format sarif` against the official SARIF 2.1.0 JSON schema.
//! The schema is the copy the serde-sarif crate (a dev-dependency) ships in its
//! source, read from where cargo unpacked it.

use std::path::PathBuf;
use std::process::Command;

fn sarif_schema() -> serde_json::Value {
    // The version cargo resolved, then its unpacked source under CARGO_HOME.
    let lock = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/Cargo.lock")).expect("Cargo.lock");
    let version = lock
        .split("[[package]]")
        .find(|p| p.contains("name = \"serde-sarif\""))
        .and_then(|p| p.lines().find_map(|l| l.strip_prefix("version = \"")))
        .map(|v| v.trim_end_matches('"').to_string())
        .expect("serde-sarif is in Cargo.lock");
    let home = std::env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cargo")))
        .expect("a cargo home");
    let registries = std::fs::read_dir(home.join("registry").join("src")).expect("cargo's registry sources");
    let path = registries
        .flatten()
        .map(|r| r.path().join(format!("serde-sarif-{version}")).join("src").join("schema.json"))
        .find(|p| p.is_file())
        .expect("serde-sarif's source is unpacked (it is a dev-dependency)");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).expect("the schema is JSON")
}

fn check_sarif(dir: &std::path::Path, name: &str, program: &str) -> serde_json::Value {
    let file = dir.join(name);
    std::fs::write(&file, program).unwrap();
    let out =
        Command::new(env!("CARGO_BIN_EXE_mesh")).args(["check", "--format", "sarif"]).arg(&file).output().unwrap();
    serde_json::from_slice(&out.stdout).expect("SARIF output is JSON")
}

#[test]
fn sarif_output_is_valid_sarif_2_1_0() {
    let mut schema = sarif_schema();
    assert_eq!(schema["title"], "Static Analysis Results Format (SARIF) Version 2.1.0 JSON Schema");
    // The published schema's `language` patterns have a stray `]`, which the meta-schema refuses as a
    // regex; mesh never writes `language`, so the intended pattern stands in for them.
    for def in ["run", "toolComponent"] {
        let language = &mut schema["definitions"][def]["properties"]["language"]["pattern"];
        assert_eq!(language, "^[a-zA-Z]{2}|^[a-zA-Z]{2}-[a-zA-Z]{2}]?$", "{def}");
        *language = serde_json::json!("^[a-zA-Z]{2}(-[a-zA-Z]{2})?$");
    }
    let validator = jsonschema::draft7::new(&schema).expect("the SARIF schema compiles");

    let dir = tempfile::tempdir().unwrap();
    let programs = [
        ("clean.mesh", "topic t : string external\n"),
        // A warning (unused topic).
        (
            "warning.mesh",
            "pulsar p { web_service_url = \"http://b:8080\", broker_service_url = \"pulsar://b:6650\" }\n\
             topic input : string external\ntopic spare : string\n\
             function f(string) -> string = java(\"com.F\") { jar = \"f.jar\" }\npipeline x { input -> f -> spare }\n",
        ),
        // Errors with secondary labels, notes and help: an unknown setting and a schema mismatch.
        (
            "errors.mesh",
            "pulsar p { web_service_url = \"http://b:8080\", broker_service_url = \"pulsar://b:6650\" }\n\
             topic input : bytes external\ntopic out : string external\n\
             function f(string) -> long = java(\"com.F\") { jar = \"f.jar\", replicaz = 2 }\n\
             pipeline x { input -> f -> out }\n",
        ),
        // A syntax error.
        ("syntax.mesh", "topic t : \n"),
    ];
    let mut results = 0;
    for (name, text) in programs {
        let doc = check_sarif(dir.path(), name, text);
        let errors: Vec<String> = validator.iter_errors(&doc).map(|e| format!("{}: {e}", e.instance_path())).collect();
        assert!(errors.is_empty(), "{name}: {errors:#?}");
        results += doc["runs"][0]["results"].as_array().map_or(0, Vec::len);
    }
    assert!(results >= 4, "the programs produce results to validate ({results})");

    // The validator is not vacuous: a result without a message is refused.
    let mut doc = check_sarif(dir.path(), "warning.mesh", programs[1].1);
    doc["runs"][0]["results"][0].as_object_mut().unwrap().remove("message");
    assert!(!validator.is_valid(&doc));
}
