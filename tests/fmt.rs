//! The formatter: fixed layouts, and three properties checked on every example,
//! every stdlib module and generated programs: formatting is idempotent, keeps
//! the syntax tree (spans aside) and keeps every comment.

use mesh::fmt::format_source;
use mesh::source::FileId;
use mesh::syntax::parse_file;
use proptest::prelude::*;
use std::path::{Path, PathBuf};

fn fmt(src: &str) -> String {
    match format_source(src) {
        Ok(out) => out,
        Err(diags) => panic!("does not parse: {diags:?}\n--- source\n{src}"),
    }
}

/// The syntax tree's Debug text with every span replaced by `Span`.
fn tree(src: &str) -> String {
    let (file, diags) = parse_file(FileId(0), src);
    assert!(diags.is_empty(), "does not parse: {diags:?}\n--- source\n{src}");
    erase_spans(&format!("{:?}", file.decls))
}

fn erase_spans(debug: &str) -> String {
    const HEAD: &str = "Span { file: FileId(";
    let mut out = String::with_capacity(debug.len());
    let mut rest = debug;
    while let Some(i) = rest.find(HEAD) {
        out.push_str(&rest[..i]);
        out.push_str("Span");
        let after = &rest[i..];
        // `Span { file: FileId(0), start: 1, end: 2 }` holds no other `}`.
        let close = after.find('}').expect("a span's Debug text ends with `}`");
        rest = &after[close + 1..];
    }
    out.push_str(rest);
    out
}

/// The texts of all comments, sorted (a multiset), found independently of the
/// formatter's own scanner. Line comments lose trailing whitespace.
fn comments(src: &str) -> Vec<String> {
    let b = src.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'"' {
            i += 1;
            while i < b.len() && b[i] != b'"' {
                if b[i] == b'\\' {
                    i += 1;
                }
                i += 1;
            }
            i += 1;
        } else if b[i..].starts_with(b"//") {
            let end = src[i..].find('\n').map_or(src.len(), |n| i + n);
            out.push(src[i..end].trim_end().to_string());
            i = end;
        } else if b[i..].starts_with(b"/*") {
            let start = i;
            let mut depth = 0;
            while i < b.len() {
                if b[i..].starts_with(b"/*") {
                    depth += 1;
                    i += 2;
                } else if b[i..].starts_with(b"*/") {
                    depth -= 1;
                    i += 2;
                    if depth == 0 {
                        break;
                    }
                } else {
                    i += 1;
                }
            }
            out.push(src[start..i].to_string());
        } else {
            i += 1;
        }
    }
    out.sort();
    out
}

/// Properties 1 to 3 for one source text; `Err` describes the first failure.
fn check_properties(src: &str) -> Result<String, String> {
    let out = format_source(src).map_err(|d| format!("does not format: {d:?}"))?;
    let (_, diags) = parse_file(FileId(0), &out);
    if !diags.is_empty() {
        return Err(format!("output does not parse: {diags:?}\n--- output\n{out}"));
    }
    if tree(&out) != tree(src) {
        return Err(format!("the syntax tree changed\n--- output\n{out}"));
    }
    if comments(&out) != comments(src) {
        return Err(format!("comments changed: {:?} became {:?}\n--- output\n{out}", comments(src), comments(&out)));
    }
    let again = format_source(&out).map_err(|d| format!("output does not format: {d:?}"))?;
    if again != out {
        return Err(format!("not idempotent\n--- first\n{out}\n--- second\n{again}"));
    }
    Ok(out)
}

// ---------------------------------------------------------------- files

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn mesh_files(dir: &Path, recursive: bool, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() && recursive {
            mesh_files(&path, true, out);
        } else if path.extension().is_some_and(|e| e == "mesh") {
            out.push(path);
        }
    }
    out.sort();
}

fn example_files() -> Vec<PathBuf> {
    let mut files = Vec::new();
    mesh_files(&root().join("examples"), true, &mut files);
    files
}

