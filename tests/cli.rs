//! The `mesh` binary end to end: arguments, exit codes (0 ok, 1 program errors, 2 usage or I/O), what goes
//! to stdout and stderr, and the files `-o DIR` writes.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde::Deserialize;
use serde_json::Value;

/// A small complete program, independent of the examples (which others edit).
const GOOD: &str = r#"// Upper-cases every message.
pulsar local {
  web_service_url    = "http://pulsar.pulsar.svc:8080"
  broker_service_url = "pulsar://pulsar.pulsar.svc:6650"
}

defaults {
  cluster = local
}

topic input  : string external
topic output : string

function upper(string) -> string = java("com.example.Upper") {
  jar = "function://public/default/upper@1.0"
}

function audit(string) = java("com.example.Audit") {
  jar = "function://public/default/audit@1.0"
}

pipeline words {
  input -> upper -> output -> audit
}
"#;

/// [`GOOD`] with one misspelt setting: exactly one E0201.
fn bad() -> String {
    GOOD.replace(
        "  jar = \"function://public/default/upper",
        "  replicass = 2\n  jar = \"function://public/default/upper",
    )
}

fn shop() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/shop.mesh")
}

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

/// Runs the binary (without colour) and checks what holds for every run: it exits with 0, 1 or 2 and
/// never panics.
fn mesh_in(dir: Option<&Path>, args: &[&str]) -> Run {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_mesh"));
    cmd.args(args).env("NO_COLOR", "1").env_remove("RUST_BACKTRACE");
    if let Some(dir) = dir {
        cmd.current_dir(dir);
    }
    let Output { status, stdout, stderr } = cmd.output().expect("cannot run the mesh binary");
    let run = Run {
        code: status.code().unwrap_or_else(|| panic!("mesh {args:?} was killed by a signal: {status}")),
        stdout: String::from_utf8(stdout).expect("stdout is not UTF-8"),
        stderr: String::from_utf8_lossy(&stderr).into_owned(),
    };
    assert!(!run.stderr.contains("panicked"), "mesh {args:?} panicked:\n{}", run.stderr);
    assert!(matches!(run.code, 0..=2), "mesh {args:?} exited with {}:\n{}", run.code, run.stderr);
    run
}

fn mesh(args: &[&str]) -> Run {
    mesh_in(None, args)
}

fn expect_code(run: &Run, code: i32, what: &str) {
    assert_eq!(run.code, code, "{what}: wrong exit code\n--- stdout\n{}\n--- stderr\n{}", run.stdout, run.stderr);
}

/// A temporary directory holding the given files (`/`-separated relative paths).
fn project(files: &[(&str, &[u8])]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for (name, content) in files {
        let path = dir.path().join(name);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, content).unwrap();
    }
    dir
}

fn yaml_documents(text: &str) -> Vec<Value> {
    serde_yaml::Deserializer::from_str(text).map(|doc| Value::deserialize(doc).unwrap()).collect()
}

fn kinds(docs: &[Value]) -> Vec<String> {
    docs.iter().map(|d| d["kind"].as_str().unwrap_or("<none>").to_string()).collect()
}

fn path_str(p: &Path) -> &str {
    p.to_str().unwrap()
}

#[test]
fn compile_an_example_prints_yaml() {
    let run = mesh(&["compile", path_str(&shop())]);
    expect_code(&run, 0, "compile examples/shop.mesh");
    assert!(run.stdout.starts_with("apiVersion"), "stdout:\n{}", run.stdout);
    assert!(!run.stderr.contains("error"), "stderr:\n{}", run.stderr);
    let docs = yaml_documents(&run.stdout);
    assert!(docs.len() >= 2, "expected a ConfigMap and components, got {:?}", kinds(&docs));
    assert!(docs.iter().all(|d| d["metadata"]["name"].is_string()), "{docs:#?}");
}

#[test]
fn compile_prints_one_document_per_component() {
    let dir = project(&[("good.mesh", GOOD.as_bytes())]);
    let run = mesh_in(Some(dir.path()), &["compile", "good.mesh"]);
    expect_code(&run, 0, "compile good.mesh");
    assert!(run.stdout.starts_with("apiVersion"), "stdout:\n{}", run.stdout);
    let kinds = kinds(&yaml_documents(&run.stdout));
    assert_eq!(kinds.iter().filter(|k| *k != "ConfigMap").collect::<Vec<_>>(), ["Function", "Function"]);
    assert!(kinds.iter().any(|k| k == "ConfigMap"), "the cluster's ConfigMap: {kinds:?}");
}

