//! `mesh::graph`: the program drawn as DOT, Mermaid and SVG.

use mesh::diag::Diagnostic;
use mesh::graph::{render, GraphFormat};
use mesh::ir::Program;
use std::path::PathBuf;

const PULSAR: &str = "pulsar p { web_service_url = \"http://b:8080\", broker_service_url = \"pulsar://b:6650\" }\n";

/// input -> f -> output -> s: two topics, a function and a sink.
const MINIMAL: &str = "topic input : string external
topic output : string
function f(string) -> string = java(\"com.F\") { jar = \"f.jar\" }
sink s = connector(\"com.S\") { jar = \"s.nar\" }
pipeline x { input -> f -> output -> s }
";

fn checked(text: &str) -> (Program, Vec<Diagnostic>) {
    let loaded = mesh::load::load_text("test.mesh", &format!("{PULSAR}{text}"));
    let (program, diags) = mesh::check::check(&loaded, &mesh::check::Options::default());
    match program {
        Some(p) => (p, diags),
        None => panic!("the program does not check: {diags:#?}"),
    }
}

fn all_formats(p: &Program, diags: &[Diagnostic]) -> [String; 3] {
    [GraphFormat::Dot, GraphFormat::Mermaid, GraphFormat::Svg].map(|f| render(p, diags, f))
}

/// Parses the SVG as XML and returns its text, one entry per text node.
fn svg_texts(svg: &str) -> Vec<String> {
    let doc = roxmltree::Document::parse(svg).unwrap_or_else(|e| panic!("not well-formed XML: {e}\n{svg}"));
    assert_eq!(doc.root_element().tag_name().name(), "svg");
    doc.descendants().filter(|n| n.is_text()).filter_map(|n| n.text()).map(|t| t.trim().to_string()).collect()
}

/// The label line of the node `id` in DOT output.
fn dot_node<'a>(dot: &'a str, id: &str) -> &'a str {
    let prefix = format!("  {id} [");
    dot.lines().find(|l| l.starts_with(&prefix)).unwrap_or_else(|| panic!("no node {id} in\n{dot}"))
}

#[test]
fn dot_has_every_node_and_edge() {
    let (p, diags) = checked(MINIMAL);
    let dot = render(&p, &diags, GraphFormat::Dot);
    assert!(dot.starts_with("digraph mesh {\n  rankdir=LR;"), "{dot}");
    assert!(dot.trim_end().ends_with('}'));
    assert!(dot_node(&dot, "c0").contains("label=\"f\\njava · F\""), "{dot}");
    assert!(dot_node(&dot, "c1").contains("label=\"s\\nS\""), "{dot}");
    assert!(dot_node(&dot, "t0").contains("label=\"input : string\""), "{dot}");
    assert!(dot_node(&dot, "t0").contains("dashed"), "external topics are dashed: {dot}");
    assert!(dot_node(&dot, "t1").contains("label=\"output : string\""), "{dot}");
    assert!(!dot_node(&dot, "t1").contains("dashed"));
    for edge in ["t0 -> c0;", "c0 -> t1;", "t1 -> c1;"] {
        assert!(dot.contains(&format!("  {edge}\n")), "missing {edge}:\n{dot}");
    }
    assert_eq!(dot.matches(" -> ").count(), 3, "{dot}");
    // Distinct shapes per kind.
    assert!(dot_node(&dot, "c0").contains("shape=box"));
    assert!(dot_node(&dot, "c1").contains("shape=box3d"));
}

#[test]
fn mermaid_has_shapes_edges_and_classes() {
    let (p, diags) = checked(MINIMAL);
    let mermaid = render(&p, &diags, GraphFormat::Mermaid);
    assert!(mermaid.starts_with("flowchart LR\n"), "{mermaid}");
    for line in [
        "  c0[\"f<br/>java · F\"]",
        "  c1[\\\"s<br/>S\"\\]",
        "  t0([\"input : string\"])",
        "  t0 --> c0",
        "  c0 --> t1",
        "  t1 --> c1",
        "  class t0 external",
        "  class t0,t1 topic",
    ] {
        assert!(mermaid.lines().any(|l| l == line), "missing `{line}`:\n{mermaid}");
    }
}

#[test]
fn svg_is_well_formed_and_names_every_node() {
    let (p, diags) = checked(MINIMAL);
    let svg = render(&p, &diags, GraphFormat::Svg);
    assert!(svg.starts_with("<?xml") || svg.starts_with("<svg"), "{svg}");
    let texts = svg_texts(&svg);
    for name in ["f", "s", "input : string", "output : string"] {
        assert!(texts.iter().any(|t| t == name), "no text `{name}` in {texts:?}");
    }
    // layout-rs laid it out: the grid fallback has no `endarrow` marker.
    assert!(svg.contains("endarrow"), "{svg}");
}