fn stdlib_files() -> Vec<PathBuf> {
    let mut files = Vec::new();
    mesh_files(&root().join("stdlib/io"), false, &mut files);
    files
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

#[test]
fn every_example_and_stdlib_file_formats_safely() {
    let files: Vec<PathBuf> = example_files().into_iter().chain(stdlib_files()).collect();
    assert!(files.len() > 30, "expected the examples and the stdlib, found {files:?}");
    let mut failures = Vec::new();
    for path in &files {
        let src = read(path);
        // Files someone is still writing may not parse yet; that is not the formatter's concern.
        if !parse_file(FileId(0), &src).1.is_empty() {
            eprintln!("skipped (does not parse): {}", path.display());
            continue;
        }
        if let Err(e) = check_properties(&src) {
            failures.push(format!("{}: {e}", path.display()));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

/// The files of `files` that are not already formatted, with the first line
/// that differs.
fn unformatted(files: &[PathBuf]) -> Vec<String> {
    let mut bad = Vec::new();
    for path in files {
        let src = read(path);
        let Ok(out) = format_source(&src) else { continue };
        if out != src {
            let line = src.lines().zip(out.lines()).position(|(a, b)| a != b).unwrap_or(0);
            bad.push(format!(
                "{} (line {}):\n  written:   {:?}\n  formatted: {:?}",
                path.strip_prefix(root()).unwrap_or(path).display(),
                line + 1,
                src.lines().nth(line).unwrap_or(""),
                out.lines().nth(line).unwrap_or("")
            ));
        }
    }
    bad
}

#[test]
fn stdlib_is_formatted() {
    let bad = unformatted(&stdlib_files());
    assert!(bad.is_empty(), "not formatted:\n{}", bad.join("\n"));
}

#[test]
fn examples_are_formatted() {
    let bad = unformatted(&example_files());
    assert!(bad.is_empty(), "not formatted (run the formatter on them):\n{}", bad.join("\n"));
}

// ---------------------------------------------------------------- fixed layouts

fn assert_formats(src: &str, expected: &str) {
    let out = fmt(src);
    assert_eq!(out, expected, "\n--- got\n{out}\n--- expected\n{expected}");
    check_properties(src).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(fmt(expected), expected, "the expected text is not stable");
}

#[test]
fn settings_are_aligned_one_per_line_without_commas() {
    let src = r#"pulsar prod {
    web_service_url = "http://a:8080",
  broker = "pulsar://a:6650",
  auth = oauth2 {
    issuer_url = "https://auth", audience = "urn",
  }
  tls { enabled = true }
  x = 1
  yy = 2

  zzz = 3
  "quoted.key" = [1, 2,]
}
"#;
    let expected = r#"pulsar prod {
  web_service_url = "http://a:8080"
  broker          = "pulsar://a:6650"
  auth = oauth2 {
    issuer_url = "https://auth"
    audience   = "urn"
  }
  tls { enabled = true }
  x  = 1
  yy = 2

  zzz          = 3
  "quoted.key" = [1, 2]
}
"#;
    assert_formats(src, expected);
}

#[test]
fn declarations_are_separated_except_in_groups() {
    let src = "use std::io::kafka\nuse std::io::{a,b,}\ntopic a : string\n\n\n\ntopic bb : Order compat backward\n\
               topic c : bytes\nlet x = 1\nlet yy = \"s\"\nschema A = string\nschema Bee = map<string>\n\
               schema C = avro { id: long }\nschema D = avro { id: long }\npipeline p { a -> [bb] }\n";
    let expected = "use std::io::kafka\nuse std::io::{a, b}\n\ntopic a : string\n\ntopic bb : Order compat backward\n\
                    topic c  : bytes\n\nlet x  = 1\nlet yy = \"s\"\n\nschema A   = string\nschema Bee = map<string>\n\n\
                    schema C = avro { id: long }\n\nschema D = avro { id: long }\n\npipeline p { a -> bb }\n";
    assert_formats(src, expected);
}

#[test]
fn comments_stay_where_they_were() {
    let src = r#"// header

// about the cluster
pulsar prod {     // the only one
  a = 1    // one
  // before b

  b = 2 /* two */ , c = 3
  /* dangling */
}  // after
topic t : string   /* t */
// end
"#;
    let expected = r#"// header

// about the cluster
pulsar prod { // the only one
  a = 1 // one
  // before b

  b = 2 /* two */
  c = 3
  /* dangling */
} // after

topic t : string /* t */
// end
"#;
    assert_formats(src, expected);
}

#[test]
fn comments_inside_an_entry_stay_inline() {
    let src = "function /* f */ f(Order) -> // why\n Out = java(\"F\")\n";
    let expected = "function /* f */ f(Order) -> // why\n  Out = java(\"F\")\n";
    assert_formats(src, expected);
    // A `//` inside a string is not a comment.
    assert_formats("let u = \"http://x/*y*/\" // real\n", "let u = \"http://x/*y*/\" // real\n");
}

#[test]
fn short_blocks_stay_on_one_line_long_ones_break() {
    let src = r#"defaults { resources { cpu = 200m, memory = 512Mi }, labels { team = "checkout", owner = "someone with a long name" } }
profile p {
  log { level = warn }
  env {
    A = 1 }
  list = [{ key = "dedicated", operator = "Equal", value = "secure", effect = "NoSchedule" }, { key = "other" }]
}
"#;
    let expected = r#"defaults {
  resources { cpu = 200m, memory = 512Mi }
  labels { team = "checkout", owner = "someone with a long name" }
}

profile p {
  log { level = warn }
  env {
    A = 1
  }
  list = [
    { key = "dedicated", operator = "Equal", value = "secure", effect = "NoSchedule" },
    { key = "other" }
  ]
}
"#;
    assert_formats(src, expected);
}

#[test]
fn values_keep_their_meaning_and_numbers_their_text() {
    let src = "let s = \"a\\u{41}\tb\\\\\\\"\\u{7}é\"\nlet f = 1.10\nlet n = 1_000\nlet d = 1_0ms\nlet r = -1..4\n\
               let q = 1.5Gi\nlet e = 2.5E3\n";
    let expected = "let s = \"aA\\tb\\\\\\\"\\u{7}é\"\nlet f = 1.10\nlet n = 1_000\nlet d = 1_0ms\nlet r = -1..4\n\
                    let q = 1.5Gi\nlet e = 2.5E3\n";
    assert_formats(src, expected);
}

#[test]
fn equivalent_spellings_become_one() {
    // `key = { }` is `key { }`, `@x()` is `@x`, `java()` is `java`, `[a]` is `a`.
    let src = "@doc()\nfunction f() = java() { config = { a = 1 }, empty = {} }\npipeline p { a -> [b] -> [c, d,], }\n";
    let expected = "@doc\nfunction f() = java { config { a = 1 }, empty {} }\n\npipeline p { a -> b -> [c, d] }\n";
    assert_formats(src, expected);
    // Inside a connector, `config {}` is the typed configuration: an empty
    // `config` setting keeps its `=`.
    let src = "connector source { config = {}, produces: bytes }\n";
    assert_formats(src, src);
}

#[test]
fn annotations_and_fields() {
    let src = "@class(\"x\") @doc(\"y\",)\nschema A = avro { @sensitive @key(\"k\") a: string = \"d\", @doc(\"d\")\n\
               b: enum E { x, y, }?, c: record R { d: fixed F(16) } }\n";
    let expected = "@class(\"x\")\n@doc(\"y\")\nschema A = avro {\n  @sensitive @key(\"k\") a: string = \"d\"\n  \
                    @doc(\"d\") b: enum E { x, y }?\n  c: record R { d: fixed F(16) }\n}\n";
    assert_formats(src, expected);
}

#[test]
fn multi_line_lists_have_no_trailing_comma() {
    let src = "let l = [\n  1,\n  2, // two\n]\nlet e = []\nlet m = {\n}\n";
    // A multi-line `let` is not one of a group of lines: a blank line follows it.
    let expected = "let l = [\n  1,\n  2 // two\n]\n\nlet e = []\nlet m = {}\n";
    assert_formats(src, expected);
}

#[test]
fn connector_members_keep_their_order_and_trailing_comments_align() {
    let src = "connector sink {\n  class = \"a.B\"\n  archive = \"x.nar\"\n  accepts: bytes | string\n\n  \
               config {\n    url: string = \"http://x\", // where\n    @sensitive token: string?, // secret\n  }\n}\n";
    let expected = "connector sink {\n  class   = \"a.B\"\n  archive = \"x.nar\"\n  accepts: bytes | string\n\n  \
                    config {\n    url: string = \"http://x\"  // where\n    @sensitive token: string? // secret\n  }\n}\n";
    assert_formats(src, expected);
}

#[test]
fn line_endings_byte_order_mark_and_blank_lines() {
    let src = "\u{FEFF}\r\n\r\ntopic a : string\r\n// c\r\ntopic b : string   \r\n\r\n\r\n\r\n";
    assert_formats(src, "topic a : string\n// c\ntopic b : string\n");
    assert_formats("", "");
    assert_formats("  \n\n", "");
    assert_formats("// only a comment", "// only a comment\n");
}

#[test]
fn syntax_errors_are_reported_not_formatted() {
    let diags = format_source("topic a : \ntopic b : string\n").unwrap_err();
    assert!(diags.iter().any(|d| d.code == "E0001"), "{diags:?}");
    assert!(format_source("let s = \"\\q\"\n").is_err());
    assert!(format_source("topic a : string compat x compat y\n").is_err());
}

// ---------------------------------------------------------------- generated programs

/// A generated program: tokens, and gaps where whitespace and comments may go.
#[derive(Clone, Debug)]
enum Tok {
    T(String),
    Gap,
}

type Toks = Vec<Tok>;

fn t(s: &str) -> Tok {
    Tok::T(s.to_string())
}

/// The parts with a gap between each two.
fn join(parts: impl IntoIterator<Item = Toks>) -> Toks {
    let mut out = Vec::new();
    for part in parts {
        if !out.is_empty() && !part.is_empty() {
            out.push(Tok::Gap);
        }
        out.extend(part);
    }
    out
}

fn toks(words: &[&str]) -> Toks {
    join(words.iter().map(|w| vec![t(w)]))
}

/// `open a, b close`, with commas where `commas` says (required ones always),
/// and an optional trailing comma.
fn delimited(open: &str, items: Vec<(Toks, bool)>, close: &str, required: bool) -> Toks {
    let n = items.len();
    let mut parts = vec![toks(&[open])];
    for (i, (item, comma)) in items.into_iter().enumerate() {
        parts.push(item);
        if (required && i + 1 < n) || comma {
            parts.push(toks(&[","]));
        }
    }
    parts.push(toks(&[close]));
    join(parts)
}

fn pick(words: &'static [&'static str]) -> impl Strategy<Value = Toks> + Clone {
    prop::sample::select(words).prop_map(|w| vec![t(w)])
}