#[test]
fn json_format_is_a_v1_list() {
    let run = mesh(&["compile", path_str(&shop()), "--format", "json"]);
    expect_code(&run, 0, "compile --format json");
    let list: Value = serde_json::from_str(&run.stdout).expect("stdout is not JSON");
    assert_eq!(list["kind"], "List");
    assert_eq!(list["apiVersion"], "v1");
    let items = list["items"].as_array().expect("items is not an array");
    // The same objects as the YAML output, in the same order.
    let yaml = mesh(&["compile", path_str(&shop())]);
    assert_eq!(items, &yaml_documents(&yaml.stdout));
}

#[test]
fn output_dir_gets_one_file_per_object_and_a_kustomization() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("deploy/nested"); // created, parents included
    let run = mesh(&["compile", path_str(&shop()), "-o", path_str(&out)]);
    expect_code(&run, 0, "compile -o DIR");
    assert_eq!(run.stdout, "", "nothing goes to stdout with -o");

    let names: BTreeSet<String> =
        std::fs::read_dir(&out).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
    let leftovers: Vec<&String> = names.iter().filter(|n| n.starts_with('.')).collect();
    assert!(leftovers.is_empty(), "temporary files left behind: {leftovers:?}");
    assert!(names.contains("kustomization.yaml"), "{names:?}");

    let kustomization: Value =
        serde_yaml::from_str(&std::fs::read_to_string(out.join("kustomization.yaml")).unwrap()).unwrap();
    assert_eq!(kustomization["kind"], "Kustomization");
    let resources: Vec<String> = kustomization["resources"]
        .as_array()
        .expect("resources is not a list")
        .iter()
        .map(|r| r.as_str().unwrap().to_string())
        .collect();
    let objects: BTreeSet<String> = names.iter().filter(|n| *n != "kustomization.yaml").cloned().collect();
    assert_eq!(resources.iter().cloned().collect::<BTreeSet<_>>(), objects, "kustomization lists every file");
    assert_eq!(resources.len(), objects.len(), "no file is listed twice: {resources:?}");

    // One file per object, each holding exactly that object, in the order of the stdout stream.
    let stream = yaml_documents(&mesh(&["compile", path_str(&shop())]).stdout);
    assert_eq!(resources.len(), stream.len(), "{resources:?}");
    for (file, expected) in resources.iter().zip(&stream) {
        let docs = yaml_documents(&std::fs::read_to_string(out.join(file)).unwrap());
        assert_eq!(docs.len(), 1, "{file} holds {} documents", docs.len());
        assert_eq!(&docs[0], expected, "{file}");
        let kind = expected["kind"].as_str().unwrap().to_ascii_lowercase();
        assert!(file.starts_with(&format!("{kind}-")) && file.ends_with(".yaml"), "file name {file}");
    }
}

#[test]
fn output_dir_in_json_format() {
    let tmp = tempfile::tempdir().unwrap();
    let run = mesh(&["compile", path_str(&shop()), "-o", path_str(tmp.path()), "--format", "json"]);
    expect_code(&run, 0, "compile -o DIR --format json");
    for entry in std::fs::read_dir(tmp.path()).unwrap() {
        let name = entry.unwrap().file_name().to_string_lossy().into_owned();
        assert!(!name.starts_with('.'), "temporary file left behind: {name}");
        if name != "kustomization.yaml" {
            assert!(name.ends_with(".json"), "{name}");
            let v: Value = serde_json::from_str(&std::fs::read_to_string(tmp.path().join(&name)).unwrap()).unwrap();
            assert!(v["kind"].is_string(), "{name}: {v}");
        }
    }
}

#[test]
fn output_dir_that_is_a_file_is_an_io_error() {
    let dir = project(&[("not-a-dir", b"x")]);
    let run = mesh(&["compile", path_str(&shop()), "-o", path_str(&dir.path().join("not-a-dir"))]);
    expect_code(&run, 2, "compile -o FILE");
    assert!(run.stderr.contains("error"), "stderr:\n{}", run.stderr);
}

