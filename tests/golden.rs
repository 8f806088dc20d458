//! Golden tests: every top-level `examples/*.mesh` file (an entry point; subdirectories hold the files those
//! entry points `use`) is compiled in both modes and compared byte for byte with `golden/<stem>.yaml` (one
//! object per component) and `golden/<stem>.mesh.yaml` (`--mesh`, one FunctionMesh).
//!
//! `MESH_BLESS=1 cargo test --test golden` rewrites the golden files from the current compiler instead of
//! comparing, and removes golden files whose example no longer exists.

mod support;

use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use mesh::compile::{compile, Options};
use mesh::emit::Object;
use serde_json::Value;
use support::crd::{CrdValidator, API_VERSION};

const BLESS_HINT: &str = "MESH_BLESS=1 cargo test --test golden";

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn golden_dir() -> PathBuf {
    root().join("golden")
}

fn blessing() -> bool {
    std::env::var_os("MESH_BLESS").is_some_and(|v| !v.is_empty() && v != "0")
}

/// The entry points: `examples/*.mesh`, not descending into subdirectories, sorted by name.
fn examples() -> Vec<PathBuf> {
    let dir = root().join("examples");
    let mut out: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", dir.display()))
        .map(|entry| entry.unwrap().path())
        .filter(|p| p.is_file() && p.extension().is_some_and(|e| e == "mesh"))
        .collect();
    out.sort();
    assert!(!out.is_empty(), "no examples/*.mesh files found");
    out
}

/// The path relative to the crate root, for messages.
fn shown(path: &Path) -> String {
    path.strip_prefix(root()).unwrap_or(path).display().to_string()
}

fn stem(path: &Path) -> String {
    path.file_stem().unwrap().to_string_lossy().into_owned()
}

/// The two modes: the golden file suffix and whether `--mesh` is on.
const MODES: [(&str, bool); 2] = [("yaml", false), ("mesh.yaml", true)];

/// Compiles one example; `Err` holds the rendered diagnostics when it has errors.
fn compile_example(path: &Path, mesh: bool) -> Result<Vec<Object>, String> {
    let loaded = mesh::load::load(&[path.to_path_buf()]).map_err(|e| e.to_string())?;
    let out = compile(&loaded, &Options { mesh, ..Options::default() });
    let has_errors = out.diags.iter().any(|d| d.is_error());
    match out.objects {
        Some(objects) if !has_errors => Ok(objects),
        _ => Err(format!(
            "{} does not compile{}:\n{}",
            shown(path),
            if mesh { " with --mesh" } else { "" },
            mesh::diag::render_human(&loaded.sources, &out.diags, false)
        )),
    }
}

/// A short unified-style diff: the first hunk where the texts differ, with a little context.
fn short_diff(expected: &str, actual: &str) -> String {
    const CONTEXT: usize = 3;
    const MAX_LINES: usize = 15;
    let e: Vec<&str> = expected.lines().collect();
    let a: Vec<&str> = actual.lines().collect();
    let prefix = e.iter().zip(&a).take_while(|(x, y)| x == y).count();
    let suffix = e[prefix..].iter().rev().zip(a[prefix..].iter().rev()).take_while(|(x, y)| x == y).count();
    let (e_mid, a_mid) = (&e[prefix..e.len() - suffix], &a[prefix..a.len() - suffix]);
    let start = prefix.saturating_sub(CONTEXT);
    let mut out = format!("@@ first difference at line {} @@\n", prefix + 1);
    for line in &e[start..prefix] {
        let _ = writeln!(out, "  {line}");
    }
    for (sign, lines) in [('-', e_mid), ('+', a_mid)] {
        for line in lines.iter().take(MAX_LINES) {
            let _ = writeln!(out, "{sign} {line}");
        }
        if lines.len() > MAX_LINES {
            let _ = writeln!(out, "{sign} ... {} more lines", lines.len() - MAX_LINES);
        }
    }
    for line in e[e.len() - suffix..].iter().take(CONTEXT) {
        let _ = writeln!(out, "  {line}");
    }
    if e_mid.is_empty() && a_mid.is_empty() {
        // Same lines: the difference is in line endings or the final newline.
        let _ = writeln!(out, "(the texts differ only in line endings or a trailing newline)");
    }
    out
}