const NAMES: &[&str] = &["a", "orders", "x_1", "_t", "Order", "enriched", "b2"];
const KEYS: &[&str] = &["a", "cpu", "topic", "class", "replicas", "use", "x_y", "produces", "z"];
const QUOTED_KEYS: &[&str] = &["\"node.pool\"", "\"a b\"", "\"esc\\\"q\""];
const SCALARS: &[&str] = &[
    "0",
    "-12",
    "1_000",
    "1.10",
    "0.5",
    "2.5e3",
    "-1.5E-2",
    "30s",
    "500m",
    "1Gi",
    "1.5Gi",
    "10_0ms",
    "1..4",
    "-1..2",
    "true",
    "false",
    "a",
    "a::b",
    "std::io::x",
];
const STRINGS: &[&str] = &[
    "\"\"",
    "\"plain\"",
    "\"esc \\\" \\\\ \\n \\t \\r \\0\"",
    "\"\\u{41}\\u{1F600}\\u{7}\"",
    "\"// not a comment\"",
    "\"/* nor this */\"",
    "\"é ü\"",
    "\"raw\ttab\"",
    "\"a rather long string value, long enough to push a one-line block past the width\"",
];

fn name() -> impl Strategy<Value = Toks> + Clone {
    pick(NAMES)
}