#[test]
fn a_warning_is_shown_on_its_topic() {
    // `output` is written but read by nobody: W0301.
    let (p, diags) = checked(
        "topic input : string external
topic output : string
function f(string) -> string = java(\"com.F\") { jar = \"f.jar\" }
pipeline x { input -> f -> output }
",
    );
    assert!(diags.iter().any(|d| d.code == "W0301"), "{diags:#?}");
    let [dot, mermaid, svg] = all_formats(&p, &diags);
    let output = dot_node(&dot, "t1");
    assert!(output.contains("⚠ W0301"), "{output}");
    assert!(output.contains("color=\"#e8590c\""), "{output}");
    assert!(output.contains("tooltip=\"W0301: topic `output` is written but never read"), "{output}");
    assert!(!dot_node(&dot, "t0").contains("W0301"));
    assert!(!dot_node(&dot, "c0").contains("W0301"));
    assert!(mermaid.contains("t1([\"output : string<br/>⚠ W0301\"])"), "{mermaid}");
    assert!(mermaid.lines().any(|l| l == "  class t1 warning"), "{mermaid}");
    assert!(svg_texts(&svg).iter().any(|t| t == "⚠ W0301"), "{svg}");
}

#[test]
fn a_cycle_is_drawn_with_its_warning() {
    let (p, diags) = checked(
        "topic a : string
topic b : string
function f(string) -> string = java(\"com.F\") { jar = \"f.jar\" }
function g(string) -> string = java(\"com.G\") { jar = \"g.jar\" }
pipeline x { f -> a -> g -> b -> f }
",
    );
    assert!(diags.iter().any(|d| d.code == "W0304"), "{diags:#?}");
    let [dot, mermaid, svg] = all_formats(&p, &diags);
    assert!(dot.contains("W0304"), "{dot}");
    assert!(mermaid.contains("W0304"), "{mermaid}");
    let texts = svg_texts(&svg);
    assert!(texts.iter().any(|t| t.contains("W0304")), "{texts:?}");
    assert!(svg.contains("endarrow"), "the cycle was laid out by layout-rs");
}

#[test]
fn labels_are_escaped() {
    // A key_value schema displays with `<`, `>` and `,`; a pattern topic's
    // regex has a backslash and a quote-free dot star.
    let (p, diags) = checked(
        "topic kv : key_value<string, int32> compat backward external
topic all : string external { pattern = \"persistent://public/default/in-\\\\d+\" }
function f(key_value<string, int32>) = java(\"com.F\") { jar = \"f.jar\" }
function g(string) = java(\"com.G\") { jar = \"g.jar\" }
pipeline x { kv -> f, all -> g }
",
    );
    let [dot, mermaid, svg] = all_formats(&p, &diags);
    assert!(dot.contains("label=\"kv : key_value<string, int32>\\ncompat backward\""), "{dot}");
    assert!(dot.contains("pattern persistent://public/default/in-\\\\d+"), "{dot}");
    assert!(mermaid.contains("kv : key_value#lt;string, int32#gt;<br/>compat backward"), "{mermaid}");
    let texts = svg_texts(&svg);
    assert!(texts.iter().any(|t| t == "kv : key_value<string, int32>"), "{texts:?}");
    assert!(texts.iter().any(|t| t == "pattern persistent://public/default/in-\\d+"), "{texts:?}");
}

#[test]
fn an_empty_program_renders() {
    let p = Program::default();
    let [dot, mermaid, svg] = all_formats(&p, &[]);
    assert!(dot.starts_with("digraph mesh {") && dot.trim_end().ends_with('}'), "{dot}");
    assert!(!dot.contains("->"));
    assert!(mermaid.starts_with("flowchart LR\n"), "{mermaid}");
    svg_texts(&svg);
}

#[test]
fn a_single_topic_renders() {
    let (p, diags) = checked("topic lonely : string\n");
    let [dot, mermaid, svg] = all_formats(&p, &diags);
    assert!(dot_node(&dot, "t0").contains("lonely : string"), "{dot}");
    assert!(mermaid.contains("t0([\"lonely : string"), "{mermaid}");
    assert!(svg_texts(&svg).iter().any(|t| t == "lonely : string"), "{svg}");
}

/// A large program: 100 functions, 101 topics, with fan-out and a back edge.
#[test]
fn two_hundred_nodes_render() {
    let mut text = String::from("topic t0 : string external\n");
    let mut wiring = Vec::new();
    for i in 0..100 {
        text.push_str(&format!("topic t{} : string\n", i + 1));
        text.push_str(&format!("function f{i}(string) -> string = java(\"com.F{i}\") {{ jar = \"f.jar\" }}\n"));
        // Every function reads its predecessor's topic; every tenth also reads t0.
        wiring.push(format!("t{i} -> f{i} -> t{}", i + 1));
        if i % 10 == 9 {
            wiring.push(format!("t0 -> f{i}"));
        }
    }
    text.push_str("sink s = connector(\"com.S\") { jar = \"s.nar\" }\n");
    wiring.push("t100 -> s".into());
    text.push_str(&format!("pipeline big {{ {} }}\n", wiring.join(", ")));
    let (p, diags) = checked(&text);
    assert_eq!(p.components.len() + p.topics.len(), 202);
    let [dot, mermaid, svg] = all_formats(&p, &diags);
    assert!(dot_node(&dot, "c100").contains("label=\"s\\nS\""));
    assert!(mermaid.contains("  t100 --> c100\n"));
    assert!(svg.contains("endarrow"), "laid out by layout-rs, not the fallback grid");
    let texts = svg_texts(&svg);
    for i in [0, 57, 99] {
        assert!(texts.iter().any(|t| t == &format!("f{i}")), "f{i} missing");
    }
}

#[test]
fn output_is_deterministic() {
    let (p, diags) = checked(MINIMAL);
    assert_eq!(all_formats(&p, &diags), all_formats(&p, &diags));
    let shop = example_program(&PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("examples/shop.mesh"));
    assert_eq!(all_formats(&shop.0, &shop.1), all_formats(&shop.0, &shop.1));
}

fn example_program(path: &PathBuf) -> (Program, Vec<Diagnostic>) {
    let loaded = mesh::load::load(std::slice::from_ref(path)).unwrap_or_else(|e| panic!("{e}"));
    let (program, diags) = mesh::check::check(&loaded, &mesh::check::Options::default());
    match program {
        Some(p) => (p, diags),
        None => panic!("{} does not check: {diags:#?}", path.display()),
    }
}

#[test]
fn every_example_renders() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("examples");
    let mut paths: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("examples/")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "mesh"))
        .collect();
    paths.sort();
    assert!(!paths.is_empty());
    for path in &paths {
        let (p, diags) = example_program(path);
        let [dot, mermaid, svg] = all_formats(&p, &diags);
        for c in &p.components {
            assert!(dot.contains(&format!("label=\"{}\\n", c.name)), "{}: {} missing", path.display(), c.name);
        }
        assert!(mermaid.starts_with("flowchart LR\n"));
        let texts = svg_texts(&svg);
        for c in &p.components {
            assert!(texts.contains(&c.name), "{}: {} not in the SVG", path.display(), c.name);
        }
        assert!(svg.contains("endarrow"), "{}: laid out by layout-rs, not the fallback grid", path.display());
    }
}

/// Shop's dead letter topic hangs off the function that fills it.
#[test]
fn side_topics_get_labelled_edges() {
    let (p, diags) = example_program(&PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("examples/shop.mesh"));
    let [dot, mermaid, _] = all_formats(&p, &diags);
    let enrich = p.components.iter().position(|c| c.name == "enrich").expect("enrich");
    let rejected = p.topics.iter().position(|t| t.name == "rejected").expect("rejected");
    assert!(dot.contains(&format!("  c{enrich} -> t{rejected} [style=dashed, label=\"dead letter\"];")), "{dot}");
    assert!(mermaid.contains(&format!("  c{enrich} -. dead letter .-> t{rejected}\n")), "{mermaid}");
}

/// docs/shop.svg, the README's picture, is examples/shop.mesh as `mesh graph`
/// draws it. `MESH_BLESS=1 cargo test --test graph` redraws it.
#[test]
fn readme_picture_is_current() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let (p, diags) = example_program(&root.join("examples/shop.mesh"));
    let svg = render(&p, &diags, GraphFormat::Svg);
    let path = root.join("docs/shop.svg");
    if std::env::var_os("MESH_BLESS").is_some_and(|v| !v.is_empty() && v != "0") {
        std::fs::write(&path, &svg).expect("write docs/shop.svg");
        return;
    }
    let current = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(current == svg, "docs/shop.svg is out of date; to redraw it: MESH_BLESS=1 cargo test --test graph");
}