#[test]
fn mesh_flag_gives_one_function_mesh() {
    let run = mesh(&["compile", path_str(&shop()), "--mesh"]);
    expect_code(&run, 0, "compile --mesh");
    let kinds = kinds(&yaml_documents(&run.stdout));
    assert_eq!(kinds.iter().filter(|k| *k == "FunctionMesh").count(), 1, "{kinds:?}");
    assert!(kinds.iter().all(|k| k == "FunctionMesh" || k == "ConfigMap"), "{kinds:?}");
}

#[test]
fn program_error_exits_1_and_writes_nothing() {
    let dir = project(&[("bad.mesh", bad().as_bytes())]);
    let run = mesh_in(Some(dir.path()), &["compile", "bad.mesh"]);
    expect_code(&run, 1, "compile bad.mesh");
    assert!(run.stderr.contains("error[E0201]"), "stderr:\n{}", run.stderr);
    assert!(run.stderr.contains("bad.mesh"), "the diagnostic names the file:\n{}", run.stderr);
    assert!(run.stderr.contains("1 error emitted"), "a summary line ends the report:\n{}", run.stderr);
    assert_eq!(run.stdout, "", "no output for a program with errors");

    let run = mesh_in(Some(dir.path()), &["compile", "bad.mesh", "-o", "out"]);
    expect_code(&run, 1, "compile bad.mesh -o out");
    assert!(run.stderr.contains("error[E0201]"), "stderr:\n{}", run.stderr);
    let out = dir.path().join("out");
    let written: Vec<_> =
        std::fs::read_dir(&out).map(|d| d.map(|e| e.unwrap().file_name()).collect()).unwrap_or_default();
    assert!(written.is_empty(), "files written for a program with errors: {written:?}");
}

#[test]
fn missing_file_exits_2() {
    let dir = tempfile::tempdir().unwrap();
    let run = mesh_in(Some(dir.path()), &["compile", "nope.mesh"]);
    expect_code(&run, 2, "compile nope.mesh");
    assert!(run.stderr.contains("nope.mesh"), "stderr:\n{}", run.stderr);
    assert_eq!(run.stdout, "");
}

#[test]
fn invalid_utf8_exits_2() {
    let dir = project(&[("latin1.mesh", b"// caf\xe9\ntopic t : string\n")]);
    let run = mesh_in(Some(dir.path()), &["compile", "latin1.mesh"]);
    expect_code(&run, 2, "compile latin1.mesh");
    assert!(run.stderr.contains("UTF-8"), "stderr:\n{}", run.stderr);
    let run = mesh_in(Some(dir.path()), &["check", "latin1.mesh"]);
    expect_code(&run, 2, "check latin1.mesh");
}

#[test]
fn directory_given_to_compile_exits_2() {
    let dir = project(&[("sub/good.mesh", GOOD.as_bytes())]);
    let run = mesh_in(Some(dir.path()), &["compile", "sub"]);
    expect_code(&run, 2, "compile DIR");
    assert!(run.stderr.contains("directory"), "stderr:\n{}", run.stderr);
    assert_eq!(run.stdout, "");
}

#[test]
fn usage_errors_exit_2() {
    let shop = shop();
    for args in [
        &["compile", path_str(&shop), "--bogus"][..],
        &["compile"],
        &["compile", path_str(&shop), "--format", "toml"],
        &["check", "--nope", path_str(&shop)],
        &["frobnicate"],
        &[],
    ] {
        let run = mesh(args);
        expect_code(&run, 2, &format!("mesh {args:?}"));
        assert!(!run.stderr.is_empty(), "mesh {args:?}: no usage message");
    }
}

#[test]
fn explain_known_and_unknown_codes() {
    let run = mesh(&["explain", "E0201"]);
    expect_code(&run, 0, "explain E0201");
    assert!(run.stdout.contains("E0201"), "stdout:\n{}", run.stdout);
    assert!(run.stdout.lines().count() >= 3, "the explanation is more than a title:\n{}", run.stdout);

    let run = mesh(&["explain", "E9999"]);
    expect_code(&run, 2, "explain E9999");
    assert!(run.stderr.contains("E9999"), "stderr:\n{}", run.stderr);
    assert_eq!(run.stdout, "");
}