fn comma() -> impl Strategy<Value = bool> + Clone {
    prop::bool::weighted(0.3)
}

/// A value, and whether it is a `{ ... }` map (which an item may write as
/// `key { ... }`).
fn value() -> impl Strategy<Value = (Toks, bool)> + Clone {
    let leaf = prop_oneof![pick(SCALARS), pick(STRINGS)].prop_map(|v| (v, false));
    leaf.prop_recursive(3, 32, 4, |inner| {
        let items = prop::collection::vec((item(inner.clone()), comma()), 0..4);
        prop_oneof![
            (prop::collection::vec(inner.clone().prop_map(|v| v.0), 0..4), comma())
                .prop_map(|(vs, trailing)| (listed("[", vs, "]", trailing), false)),
            items.clone().prop_map(|items| (delimited("{", items, "}", false), true)),
            (pick(&["secret", "env_secret", "f::g"]), prop::collection::vec(inner.prop_map(|v| v.0), 0..3), comma())
                .prop_map(|(callee, args, trailing)| (join([callee, listed("(", args, ")", trailing)]), false)),
            (pick(&["oauth2", "plugin"]), items)
                .prop_map(|(p, items)| (join([p, delimited("{", items, "}", false)]), false)),
        ]
    })
}

/// `key = value`, `"key" = value` or `key { ... }`.
fn item(value: impl Strategy<Value = (Toks, bool)> + Clone) -> impl Strategy<Value = Toks> + Clone {
    (prop_oneof![4 => pick(KEYS), 1 => pick(QUOTED_KEYS)], value, any::<bool>()).prop_map(|(key, (v, is_map), eq)| {
        if is_map && !eq {
            join([key, v])
        } else {
            join([key, toks(&["="]), v])
        }
    })
}