#[test]
fn examples_match_golden_files() {
    let bless = blessing();
    let dir = golden_dir();
    if bless {
        std::fs::create_dir_all(&dir).unwrap();
    }
    let mut failures = Vec::new();
    let mut expected_files = BTreeSet::new();
    for example in examples() {
        for (suffix, mesh) in MODES {
            let name = format!("{}.{suffix}", stem(&example));
            expected_files.insert(name.clone());
            let golden = dir.join(&name);
            let actual = match compile_example(&example, mesh) {
                Ok(objects) => mesh::render::yaml(&objects),
                Err(e) => {
                    failures.push(e);
                    continue;
                }
            };
            if bless {
                if std::fs::read_to_string(&golden).ok().as_deref() != Some(actual.as_str()) {
                    std::fs::write(&golden, &actual).unwrap();
                    eprintln!("blessed golden/{name}");
                }
                continue;
            }
            match std::fs::read_to_string(&golden) {
                Ok(expected) if expected == actual => {}
                Ok(expected) => failures.push(format!(
                    "golden/{name} differs from the output for {} (- golden, + actual):\n{}",
                    shown(&example),
                    short_diff(&expected, &actual)
                )),
                Err(e) => failures.push(format!("golden/{name} cannot be read ({e}): is it blessed yet?")),
            }
        }
    }
    // Golden files whose example is gone (renamed or deleted) would otherwise linger unchecked.
    if let Ok(entries) = std::fs::read_dir(&dir) {
        for entry in entries {
            let path = entry.unwrap().path();
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            // Only top-level YAML files are ours; subdirectories belong to other golden tests.
            if !path.is_file() || !name.ends_with(".yaml") || expected_files.contains(&name) {
                continue;
            }
            if bless {
                std::fs::remove_file(&path).unwrap();
                eprintln!("removed stale golden/{name}");
            } else {
                failures.push(format!("golden/{name} has no examples/*.mesh entry point"));
            }
        }
    }
    assert!(failures.is_empty(), "{}\n\nto accept the new output: {BLESS_HINT}", failures.join("\n\n"));
}