#[test]
fn check_exit_codes() {
    let dir = project(&[("good.mesh", GOOD.as_bytes()), ("bad.mesh", bad().as_bytes())]);
    expect_code(&mesh_in(Some(dir.path()), &["check", "good.mesh"]), 0, "check good.mesh");
    expect_code(&mesh(&["check", path_str(&shop())]), 0, "check examples/shop.mesh");
    let run = mesh_in(Some(dir.path()), &["check", "bad.mesh"]);
    expect_code(&run, 1, "check bad.mesh");
    assert!(run.stderr.contains("error[E0201]"), "stderr:\n{}", run.stderr);
    assert_eq!(run.stdout, "", "check writes nothing to stdout in human format");
    expect_code(&mesh_in(Some(dir.path()), &["check", "good.mesh", "bad.mesh"]), 1, "check good.mesh bad.mesh");
    expect_code(&mesh_in(Some(dir.path()), &["check", "nope.mesh"]), 2, "check nope.mesh");
}

#[test]
fn check_deny_warnings_turns_warnings_into_failure() {
    let unused = format!("{GOOD}\ntopic unused : string\n");
    let dir = project(&[("warn.mesh", unused.as_bytes())]);
    let run = mesh_in(Some(dir.path()), &["check", "warn.mesh"]);
    expect_code(&run, 0, "check warn.mesh");
    assert!(run.stderr.contains("warning["), "stderr:\n{}", run.stderr);
    expect_code(&mesh_in(Some(dir.path()), &["check", "warn.mesh", "--deny-warnings"]), 1, "--deny-warnings");
}

#[test]
fn check_json_has_diagnostics_and_counts() {
    let unused = format!("{}\ntopic unused : string\n", bad());
    let dir = project(&[("bad.mesh", unused.as_bytes())]);
    let run = mesh_in(Some(dir.path()), &["check", "bad.mesh", "--format", "json"]);
    expect_code(&run, 1, "check --format json");
    let doc: Value = serde_json::from_str(&run.stdout).expect("stdout is not JSON");
    let diags = doc["diagnostics"].as_array().expect("diagnostics is not an array");
    let count = |severity: &str| diags.iter().filter(|d| d["severity"] == severity).count() as u64;
    assert_eq!(doc["errors"].as_u64(), Some(count("error")), "{doc:#}");
    assert_eq!(doc["warnings"].as_u64(), Some(count("warning")), "{doc:#}");
    assert!(count("error") >= 1 && count("warning") >= 1, "{doc:#}");
    let e0201 = diags.iter().find(|d| d["code"] == "E0201").expect("no E0201");
    assert_eq!(e0201["file"], "bad.mesh");
    assert!(e0201["line"].as_u64().is_some_and(|l| l > 1), "{e0201:#}");
    assert!(e0201["column"].as_u64().is_some(), "{e0201:#}");
    assert!(e0201["message"].as_str().is_some_and(|m| !m.is_empty()), "{e0201:#}");

    let dir = project(&[("good.mesh", GOOD.as_bytes())]);
    let run = mesh_in(Some(dir.path()), &["check", "good.mesh", "--format", "json"]);
    expect_code(&run, 0, "check good.mesh --format json");
    let doc: Value = serde_json::from_str(&run.stdout).expect("stdout is not JSON");
    assert_eq!(doc["errors"], 0);
    assert_eq!(doc["warnings"], 0);
    assert_eq!(doc["diagnostics"], serde_json::json!([]));
}

#[test]
fn check_dir_finds_mesh_files_recursively() {
    let dir = project(&[
        ("ci/good.mesh", GOOD.as_bytes()),
        ("ci/a/b/c/deep.mesh", bad().as_bytes()),
        ("ci/a/notes.txt", b"not a mesh file {{{"),
        ("ci/a/b/broken.yaml", b"{{{"),
    ]);
    let run = mesh_in(Some(dir.path()), &["check", "ci", "--format", "json"]);
    expect_code(&run, 1, "check ci (with a bad file three levels down)");
    let doc: Value = serde_json::from_str(&run.stdout).expect("stdout is not JSON");
    let files: BTreeSet<String> =
        doc["diagnostics"].as_array().unwrap().iter().map(|d| d["file"].as_str().unwrap().replace('\\', "/")).collect();
    assert!(files.iter().any(|f| f.ends_with("a/b/c/deep.mesh")), "{files:?}");
    assert!(files.iter().all(|f| f.ends_with(".mesh")), "only .mesh files are checked: {files:?}");

    std::fs::remove_file(dir.path().join("ci/a/b/c/deep.mesh")).unwrap();
    expect_code(&mesh_in(Some(dir.path()), &["check", "ci"]), 0, "check ci (all good)");

    let empty = project(&[("docs/readme.txt", b"hello")]);
    expect_code(&mesh_in(Some(empty.path()), &["check", "docs"]), 2, "check DIR without .mesh files");
}