fn block() -> impl Strategy<Value = Toks> + Clone {
    prop::collection::vec((item(value()), comma()), 0..5).prop_map(|items| delimited("{", items, "}", false))
}

fn annotation() -> impl Strategy<Value = Toks> + Clone {
    prop_oneof![
        Just(toks(&["@sensitive"])),
        Just(toks(&["@key", "(", "\"a.b\"", ")"])),
        Just(toks(&["@doc", "(", "\"x\"", ",", "1", ",", ")"])),
        Just(toks(&["@x", "(", ")"])),
    ]
}

/// A list of elements with required commas and an optional trailing one.
fn listed(open: &str, elems: Vec<Toks>, close: &str, trailing: bool) -> Toks {
    let n = elems.len();
    delimited(open, elems.into_iter().enumerate().map(|(i, e)| (e, trailing && i + 1 == n)).collect(), close, true)
}

fn ty() -> impl Strategy<Value = Toks> + Clone {
    let leaf = pick(&["string", "long", "Order", "a::B", "bytes"]);
    let ty = leaf.prop_recursive(3, 24, 3, |inner| {
        let fields = prop::collection::vec(
            (
                prop::collection::vec(annotation(), 0..2),
                name(),
                inner.clone(),
                prop::option::weighted(0.3, prop_oneof![pick(SCALARS), pick(STRINGS)]),
                comma(),
            ),
            0..4,
        )
        .prop_map(|fields| {
            let fields = fields
                .into_iter()
                .map(|(anns, name, ty, default, comma)| {
                    let mut parts: Vec<Toks> = anns;
                    parts.extend([name, toks(&[":"]), ty]);
                    if let Some(d) = default {
                        parts.extend([toks(&["="]), d]);
                    }
                    (join(parts), comma)
                })
                .collect();
            delimited("{", fields, "}", false)
        });
        prop_oneof![
            (inner.clone(), prop::option::of(inner.clone()), comma()).prop_map(|(a, b, trailing)| match b {
                Some(b) => join([toks(&["key_value"]), listed("<", vec![a, b], ">", trailing)]),
                None => join([toks(&["map"]), listed("<", vec![a], ">", trailing)]),
            }),
            Just(toks(&["decimal", "(", "10", ",", "2", ")"])),
            Just(toks(&["avro", "(", "\"x.avsc\"", ")"])),
            (pick(&["avro", "json"]), fields.clone()).prop_map(|(f, body)| join([f, body])),
            (name(), fields).prop_map(|(n, body)| join([toks(&["record"]), n, body])),
            (name(), prop::collection::vec(name(), 1..4), comma()).prop_map(|(n, syms, trailing)| join([
                toks(&["enum"]),
                n,
                listed("{", syms, "}", trailing)
            ])),
            name().prop_map(|n| join([toks(&["fixed"]), n, toks(&["(", "16", ")"])])),
        ]
    });
    (ty, prop::bool::weighted(0.2)).prop_map(|(ty, opt)| if opt { join([ty, toks(&["?"])]) } else { ty })
}

fn args() -> impl Strategy<Value = Toks> + Clone {
    prop::option::of(prop::collection::vec(value().prop_map(|v| v.0), 0..3))
        .prop_map(|args| args.map(|a| listed("(", a, ")", false)).unwrap_or_default())
}