#[test]
fn examples_compile_without_errors() {
    let failures: Vec<String> = examples()
        .iter()
        .flat_map(|example| MODES.iter().map(move |&(_, mesh)| compile_example(example, mesh)))
        .filter_map(Result::err)
        .collect();
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

/// The data keys of a cluster ConfigMap, which every component's `pulsarConfig` names.
const CLUSTER_KEYS: [&str; 2] = ["webServiceURL", "brokerServiceURL"];

/// Problems with one ConfigMap of a bundle. `cluster` says whether a component names it as its
/// `pulsarConfig`; the bundle also carries other ConfigMaps (the `<mesh>-topics` manifest).
fn config_map_errors(obj: &Value, cluster: bool) -> Vec<String> {
    let mut errors = Vec::new();
    if obj["apiVersion"] != "v1" {
        errors.push(format!("apiVersion is {}, expected v1", obj["apiVersion"]));
    }
    if obj["metadata"]["name"].as_str().is_none_or(str::is_empty) {
        errors.push("metadata.name is missing or empty".to_string());
    }
    let Some(data) = obj["data"].as_object() else {
        errors.push("data is missing or not a map".to_string());
        return errors;
    };
    for (key, value) in data {
        if !value.is_string() {
            errors.push(format!("data.{key} is not a string (Kubernetes refuses it)"));
        }
    }
    // A cluster ConfigMap has both URLs; a ConfigMap with one of them is meant to be one.
    if cluster || CLUSTER_KEYS.iter().any(|k| data.contains_key(*k)) {
        for key in CLUSTER_KEYS {
            if data.get(key).and_then(Value::as_str).is_none_or(str::is_empty) {
                errors.push(format!("data.{key} is missing or empty"));
            }
        }
    }
    if let Some(topics) = data.get("topics.json").and_then(Value::as_str) {
        // The topics snapshot must be what `--baseline` reads back.
        if mesh::baseline::from_bundle(
            &serde_json::json!({"kind": "ConfigMap", "data": {"topics.json": topics}}).to_string(),
        )
        .is_err()
        {
            errors.push("data.topics.json is not a readable topics snapshot".to_string());
        }
    }
    errors
}

/// The `pulsarConfig` ConfigMap names that the components of a Function Mesh object refer to.
fn pulsar_configs(obj: &Value) -> Vec<String> {
    let specs: Vec<&Value> = if obj["kind"] == "FunctionMesh" {
        ["functions", "sources", "sinks"].iter().filter_map(|k| obj["spec"][k].as_array()).flatten().collect()
    } else {
        vec![&obj["spec"]]
    };
    specs.iter().filter_map(|s| s["pulsar"]["pulsarConfig"].as_str().map(str::to_string)).collect()
}

#[test]
fn examples_validate_against_the_crds() {
    let validator = CrdValidator::load();
    let mut failures = Vec::new();
    for example in examples() {
        for (_, mesh) in MODES {
            let Ok(objects) = compile_example(&example, mesh) else { continue }; // reported by another test
            let what = format!("{}{}", shown(&example), if mesh { " --mesh" } else { "" });
            let config_maps: BTreeSet<String> = objects
                .iter()
                .filter(|o| o.kind == "ConfigMap")
                .filter_map(|o| o.value["metadata"]["name"].as_str().map(str::to_string))
                .collect();
            let clusters: BTreeSet<String> = objects.iter().flat_map(|o| pulsar_configs(&o.value)).collect();
            let mut kinds = Vec::new();
            for o in &objects {
                kinds.push(o.kind.clone());
                let errors = match o.kind.as_str() {
                    "ConfigMap" => config_map_errors(&o.value, clusters.contains(&o.name)),
                    "Function" | "Source" | "Sink" | "FunctionMesh" => {
                        let mut errors = match &validator {
                            Some(v) => v.validate(&o.value),
                            None if o.api_version != API_VERSION => {
                                vec![format!("apiVersion is {}, expected {API_VERSION}", o.api_version)]
                            }
                            None => Vec::new(),
                        };
                        for name in pulsar_configs(&o.value) {
                            if !config_maps.contains(&name) {
                                errors.push(format!("pulsarConfig `{name}` names no ConfigMap of the bundle"));
                            }
                        }
                        errors
                    }
                    other => vec![format!("unexpected kind {other}")],
                };
                if !errors.is_empty() {
                    failures.push(format!("{what}: {} `{}`:\n  {}", o.kind, o.name, errors.join("\n  ")));
                }
            }
            let mut seen = BTreeSet::new();
            for o in &objects {
                if !seen.insert((&o.kind, &o.name)) {
                    failures.push(format!("{what}: two objects are {} `{}`", o.kind, o.name));
                }
            }
            let mesh_objects = kinds.iter().filter(|k| *k == "FunctionMesh").count();
            if mesh && (mesh_objects != 1 || kinds.iter().any(|k| matches!(k.as_str(), "Function" | "Source" | "Sink")))
            {
                failures.push(format!("{what}: expected ConfigMaps and exactly one FunctionMesh, got {kinds:?}"));
            }
            if !mesh && mesh_objects != 0 {
                failures.push(format!("{what}: a FunctionMesh without --mesh: {kinds:?}"));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

#[test]
fn compiling_twice_gives_identical_bytes() {
    for example in examples() {
        for (_, mesh) in MODES {
            let (Ok(first), Ok(second)) = (compile_example(&example, mesh), compile_example(&example, mesh)) else {
                continue; // reported by `examples_compile_without_errors`
            };
            assert_eq!(
                mesh::render::yaml(&first),
                mesh::render::yaml(&second),
                "{} (mesh: {mesh}): YAML differs between two compilations",
                shown(&example)
            );
            assert_eq!(
                mesh::render::json(&first),
                mesh::render::json(&second),
                "{} (mesh: {mesh}): JSON differs between two compilations",
                shown(&example)
            );
        }
    }
}

#[test]
fn short_diff_shows_the_first_difference() {
    let diff = short_diff("a\nb\nc\nd\n", "a\nb\nX\nd\n");
    assert!(diff.contains("- c\n+ X\n"), "{diff}");
    assert!(diff.contains("  b\n"), "{diff}");
    assert!(short_diff("a\n", "a").contains("line endings"));
}