#[test]
fn help_shows_examples() {
    let every: [&[&str]; 14] = [
        &["--help"],
        &["compile", "--help"],
        &["check", "--help"],
        &["import", "--help"],
        &["fmt", "--help"],
        &["graph", "--help"],
        &["completions", "--help"],
        &["explain", "--help"],
        &["apply", "--help"],
        &["diff", "--help"],
        &["controller", "--help"],
        &["controller", "manifests", "--help"],
        &["controller", "run", "--help"],
        &["help", "apply"],
    ];
    for args in every {
        let run = mesh(args);
        expect_code(&run, 0, &format!("mesh {args:?}"));
        assert!(
            run.stdout.contains("Examples:") || run.stdout.contains("Example:"),
            "mesh {args:?} shows no example:\n{}",
            run.stdout
        );
        assert!(run.stdout.contains("mesh "), "the examples are command lines:\n{}", run.stdout);
    }
    for args in [&["compile", "--help"][..], &["check", "--help"]] {
        assert!(mesh(args).stdout.contains("Examples:"), "mesh {args:?}");
    }
}

/// Two objects of one kind with one name in a bundle: `kubectl apply` keeps the last one, and `-o DIR` writes
/// both to the same file (and lists it twice in kustomization.yaml). mesh must refuse such a program.
#[test]
fn object_names_are_unique_within_a_bundle() {
    let other_cluster = GOOD
        .replace(
            "defaults {",
            "pulsar other {\n  web_service_url    = \"http://other:8080\"\n  broker_service_url = \
             \"pulsar://other:6650\"\n  config_map = \"local\"\n}\n\ndefaults {",
        )
        .replace("audit@1.0\"", "audit@1.0\"\n  cluster = other");
    let named_like_topics = GOOD.replace("pulsar local", "pulsar words_topics").replace("= local", "= words_topics");
    let config_map_like_topics =
        GOOD.replace("pulsar.pulsar.svc:6650\"", "pulsar.pulsar.svc:6650\"\n  config_map = \"words-topics\"");
    for (what, program) in [
        ("two clusters sharing `config_map`", other_cluster),
        ("a cluster named `words_topics`", named_like_topics),
        ("a cluster with `config_map = \"words-topics\"`", config_map_like_topics),
    ] {
        let dir = project(&[("p.mesh", program.as_bytes())]);
        let run = mesh_in(Some(dir.path()), &["compile", "p.mesh"]);
        if run.code == 1 {
            continue; // refused with a diagnostic: fine
        }
        expect_code(&run, 0, what);
        let docs = yaml_documents(&run.stdout);
        let ids: Vec<(String, String)> = docs
            .iter()
            .map(|d| (d["kind"].as_str().unwrap().to_string(), d["metadata"]["name"].as_str().unwrap().to_string()))
            .collect();
        let unique: BTreeSet<&(String, String)> = ids.iter().collect();
        assert_eq!(unique.len(), ids.len(), "{what}: objects with the same kind and name: {ids:?}");
    }
}

/// A symbolic link back up the tree must not make `check DIR` visit the same files again and again.
#[cfg(unix)]
#[test]
fn check_dir_visits_each_file_once_despite_symlink_cycles() {
    let dir = project(&[("ci/a/bad.mesh", bad().as_bytes())]);
    std::os::unix::fs::symlink("..", dir.path().join("ci/a/up")).unwrap();
    let run = mesh_in(Some(dir.path()), &["check", "ci", "--format", "json"]);
    expect_code(&run, 1, "check ci (with a symlink cycle)");
    let doc: Value = serde_json::from_str(&run.stdout).expect("stdout is not JSON");
    assert_eq!(doc["errors"], 1, "{doc:#}");
}

#[test]
fn workloads_target_prints_statefulsets() {
    let run = mesh(&["compile", "--target", "workloads", shop().to_str().unwrap()]);
    expect_code(&run, 0, "compile --target workloads");
    for kind in ["kind: StatefulSet", "kind: Service", "kind: HorizontalPodAutoscaler", "kind: ConfigMap"] {
        assert!(run.stdout.contains(kind), "no {kind} in:\n{}", run.stdout);
    }
    assert!(!run.stdout.contains("apiVersion: compute.functionmesh.io"), "no custom resources in the workloads target");
    let both = mesh(&["compile", "--target", "workloads", "--mesh", shop().to_str().unwrap()]);
    expect_code(&both, 2, "--mesh with --target workloads");
}