fn topic() -> impl Strategy<Value = Toks> {
    let attrs = (any::<bool>(), prop::option::of(prop::collection::vec(ty(), 1..3)), any::<bool>()).prop_map(
        |(compat, history, external)| {
            let mut attrs = Vec::new();
            if compat {
                attrs.push(toks(&["compat", "backward"]));
            }
            if let Some(h) = history {
                attrs.push(join([toks(&["history"]), listed("[", h, "]", false)]));
            }
            if external {
                attrs.push(toks(&["external"]));
            }
            attrs
        },
    );
    (name(), ty(), attrs.prop_shuffle(), prop::option::of(block())).prop_map(|(n, ty, attrs, body)| {
        let mut parts = vec![toks(&["topic"]), n, toks(&[":"]), ty];
        parts.extend(attrs);
        parts.extend(body);
        join(parts)
    })
}

fn component() -> impl Strategy<Value = Toks> {
    let head = pick(&["kafka::source", "java", "elasticsearch::sink", "go"]);
    let signature = prop::option::of((prop::collection::vec(ty(), 0..3), prop::option::of(ty())));
    (pick(&["source", "sink"]), name(), signature, head, args(), prop::option::of(block())).prop_map(
        |(kind, n, signature, head, args, body)| {
            let mut parts = Vec::new();
            match signature {
                Some((params, output)) => {
                    parts.extend([toks(&["function"]), n, listed("(", params, ")", false)]);
                    if let Some(out) = output {
                        parts.extend([toks(&["->"]), out]);
                    }
                }
                None => parts.extend([kind, n]),
            }
            parts.extend([toks(&["="]), head, args]);
            parts.extend(body);
            join(parts)
        },
    )
}

fn pipeline() -> impl Strategy<Value = Toks> {
    let endpoint = prop_oneof![
        3 => name(),
        1 => (prop::collection::vec(name(), 1..3), comma()).prop_map(|(names, tr)| listed("[", names, "]", tr)),
    ];
    let chain = prop::collection::vec(endpoint, 2..4).prop_map(|steps| {
        let mut parts = Vec::new();
        for (i, s) in steps.into_iter().enumerate() {
            if i > 0 {
                parts.push(toks(&["->"]));
            }
            parts.push(s);
        }
        join(parts)
    });
    (name(), prop::collection::vec((chain, comma()), 0..3))
        .prop_map(|(n, chains)| join([toks(&["pipeline"]), n, delimited("{", chains, "}", false)]))
}

fn connector() -> impl Strategy<Value = Toks> {
    let fields = prop::collection::vec((name(), ty(), comma()), 0..3).prop_map(|fs| {
        let fs = fs.into_iter().map(|(n, ty, c)| (join([n, toks(&[":"]), ty]), c)).collect();
        join([toks(&["config"]), delimited("{", fs, "}", false)])
    });
    let io = |kw: &'static str| {
        prop::collection::vec(ty(), 1..3).prop_map(move |tys| {
            let mut parts = vec![toks(&[kw, ":"])];
            for (i, ty) in tys.into_iter().enumerate() {
                if i > 0 {
                    parts.push(toks(&["|"]));
                }
                parts.push(ty);
            }
            join(parts)
        })
    };
    let members = (
        prop::collection::vec(item(value()), 0..3),
        prop::option::of(io("produces")),
        prop::option::of(io("accepts")),
        prop::option::of(fields),
        any::<bool>(),
    )
        .prop_map(|(items, produces, accepts, config, empty_config_setting)| {
            let mut members: Vec<Toks> = items;
            members.extend(produces);
            members.extend(accepts);
            members.extend(config);
            if empty_config_setting {
                members.push(toks(&["config", "=", "{", "}"]));
            }
            members
        });
    (name(), members.prop_shuffle(), prop::collection::vec(comma(), 8)).prop_map(|(n, members, commas)| {
        let members = members.into_iter().zip(commas).collect();
        join([toks(&["connector"]), n, delimited("{", members, "}", false)])
    })
}

fn decl() -> impl Strategy<Value = Toks> {
    let kind = prop_oneof![
        Just(toks(&["use", "std::io::kafka"])),
        prop::collection::vec(name(), 1..3).prop_map(|names| {
            // `std::io::{` is one token: nothing may separate `::` and `{`.
            let mut group = listed("{", names, "}", false);
            group[0] = t("std::io::{");
            join([toks(&["use"]), group])
        }),
        Just(toks(&["use", "\"./other.mesh\""])),
        (name(), block()).prop_map(|(n, b)| join([toks(&["pulsar"]), n, b])),
        block().prop_map(|b| join([toks(&["defaults"]), b])),
        (name(), ty()).prop_map(|(n, ty)| join([toks(&["schema"]), n, toks(&["="]), ty])),
        topic(),
        component(),
        pipeline(),
        (name(), value()).prop_map(|(n, v)| join([toks(&["let"]), n, toks(&["="]), v.0])),
        (name(), block()).prop_map(|(n, b)| join([toks(&["profile"]), n, b])),
        connector(),
    ];
    (prop::collection::vec(annotation(), 0..2), kind).prop_map(|(anns, kind)| {
        let mut parts = anns;
        parts.push(kind);
        join(parts)
    })
}