#[test]
fn import_prints_a_program_that_compiles() {
    let dir = tempfile::tempdir().unwrap();
    let yaml = dir.path().join("fn.yaml");
    std::fs::write(
        &yaml,
        "apiVersion: compute.functionmesh.io/v1alpha1\nkind: Function\nmetadata:\n  name: upper\nspec:\n  className: com.example.Upper\n  \
         input:\n    topics: [persistent://public/default/in]\n    typeClassName: java.lang.String\n  output:\n    topic: persistent://public/default/out\n    \
         typeClassName: java.lang.String\n  pulsar:\n    pulsarConfig: cfg\n  java:\n    jar: /pulsar/app.jar\n  resources:\n    requests: {cpu: 100m, memory: 1Gi}\n    \
         limits: {cpu: 200m, memory: 1Gi}\n---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cfg\ndata:\n  webServiceURL: http://b:8080\n  \
         brokerServiceURL: pulsar://b:6650\n",
    )
    .unwrap();
    let out = dir.path().join("imported.mesh");
    let run = mesh(&["import", yaml.to_str().unwrap(), "-o", out.to_str().unwrap()]);
    expect_code(&run, 0, "import");
    let compiled = mesh(&["compile", out.to_str().unwrap()]);
    expect_code(&compiled, 0, "compile of the imported program");
    assert!(compiled.stdout.contains("name: upper"), "{}", compiled.stdout);
    let bad = dir.path().join("bad.yaml");
    std::fs::write(&bad, "kind: Function\nspec: [unclosed\n").unwrap();
    expect_code(&mesh(&["import", bad.to_str().unwrap()]), 1, "import of broken YAML");
    expect_code(&mesh(&["import", dir.path().join("missing.yaml").to_str().unwrap()]), 2, "import of a missing file");
}

/// A clean program plus one topic nobody reads: a single W0301 warning.
fn warning_program(dir: &Path) -> PathBuf {
    let path = dir.join("warn.mesh");
    std::fs::write(
        &path,
        "pulsar p { web_service_url = \"http://b:8080\", broker_service_url = \"pulsar://b:6650\" }\n\
         topic input : string external\ntopic spare : string\n\
         function f(string) -> string = java(\"com.F\") { jar = \"f.jar\" }\npipeline x { input -> f -> spare }\n",
    )
    .unwrap();
    path
}

#[test]
fn check_formats_for_ci() {
    let dir = tempfile::tempdir().unwrap();
    let file = warning_program(dir.path());
    let f = file.to_str().unwrap();
    let github = mesh(&["check", f, "--format", "github"]);
    expect_code(&github, 0, "warnings only");
    assert!(github.stdout.starts_with("::warning file="), "{}", github.stdout);
    assert!(github.stdout.contains(",line=3,col=7,endLine=3,endColumn=12,title=W0301::"), "{}", github.stdout);
    let sarif = mesh(&["check", f, "--format", "sarif"]);
    let doc: serde_json::Value = serde_json::from_str(&sarif.stdout).expect("SARIF is JSON");
    assert_eq!(doc["version"], "2.1.0");
    let run = &doc["runs"][0];
    let rules = run["tool"]["driver"]["rules"].as_array().unwrap();
    assert_eq!(rules.len(), mesh::codes::CODES.len(), "one rule per code");
    let result = &run["results"][0];
    assert_eq!(result["ruleId"], "W0301");
    assert_eq!(result["level"], "warning");
    assert_eq!(rules[result["ruleIndex"].as_u64().unwrap() as usize]["id"], "W0301");
    assert_eq!(result["locations"][0]["physicalLocation"]["region"]["startLine"], 3);
    expect_code(&mesh(&["check", f, "--deny-warnings"]), 1, "--deny-warnings");
}