/// What goes in a gap inside a declaration, by the gap byte: mostly a space,
/// sometimes line breaks and comments of every form.
const GAPS: &[&str] = &[
    " ",
    " ",
    " ",
    " ",
    " ",
    " ",
    " ",
    " ",
    " ",
    " ",
    "\n  ",
    "\n",
    "\n\n    ",
    " /* c1 */ ",
    "/*c2*/",
    " // c3 \"q\" /* x\n",
    "\n  // c4\n  ",
    " /* c5\n  two lines */ ",
    " /* c6 /* nested */ // x */ ",
    "\t",
    "\r\n",
];

/// What goes between declarations.
const DECL_GAPS: &[&str] =
    &["\n", "\n", "\n\n", "\n\n\n", " ", "\n// d1\n", "\n\n/* d2 */\n\n", " // d3\n", "\n  /* d4 */ "];

fn render(decls: &[Toks], header: bool, gaps: &[u8]) -> String {
    let mut out = String::new();
    if header {
        out.push_str("// header\n\n");
    }
    let mut g = 0;
    let mut next_gap = |table: &[&str]| {
        let byte = gaps[g % gaps.len()];
        g += 1;
        table[usize::from(byte) % table.len()].to_string()
    };
    for (i, d) in decls.iter().enumerate() {
        if i > 0 {
            out.push_str(&next_gap(DECL_GAPS));
        }
        for tok in d {
            match tok {
                Tok::T(s) => out.push_str(s),
                Tok::Gap => out.push_str(&next_gap(GAPS)),
            }
        }
    }
    out.push_str(&next_gap(DECL_GAPS));
    out
}

proptest! {
    // 200 cases unless PROPTEST_CASES says otherwise; failures are printed, not saved.
    #![proptest_config(ProptestConfig {
        cases: std::env::var("PROPTEST_CASES").ok().and_then(|n| n.parse().ok()).unwrap_or(200),
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    #[test]
    fn generated_programs_format_safely(
        decls in prop::collection::vec(decl(), 1..6),
        header in any::<bool>(),
        gaps in prop::collection::vec(any::<u8>(), 1..64),
    ) {
        let src = render(&decls, header, &gaps);
        let (_, diags) = parse_file(FileId(0), &src);
        prop_assert!(diags.is_empty(), "the generator wrote an invalid program: {:?}\n{}", diags, src);
        if let Err(e) = check_properties(&src) {
            prop_assert!(false, "{}\n--- source\n{}", e, src);
        }
    }
}

/// Token soup: mostly not a program. Whatever the input, the formatter does
/// not panic, and what it formats keeps properties 1 to 3. (Non-ASCII text
/// only inside strings and comments: the parser itself panics on a
/// declaration that starts with a multi-byte character, e.g. `é`.)
fn soup() -> impl Strategy<Value = String> {
    const BITS: &[&str] = &[
        "topic",
        "pipeline",
        "let",
        "connector",
        "config",
        "produces",
        "schema",
        "avro",
        "a",
        "b",
        ":",
        "=",
        "{",
        "}",
        "[",
        "]",
        "(",
        ")",
        "<",
        ">",
        "?",
        ",",
        "->",
        "@x",
        "1",
        "2.5",
        "5m",
        "\"s\"",
        "\"//\"",
        "// c\n",
        "/* c */",
        "/*",
        "*/",
        "\n",
        " ",
        " ",
        " ",
        "\r\n",
        "\\",
        "\"",
        "\"é\"",
        "// é\n",
        "\u{FEFF}",
        "::",
    ];
    prop::collection::vec(prop::sample::select(BITS), 0..40).prop_map(|bits| bits.concat())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn any_input_is_formatted_safely_or_refused(src in soup()) {
        if format_source(&src).is_ok() {
            if let Err(e) = check_properties(&src) {
                prop_assert!(false, "{}\n--- source\n{:?}", e, src);
            }
        }
    }
}