#[test]
fn warnings_can_be_allowed_in_place_or_raised_by_the_project() {
    let dir = tempfile::tempdir().unwrap();
    let file = warning_program(dir.path());
    let f = file.to_str().unwrap();
    std::fs::write(dir.path().join("mesh.toml"), "[rules]\nW0301 = \"error\"\n").unwrap();
    let raised = mesh(&["check", f]);
    expect_code(&raised, 1, "W0301 raised to an error by mesh.toml");
    assert!(raised.stderr.contains("error[W0301]"), "{}", raised.stderr);
    expect_code(&mesh(&["compile", f]), 1, "compile honours mesh.toml too");
    let text = std::fs::read_to_string(&file).unwrap().replace("topic spare", "// mesh:allow(W0301)\ntopic spare");
    std::fs::write(&file, text).unwrap();
    let allowed = mesh(&["check", f]);
    expect_code(&allowed, 0, "allowed in place");
    assert!(allowed.stderr.is_empty(), "{}", allowed.stderr);
    std::fs::write(dir.path().join("mesh.toml"), "[rules]\nE0201 = \"allow\"\n").unwrap();
    expect_code(&mesh(&["check", f]), 2, "an error cannot be allowed");
}

#[test]
fn fmt_check_and_graph() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("ugly.mesh");
    std::fs::write(&file, "topic   t : string external\n").unwrap();
    let f = file.to_str().unwrap();
    let check = mesh(&["fmt", "--check", f]);
    expect_code(&check, 1, "unformatted");
    assert!(check.stdout.contains("+topic t : string external"), "{}", check.stdout);
    assert_eq!(std::fs::read_to_string(&file).unwrap(), "topic   t : string external\n", "--check writes nothing");
    expect_code(&mesh(&["fmt", f]), 0, "fmt");
    assert_eq!(std::fs::read_to_string(&file).unwrap(), "topic t : string external\n");
    expect_code(&mesh(&["fmt", "--check", f]), 0, "formatted now");
    for (format, start) in [("dot", "digraph"), ("mermaid", "flowchart LR"), ("svg", "<")] {
        let run = mesh(&["graph", shop().to_str().unwrap(), "--format", format]);
        expect_code(&run, 0, format);
        assert!(run.stdout.trim_start().starts_with(start), "{format}: {}", &run.stdout[..run.stdout.len().min(80)]);
    }
    let completions = mesh(&["completions", "bash"]);
    expect_code(&completions, 0, "completions");
    assert!(completions.stdout.contains("mesh"));
}

#[test]
fn check_and_fmt_expand_globs_the_shell_left_alone() {
    let dir = tempfile::tempdir().unwrap();
    let nested = dir.path().join("team/orders");
    std::fs::create_dir_all(&nested).unwrap();
    std::fs::write(dir.path().join("a.mesh"), "topic a : string external\n").unwrap();
    std::fs::write(nested.join("b.mesh"), "topic b : strin external\n").unwrap();
    std::fs::write(nested.join("notes.txt"), "not a pipeline").unwrap();

    // `*` stays in its directory: only a.mesh, which is fine.
    expect_code(&mesh_in(Some(dir.path()), &["check", "*.mesh"]), 0, "check *.mesh");
    // `**` reaches the broken file below.
    let all = mesh_in(Some(dir.path()), &["check", "**/*.mesh", "--format", "json"]);
    expect_code(&all, 1, "check **/*.mesh");
    assert!(all.stdout.contains("team/orders/b.mesh"), "{}", all.stdout);
    let none = mesh_in(Some(dir.path()), &["check", "missing/*.mesh"]);
    expect_code(&none, 2, "a pattern that matches nothing");
    assert!(none.stderr.contains("no .mesh files match `missing/*.mesh`"), "{}", none.stderr);
    let bad = mesh_in(Some(dir.path()), &["check", "[.mesh"]);
    expect_code(&bad, 2, "an invalid pattern");
    assert!(bad.stderr.contains("is not a valid pattern"), "{}", bad.stderr);
    expect_code(&mesh_in(Some(dir.path()), &["fmt", "--check", "*.mesh"]), 0, "fmt --check *.mesh");
}

#[test]
fn controller_needs_a_readable_bundle() {
    let none = mesh(&["controller"]);
    expect_code(&none, 2, "mesh controller without --bundle");
    assert!(none.stderr.contains("--bundle"), "{}", none.stderr);
    let missing = mesh(&["controller", "--bundle", "no/such/bundle.yaml"]);
    expect_code(&missing, 2, "a bundle that cannot be read");
    assert!(missing.stderr.contains("no/such/bundle.yaml"), "{}", missing.stderr);
    expect_code(&mesh(&["controller", "run", "--bundle", "no/such/bundle.yaml"]), 2, "the same through `run`");
}
