//! No input makes mesh panic, overflow its stack, hang, or point a diagnostic outside its file: random bytes,
//! every prefix of an example, huge files, runaway nesting, unterminated tokens, NUL bytes, a BOM, CRLF line
//! endings, and programs generated from a small grammar (proptest).

use std::panic::AssertUnwindSafe;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use mesh::compile::{compile, Options};
use mesh::diag::Diagnostic;
use mesh::load::{load_text, Loaded};
use proptest::prelude::*;

// ------------------------------------------------------------------------------------------------ helpers

/// What went wrong with the diagnostics of one compilation: labels outside their file or splitting a
/// character. Empty when everything is in order.
fn span_problems(loaded: &Loaded, diags: &[Diagnostic]) -> Vec<String> {
    let mut problems = Vec::new();
    for d in diags {
        let labels = std::iter::once((&d.primary, "primary")).chain(d.secondary.iter().map(|l| (l, "secondary")));
        for (label, which) in labels {
            let span = label.span;
            let file = loaded.sources.iter().find(|(id, _)| *id == span.file).map(|(_, f)| f);
            let Some(file) = file else {
                problems.push(format!("{} ({which}): span in unknown file {:?}", d.code, span.file));
                continue;
            };
            let (start, end, len) = (span.start as usize, span.end as usize, file.text.len());
            if start > end || end > len {
                problems.push(format!("{} ({which}) `{}`: span {start}..{end} outside {len} bytes", d.code, d.message));
            } else if !file.text.is_char_boundary(start) || !file.text.is_char_boundary(end) {
                problems.push(format!("{} ({which}) `{}`: span {start}..{end} splits a character", d.code, d.message));
            }
        }
    }
    problems
}

struct Checked {
    loaded: Loaded,
    diags: Vec<Diagnostic>,
    has_objects: bool,
}

impl Checked {
    fn errors(&self) -> usize {
        self.diags.iter().filter(|d| d.is_error()).count()
    }
    fn codes(&self) -> Vec<&'static str> {
        self.diags.iter().map(|d| d.code).collect()
    }
}

/// Loads and compiles a text through the library, turning a panic into a test failure that shows the
/// input, and checks the spans of every diagnostic. `render` also renders the diagnostics both ways.
fn compile_text(name: &str, text: &str, mesh: bool, render: bool) -> Checked {
    let result = std::panic::catch_unwind(AssertUnwindSafe(|| {
        let loaded = load_text(name, text);
        let out = compile(&loaded, &Options { mesh, ..Options::default() });
        if render {
            let human = mesh::diag::render_human(&loaded.sources, &out.diags, false);
            let json = mesh::report::json_diagnostics(&loaded.sources, &out.diags);
            assert_eq!(json.len(), out.diags.len());
            assert!(out.diags.is_empty() || !human.is_empty());
        }
        if let Some(objects) = &out.objects {
            let _ = mesh::render::yaml(objects);
        }
        Checked { has_objects: out.objects.is_some(), diags: out.diags, loaded }
    }));
    let checked =
        result.unwrap_or_else(|_| panic!("mesh panicked on {name} ({} bytes):\n{}", text.len(), excerpt(text)));
    let problems = span_problems(&checked.loaded, &checked.diags);
    assert!(problems.is_empty(), "bad spans for {name}:\n{}\ninput:\n{}", problems.join("\n"), excerpt(text));
    checked
}

/// The input, shortened for a failure message.
fn excerpt(text: &str) -> String {
    const MAX: usize = 400;
    if text.len() <= MAX {
        return format!("{text:?}");
    }
    let mut cut = MAX;
    while !text.is_char_boundary(cut) {
        cut -= 1;
    }
    format!("{:?}... ({} more bytes)", &text[..cut], text.len() - cut)
}

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

/// Runs `mesh ARGS FILE` on the given bytes and checks that it ends normally: exit code 0, 1 or 2, no
/// panic, no backtrace.
fn run_binary(args: &[&str], name: &str, bytes: &[u8]) -> Run {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join(name), bytes).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_mesh"))
        .args(args)
        .arg(name)
        .current_dir(dir.path())
        .env("NO_COLOR", "1")
        .env("RUST_BACKTRACE", "1") // a panic would print a backtrace: make sure there is none to print
        .output()
        .expect("cannot run the mesh binary");
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    let what =
        format!("mesh {} {name} ({} bytes: {})", args.join(" "), bytes.len(), excerpt(&String::from_utf8_lossy(bytes)));
    let code = out.status.code().unwrap_or_else(|| panic!("{what} was killed: {}\n{}", out.status, tail(&stderr)));
    assert!(!stderr.contains("panicked"), "{what} panicked:\n{}", tail(&stderr));
    assert!(!stderr.contains("stack backtrace"), "{what} printed a backtrace:\n{}", tail(&stderr));
    assert!(!stderr.contains("overflowed its stack"), "{what} overflowed its stack");
    assert!(matches!(code, 0..=2), "{what} exited with {code}:\n{}", tail(&stderr));
    Run { code, stdout: String::from_utf8_lossy(&out.stdout).into_owned(), stderr }
}

fn tail(s: &str) -> &str {
    let mut cut = s.len().saturating_sub(2000);
    while !s.is_char_boundary(cut) {
        cut += 1;
    }
    &s[cut..]
}

/// A small deterministic generator (xorshift64*), so failures reproduce without a seed file.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.below(items.len())]
    }
}

fn shop_text() -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/shop.mesh");
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()))
}

/// A small valid program that uses no stdlib module.
const GOOD: &str = r#"pulsar local {
  web_service_url    = "http://pulsar.pulsar.svc:8080"
  broker_service_url = "pulsar://pulsar.pulsar.svc:6650"
}

defaults { cluster = local }

topic input  : string external
topic output : string

function upper(string) -> string = java("com.example.Upper") {
  jar      = "function://public/default/upper@1.0"
  replicas = 2
}

function audit(string) = java("com.example.Audit") {
  jar = "function://public/default/audit@1.0"
}

pipeline words { input -> upper -> output -> audit }
"#;

// ------------------------------------------------------------------------------------------------ random input

#[test]
fn random_bytes_do_not_panic() {
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    for i in 0..300 {
        let len = rng.below(300);
        let bytes: Vec<u8> = (0..len).map(|_| rng.next() as u8).collect();
        compile_text(&format!("random{i}.mesh"), &String::from_utf8_lossy(&bytes), i % 2 == 0, i % 10 == 0);
    }
}

/// Sequences of the language's own tokens reach much deeper into the parser than random bytes.
#[test]
fn random_token_soup_does_not_panic() {
    const TOKENS: &[&str] = &[
        "topic",
        "function",
        "source",
        "sink",
        "pipeline",
        "schema",
        "let",
        "use",
        "pulsar",
        "defaults",
        "profile",
        "connector",
        "record",
        "enum",
        "fixed",
        "compat",
        "history",
        "external",
        "avro",
        "json",
        "protobuf",
        "string",
        "bytes",
        "long",
        "map",
        "list",
        "std",
        "io",
        "kafka",
        "java",
        "python",
        "go",
        "config",
        "jar",
        "replicas",
        "@",
        "{",
        "}",
        "(",
        ")",
        "[",
        "]",
        "<",
        ">",
        "->",
        "=",
        ":",
        "::",
        ",",
        "?",
        "|",
        "..",
        "\"",
        "\"s\"",
        "\"é\"",
        "//",
        "/*",
        "*/",
        "\n",
        " ",
        "\t",
        "\r\n",
        "1",
        "-1",
        "1.5",
        "1..4",
        "500m",
        "1Gi",
        "30s",
        "true",
        "x",
        "y",
        "é",
        "名",
        "\u{FEFF}",
        "\0",
        "🦀",
    ];
    let mut rng = Rng(42);
    for i in 0..400 {
        let n = rng.below(60);
        let text = (0..n).map(|_| rng.pick(TOKENS)).collect::<Vec<_>>().join(if i % 3 == 0 { "" } else { " " });
        compile_text(&format!("soup{i}.mesh"), &text, i % 2 == 1, i % 8 == 0);
    }
}

/// Checks the spans of the diagnostics of the parser alone.
fn parse_only(text: &str) {
    let file = mesh::source::FileId(0);
    let (_, diags) = std::panic::catch_unwind(|| mesh::syntax::parse_file(file, text))
        .unwrap_or_else(|_| panic!("the parser panicked on {}", excerpt(text)));
    for d in &diags {
        for span in std::iter::once(d.primary.span).chain(d.secondary.iter().map(|l| l.span)) {
            let (start, end) = (span.start as usize, span.end as usize);
            assert!(
                span.file == file && start <= end && end <= text.len(),
                "{} `{}`: span {start}..{end} outside {} bytes of {}",
                d.code,
                d.message,
                text.len(),
                excerpt(text)
            );
            assert!(
                text.is_char_boundary(start) && text.is_char_boundary(end),
                "{}: span {start}..{end} splits a character of {}",
                d.code,
                excerpt(text)
            );
        }
    }
}

#[test]
fn every_prefix_of_an_example_is_handled() {
    let text = shop_text();
    let started = Instant::now();
    let boundaries: Vec<usize> = text.char_indices().map(|(i, _)| i).chain([text.len()]).collect();
    for (n, &end) in boundaries.iter().enumerate() {
        let prefix = &text[..end];
        // Every prefix through the parser; the whole compiler (which also parses the stdlib modules the
        // example uses, the slow part) on every tenth prefix and the last few.
        parse_only(prefix);
        if n % 10 != 0 && end + 8 < text.len() {
            continue;
        }
        let checked = compile_text(&format!("shop-prefix-{end}.mesh"), prefix, n % 2 == 1, n % 20 == 0);
        // Truncation never yields a bundle while errors are reported, and the other way round.
        assert_eq!(checked.has_objects, checked.errors() == 0, "prefix of {end} bytes: {:?}", checked.codes());
        if end == text.len() {
            assert_eq!(checked.errors(), 0, "the whole example compiles: {:?}", checked.codes());
        }
    }
    eprintln!("{} prefixes in {:.1?}", boundaries.len(), started.elapsed());
}

#[test]
fn every_suffix_of_an_example_is_handled() {
    // Starting in the middle of a token, a string or a comment: the parser must resynchronise.
    let text = shop_text();
    for (n, (start, _)) in text.char_indices().enumerate().step_by(3) {
        parse_only(&text[start..]);
        if n % 21 == 0 {
            compile_text(&format!("shop-suffix-{start}.mesh"), &text[start..], n % 2 == 0, n % 42 == 0);
        }
    }
}

// ------------------------------------------------------------------------------------------------ huge input

const TEN_MB: usize = 10 * 1024 * 1024;

fn timed<T>(what: &str, limit: Duration, f: impl FnOnce() -> T) -> T {
    let started = Instant::now();
    let t = f();
    let took = started.elapsed();
    eprintln!("{what}: {took:.2?}");
    assert!(took < limit, "{what} took {took:.1?}, more than {limit:?}");
    t
}

/// `GOOD` followed by topic declarations up to `size` bytes, each followed by `padding` (a comment, say).
fn many_topics(size: usize, padding: &str) -> (String, usize) {
    let mut text = String::with_capacity(size + 64);
    text.push_str(GOOD);
    let mut i = 0;
    while text.len() < size {
        text.push_str(&format!("topic t{i} : string\n{padding}"));
        i += 1;
    }
    (text, i)
}

fn assert_unused_topics(checked: &Checked, topics: usize) {
    assert_eq!(checked.errors(), 0, "{:?}", &checked.codes()[..checked.codes().len().min(10)]);
    assert!(checked.has_objects);
    assert_eq!(checked.diags.len(), topics, "one warning per unused topic");
}

/// A comment of about a kilobyte, as generated documentation between declarations would be.
fn doc_comment() -> String {
    format!("/* {} */\n// {}\n", "c".repeat(700), "d".repeat(300))
}

#[test]
fn large_files_of_declarations() {
    // The parser reads declarations at about 200 KB/s in a debug build, and comments that follow a declaration
    // at about 330 KB/s (against 100 MB/s for comments the driver skips itself), so these stay well below the
    // 10 MB of the ignored test below (53 s for pure declarations, 31 s with comments between them).
    let (text, topics) = many_topics(256 * 1024, "");
    let checked = timed(&format!("{topics} topic declarations (256 KB)"), Duration::from_secs(30), || {
        compile_text("many-topics.mesh", &text, false, false)
    });
    assert_unused_topics(&checked, topics);

    let (text, topics) = many_topics(1024 * 1024, &doc_comment());
    let checked = timed(&format!("{topics} declarations among 1 MB of comments"), Duration::from_secs(30), || {
        compile_text("commented-topics.mesh", &text, false, false)
    });
    assert_unused_topics(&checked, topics);
}

#[test]
#[ignore = "slow: about 90 s in a debug build (10 MB of declarations 53 s, 10 MB of comments between \
            declarations 31 s, a 10 MB string 7 s); run with `cargo test --release --test robustness -- --ignored`"]
fn ten_megabytes_of_declarations() {
    let (text, topics) = many_topics(TEN_MB, "");
    let checked = timed(&format!("{topics} topic declarations (10 MB)"), Duration::from_secs(120), || {
        compile_text("many-topics.mesh", &text, false, false)
    });
    assert_unused_topics(&checked, topics);

    let (text, topics) = many_topics(TEN_MB, &doc_comment());
    let checked = timed(&format!("{topics} declarations among 10 MB of comments"), Duration::from_secs(120), || {
        compile_text("commented-topics.mesh", &text, false, false)
    });
    assert_unused_topics(&checked, topics);

    let string = format!("{GOOD}let big = \"{}\"\n", "y".repeat(TEN_MB));
    let checked =
        timed("10 MB string literal", Duration::from_secs(60), || compile_text("string.mesh", &string, false, true));
    assert_eq!(checked.codes(), ["W0101"]);
}

#[test]
fn ten_megabyte_comments_and_long_lines() {
    let block = format!("/* {} */\n{GOOD}", "x".repeat(TEN_MB));
    let checked =
        timed("10 MB block comment", Duration::from_secs(10), || compile_text("block.mesh", &block, false, true));
    assert_eq!(checked.errors(), 0, "{:?}", checked.codes());

    let lines =
        format!("{GOOD}{}", "// a comment line that is quite long, repeated many times over\n".repeat(TEN_MB / 64));
    let checked =
        timed("10 MB of line comments", Duration::from_secs(10), || compile_text("lines.mesh", &lines, true, true));
    assert_eq!(checked.errors(), 0, "{:?}", checked.codes());

    // Inside a declaration the parser itself reads the text: a megabyte, not ten.
    let string = format!("{GOOD}let big = \"{}\"\n", "y".repeat(1024 * 1024));
    let checked =
        timed("1 MB string literal", Duration::from_secs(20), || compile_text("string.mesh", &string, false, true));
    assert_eq!(checked.codes(), ["W0101"], "only the unused `let`");
    let inner = GOOD.replace("replicas = 2", &format!("replicas = 2 /* {} */", "z".repeat(1024 * 1024)));
    let checked =
        timed("1 MB comment in a block", Duration::from_secs(20), || compile_text("inner.mesh", &inner, false, true));
    assert_eq!(checked.errors(), 0, "{:?}", checked.codes());

    // Ten megabytes on one line: an error, then nothing to resynchronise on.
    let one_line = format!("{GOOD}{}", "x = ".repeat(TEN_MB / 4));
    let checked =
        timed("10 MB on one line", Duration::from_secs(20), || compile_text("one-line.mesh", &one_line, false, true));
    assert!(checked.errors() > 0);
    // A one-line list of 64k values.
    let list = format!("{GOOD}let xs = [{}]\n", "1, ".repeat(64 * 1024));
    let checked =
        timed("192 KB list on one line", Duration::from_secs(20), || compile_text("list.mesh", &list, false, true));
    assert_eq!(checked.codes(), ["W0101"], "only the unused `let`");
}

#[test]
fn ten_megabytes_through_the_binary() {
    let text = format!("/* {} */\n{GOOD}", "z".repeat(TEN_MB));
    let run = timed("mesh compile on a 10 MB file", Duration::from_secs(15), || {
        run_binary(&["compile"], "big.mesh", text.as_bytes())
    });
    assert_eq!(run.code, 0, "{}", tail(&run.stderr));
    assert!(run.stdout.starts_with("apiVersion"));
}

// ------------------------------------------------------------------------------------------------ nesting

const DEPTH: usize = 10_000;

/// `DEPTH` levels of one bracket kind in several places of a program, closed or left open.
fn deep_inputs() -> Vec<(String, String)> {
    let mut out = Vec::new();
    const DEEP_FUNCTION: &str = "function deep(string) -> string = java(\"a.B\")";
    let component =
        |body: &str| format!("{GOOD}\n{DEEP_FUNCTION} {{\n  jar = \"a.jar\"\n  config {{ k = {body} }}\n}}\n");
    for (open, close, inner) in [("[", "]", "1"), ("{", "}", "a = 1"), ("(", ")", "1"), ("<", ">", "string")] {
        for closed in [true, false] {
            let nested = |prefix: &str| {
                let mut s = String::with_capacity(DEPTH * (prefix.len() + 2) + 8);
                for _ in 0..DEPTH {
                    s.push_str(prefix);
                    s.push_str(open);
                }
                s.push_str(inner);
                if closed {
                    s.push_str(&close.repeat(DEPTH));
                }
                s
            };
            let tag = format!("{open}{}", if closed { " closed" } else { " open" });
            // As a bare value, as a call argument, as a map value.
            let value_prefix = match open {
                "{" => "a = ",
                "(" => "f",
                "<" => "map",
                _ => "",
            };
            out.push((format!("let, {tag}"), format!("{GOOD}\nlet deep = {}\n", nested(value_prefix))));
            out.push((format!("component config, {tag}"), component(&nested(value_prefix))));
            out.push((format!("annotation, {tag}"), format!("@deep({})\n{GOOD}", nested(value_prefix))));
            // In types: generics, calls and records.
            let type_prefix = match open {
                "{" => "record R ",
                "(" => "fixed F",
                "<" => "map<string, ",
                _ => "list<",
            };
            let ty = nested(type_prefix);
            out.push((format!("topic type, {tag}"), format!("{GOOD}\ntopic deep : {ty}\n")));
            out.push((format!("schema, {tag}"), format!("{GOOD}\nschema Deep = avro {{ f: {ty} }}\n")));
            out.push((
                format!("function parameter, {tag}"),
                format!("{GOOD}\nfunction deep({ty}) -> string = java(\"a.B\")\n"),
            ));
            // Without anything around it.
            out.push((format!("bare, {tag}"), open.repeat(DEPTH)));
        }
    }
    out
}

#[test]
fn deep_nesting_is_an_error_not_a_crash() {
    for (what, text) in deep_inputs() {
        let checked = compile_text(&format!("deep-{what}.mesh"), &text, false, false);
        assert!(checked.errors() > 0, "{what}: {DEPTH} levels of nesting give no error");
        assert!(!checked.has_objects, "{what}");
    }
}

#[test]
fn deep_nesting_through_the_binary() {
    for (what, text) in deep_inputs().into_iter().step_by(3) {
        let run = run_binary(&["check"], "deep.mesh", text.as_bytes());
        assert_eq!(run.code, 1, "{what}: {}", tail(&run.stderr));
    }
}

/// The nesting guard must hold however the nested lines begin. Lines that start with a declaration
/// keyword (a map key called `let`, a block called `topic`) or with `@` (a field annotation) currently reset
/// its depth count (`too_deep_positions` in src/syntax/parser.rs). From about 250 levels the recursive AST
/// builder (`Builder::block`/`value`, `Builder::fields`/`type_expr`) then overflows the 8 MiB main stack and
/// the process aborts; from about 600 levels pest's own stack guard fails the parse instead, with misleading
/// E0001 errors ("expected a name, found `=`") instead of E0002. Either way E0002 is expected.
#[test]
fn deep_nesting_with_keyword_lines_through_the_binary() {
    for n in [300, 2_000] {
        deep_keyword_lines(n);
    }
}

fn deep_keyword_lines(n: usize) {
    let cases = [
        ("map keys named `let`", format!("let x = {{\n{}{}}}\n", "let = {\n".repeat(n), "}".repeat(n))),
        (
            "record fields with annotations",
            format!("schema S = avro {{\n{}x: long{}}}\n", "@doc(\"f\") f: record R {\n".repeat(n), "}".repeat(n)),
        ),
        (
            "nested blocks named after keywords",
            format!(
                "{GOOD}function deep(string) = java(\"a.B\") {{\n  jar = \"a.jar\"\n  config {{\n{}{}}}\n}}\n",
                "topic {\n".repeat(n),
                "}".repeat(n)
            ),
        ),
    ];
    for (what, text) in cases {
        let run = run_binary(&["check"], "deep.mesh", text.as_bytes());
        assert_eq!(run.code, 1, "{what}, {n} levels: {}", tail(&run.stderr));
        assert!(run.stderr.contains("E0002"), "{what}, {n} levels: expected E0002:\n{}", tail(&run.stderr));
    }
}

// ------------------------------------------------------------------------------------------------ odd text

#[test]
fn unterminated_strings_and_comments_are_errors() {
    for (what, text) in [
        ("string at end of file", format!("{GOOD}let s = \"abc")),
        ("string before a declaration", format!("let s = \"abc\n{GOOD}")),
        ("string ending in a backslash", format!("{GOOD}let s = \"abc\\")),
        ("string in a block", GOOD.replace("\"com.example.Upper\")", "\"com.example.Upper)")),
        ("string in a setting", GOOD.replace("upper@1.0\"", "upper@1.0")),
        ("block comment inside a block", GOOD.replace("replicas = 2", "replicas = 2 /* never closed")),
        ("lone quote", "\"".to_string()),
        ("lone slash star inside a value", format!("{GOOD}let x = [1, /*")),
    ] {
        let checked = compile_text(&format!("{what}.mesh"), &text, false, true);
        assert!(checked.errors() > 0, "{what}: no error for {}", excerpt(&text));
    }
}

/// An unterminated block comment between declarations must not silently swallow the rest of the file.
/// `unterminated_block_comment` in src/syntax/parser.rs takes a file that ends in `*/` for a closed comment,
/// but `/*/` is not closed, and neither is an outer comment whose nested one is (`/* /* inner */`).
#[test]
fn unterminated_block_comment_between_declarations_is_an_error() {
    for text in [
        format!("/* never closed\n{GOOD}"),
        format!("{GOOD}/* never closed\n"),
        "/*/".to_string(),
        format!("{GOOD}/*/"),
        format!("/* outer /* inner */\n{GOOD}"),
        format!("{GOOD}/* outer /* inner */"),
    ] {
        let checked = compile_text("comment.mesh", &text, false, true);
        assert!(checked.errors() > 0, "no error for {}", excerpt(&text));
    }
}

#[test]
fn nul_bytes() {
    for (what, text, must_fail) in [
        ("alone", "\0".to_string(), true),
        ("between declarations", GOOD.replace("topic output", "\0topic output"), true),
        ("in a name", GOOD.replace("topic output", "topic out\0put"), true),
        ("in a string", GOOD.replace("com.example.Upper", "com.example\0Upper"), false),
        ("in a comment", format!("// \0\n{GOOD}/* \0 */\n"), false),
        ("many", "\0".repeat(10_000), true),
    ] {
        let checked = compile_text(&format!("nul {what}.mesh"), &text, false, true);
        if must_fail {
            assert!(checked.errors() > 0, "NUL {what}: no error");
        }
        run_binary(&["check"], "nul.mesh", text.as_bytes());
    }
}

/// The objects of a program, rendered, or the codes of its diagnostics.
fn objects_of(name: &str, text: &str) -> Result<String, Vec<&'static str>> {
    let loaded = load_text(name, text);
    let out = compile(&loaded, &Options::default());
    out.objects.map(|o| mesh::render::yaml(&o)).ok_or_else(|| out.diags.iter().map(|d| d.code).collect())
}

#[test]
fn byte_order_mark_is_ignored() {
    let plain = objects_of("plain.mesh", GOOD).expect("GOOD compiles");
    assert_eq!(objects_of("bom.mesh", &format!("\u{FEFF}{GOOD}")), Ok(plain.clone()));
    // A BOM in the middle of a file (concatenated files) is whitespace too.
    assert_eq!(objects_of("bom2.mesh", &GOOD.replace("topic output", "\u{FEFF}topic output")), Ok(plain));
    let run = run_binary(&["compile"], "bom.mesh", format!("\u{FEFF}{GOOD}").as_bytes());
    assert_eq!(run.code, 0, "{}", run.stderr);
    // Only the BOM: an empty program.
    compile_text("only-bom.mesh", "\u{FEFF}", false, true);
    compile_text("bom-bom.mesh", "\u{FEFF}\u{FEFF}\u{FEFF}", false, true);
}

#[test]
fn crlf_line_endings_give_the_same_output_and_positions() {
    let crlf = GOOD.replace('\n', "\r\n");
    assert_eq!(objects_of("crlf.mesh", &crlf), objects_of("lf.mesh", GOOD));
    let run = run_binary(&["compile"], "crlf.mesh", crlf.as_bytes());
    assert_eq!(run.code, 0, "{}", run.stderr);

    // A diagnostic is reported at the same line and column whatever the line endings.
    let bad = GOOD.replace("  replicas = 2", "  replicas = 2\n  jarr = \"x\"");
    let position = |text: &str| {
        let checked = compile_text("pos.mesh", text, false, true);
        let json = mesh::report::json_diagnostics(&checked.loaded.sources, &checked.diags);
        json.iter()
            .filter(|d| d["code"] == "E0201")
            .map(|d| (d["line"].clone(), d["column"].clone(), d["end_line"].clone(), d["end_column"].clone()))
            .collect::<Vec<_>>()
    };
    let lf = position(&bad);
    assert!(!lf.is_empty(), "expected E0201 for `jarr`");
    assert_eq!(position(&bad.replace('\n', "\r\n")), lf);
    // Lone carriage returns and mixed endings do not panic.
    compile_text("cr.mesh", &GOOD.replace('\n', "\r"), false, true);
    compile_text("mixed.mesh", &GOOD.replacen('\n', "\r\n", 5), false, true);
}

/// A file whose first token starts with a multi-byte character (a non-breaking space, a smart quote) once
/// panicked: the parser resynchronised one byte after the declaration's start, inside the character.
#[test]
fn file_starting_with_a_non_ascii_character() {
    for text in ["é", "\u{A0}topic t : string\n", "“quoted”", "// comment\n🦀\n", "\u{FEFF}名前 = 1\n"] {
        let checked = compile_text("non-ascii-start.mesh", text, false, true);
        assert!(checked.errors() > 0, "{}", excerpt(text));
        let run = run_binary(&["check"], "non-ascii-start.mesh", text.as_bytes());
        assert_eq!(run.code, 1, "{}", tail(&run.stderr));
    }
}

#[test]
fn non_ascii_text_keeps_spans_on_char_boundaries() {
    for text in [
        GOOD.replace("upper", "üppér"),
        GOOD.replace("topic output", "topic 出力"),
        GOOD.replace("input -> upper", "input -> 🦀 -> upper"),
        format!("{GOOD}\nlet café = \"naïve\" 名前\n"),
        format!("{GOOD}\ntopic t : strïng\n"),
        format!("é{GOOD}"),
        format!("{GOOD}\n\u{0301}\u{0301}"),
    ] {
        let checked = compile_text("unicode.mesh", &text, false, true);
        assert!(checked.errors() > 0, "{}", excerpt(&text));
    }
}

#[test]
fn odd_inputs_through_the_binary() {
    let mut rng = Rng(7);
    let shop = shop_text();
    let mut inputs: Vec<Vec<u8>> = vec![
        Vec::new(),
        b"\n\n\n".to_vec(),
        b"\xff\xfe\x00t\x00o\x00p\x00i\x00c".to_vec(), // UTF-16: not UTF-8, exit 2
        shop.as_bytes()[..shop.len() / 2].to_vec(),
        shop.replace('\n', "\r\n").into_bytes(),
        format!("\u{FEFF}{shop}").into_bytes(),
    ];
    for _ in 0..10 {
        let len = rng.below(200);
        inputs.push((0..len).map(|_| rng.next() as u8).collect());
    }
    for bytes in inputs {
        for args in [&["check"][..], &["compile", "--mesh"]] {
            let run = run_binary(args, "odd.mesh", &bytes);
            if std::str::from_utf8(&bytes).is_err() {
                assert_eq!(run.code, 2, "invalid UTF-8 is an I/O error: {}", run.stderr);
            }
            if run.code != 0 {
                assert_eq!(run.stdout, "", "no objects printed on failure");
            }
        }
    }
}

// ------------------------------------------------------------------------------------------------ proptest

/// Names for topics and components that fit together, and (below) ones that clash or are invalid.
const NAMES: &[&str] = &["orders", "enriched", "rejected", "raw", "enrich", "from_kafka", "to_es", "audit", "x_1"];
const BAD_NAMES: &[&str] =
    &["Upper", "_", "topic", "std", "café", "a_name_that_is_far_too_long_for_any_kubernetes_object_at_all"];

const SCHEMAS: &[&str] = &[
    "string",
    "bytes",
    "double",
    "boolean",
    "Order",
    "Enriched",
    "avro { id: long }",
    "json { a: string? = null }",
    "avro { t: enum T { x, y } }",
    "avro { f: fixed F(16) }",
];
const BAD_SCHEMAS: &[&str] = &[
    "Missing",
    "orders",
    "map<string, long>",
    "list<Order>",
    "kv<string, Order>",
    "protobuf(\"x.proto\")",
    "avro",
    "",
];

/// Settings every component takes, those only functions take, and (below) wrong ones.
const SETTINGS: &[&str] = &[
    "replicas = 2",
    "replicas = 1..4",
    "guarantee = atleast_once",
    "guarantee = effectively_once",
    "guarantee = atmost_once",
    "resources { cpu = 200m, memory = 512Mi }",
    "cluster = prod",
    "labels { team = \"data\" }",
    "secrets { token = secret(\"s\", \"k\") }",
];
const FUNCTION_SETTINGS: &[&str] = &[
    "replicas = 2",
    "replicas = 1..4",
    "guarantee = atleast_once",
    "guarantee = effectively_once",
    "guarantee = atmost_once",
    "resources { cpu = 200m, memory = 512Mi }",
    "cluster = prod",
    "labels { team = \"data\" }",
    "secrets { token = secret(\"s\", \"k\") }",
    "max_retries = 3",
    "timeout = 30s",
    "config { threshold = 100, currency = \"EUR\", nested { a = [1, 2.5, true] } }",
    "subscription = \"sub\"",
    "retain_ordering = true",
    "window { length = 10, slide = 5 }",
];
const BAD_SETTINGS: &[&str] = &[
    "jar = \"\"",
    "dead_letter = rejected",
    "log_topic = rejected",
    "window { size = 10 }",
    "value = Order",
    "index_name = \"orders\"",
    "username = secret(\"es\", \"user\")",
    "replicas = 4..1",
    "replicas = 0",
    "replicas = \"two\"",
    "replicas = -1",
    "guarantee = bogus",
    "dead_letter = missing",
    "timeout = 500m",
    "resources { cpu = -1, memory = \"lots\" }",
    "name = \"UPPER\"",
    "cluster = nowhere",
    "password = \"literal\"",
    "bogus_setting = 1",
];

/// One of `good`, or (when `noisy`, one time in thirteen) one of `bad`.
fn pick_from(good: &'static [&'static str], bad: &'static [&'static str], noisy: bool) -> BoxedStrategy<String> {
    if noisy {
        prop_oneof![12 => select(good), 1 => select(bad)].boxed()
    } else {
        select(good).boxed()
    }
}

fn pick(good: &'static [&'static str], bad: &'static [&'static str]) -> BoxedStrategy<String> {
    pick_from(good, bad, true)
}

fn name() -> BoxedStrategy<String> {
    pick(NAMES, BAD_NAMES)
}

fn schema_from(noisy: bool) -> BoxedStrategy<String> {
    pick_from(SCHEMAS, BAD_SCHEMAS, noisy)
}

fn schema() -> BoxedStrategy<String> {
    schema_from(true)
}

const FUNCTION_HEADS: &[&str] = &["java(\"com.example.F\")"];
const BAD_FUNCTION_HEADS: &[&str] = &["python(\"f.F\")", "go(\"f\")", "java", "java(\"a\", \"b\")", "kafka::source"];
const SOURCE_HEADS: &[&str] = &["kafka::source"];
const BAD_SOURCE_HEADS: &[&str] = &["kafka::sink", "nowhere::thing", "java(\"a.S\")"];
const SINK_HEADS: &[&str] = &["elasticsearch::sink"];
const BAD_SINK_HEADS: &[&str] = &["kafka::sink", "kafka::source", "java"];

/// Declarations every generated program starts with, unless the generator leaves them out.
const PRELUDE: &str = r#"use std::io::{kafka, elasticsearch}

pulsar prod {
  web_service_url    = "http://pulsar.pulsar.svc:8080"
  broker_service_url = "pulsar://pulsar.pulsar.svc:6650"
}

defaults { cluster = prod, tenant = "shop", namespace = "orders" }

@class("com.shop.Order")
schema Order = avro { id: long, note: string? = null }

@class("com.shop.Enriched")
schema Enriched = json { id: long, tier: enum Tier { gold, silver } }
"#;

fn select(items: &'static [&'static str]) -> impl Strategy<Value = String> {
    prop::sample::select(items).prop_map(str::to_string)
}

/// A block of settings; `first` is written first (with probability 0.85 when `noisy`) (a function's `jar`, say).
fn block(first: &'static [&'static str]) -> impl Strategy<Value = String> {
    block_from(first, FUNCTION_SETTINGS, true)
}

fn block_from(
    first: &'static [&'static str],
    settings: &'static [&'static str],
    noisy: bool,
) -> impl Strategy<Value = String> {
    let first =
        if noisy { prop::option::weighted(0.85, select(first)).boxed() } else { select(first).prop_map(Some).boxed() };
    (first, prop::collection::vec(pick_from(settings, BAD_SETTINGS, noisy), 0..4)).prop_map(|(first, mut rest)| {
        rest.splice(0..0, first);
        format!("{{\n  {}\n}}", rest.join("\n  "))
    })
}

fn declaration() -> impl Strategy<Value = String> {
    let function = (
        name(),
        prop::collection::vec(schema(), 0..3),
        prop::option::weighted(0.8, schema()),
        pick(FUNCTION_HEADS, BAD_FUNCTION_HEADS),
        block(&["jar = \"function://shop/orders/f@1.0\""]),
    )
        .prop_map(|(n, ins, out, head, b)| {
            let out = out.map(|o| format!(" -> {o}")).unwrap_or_default();
            format!("function {n}({}){out} = {head} {b}", ins.join(", "))
        });
    let source = (name(), pick(SOURCE_HEADS, BAD_SOURCE_HEADS), block(&[KAFKA_SOURCE]))
        .prop_map(|(n, h, b)| format!("source {n} = {h} {b}"));
    let sink = (name(), pick(SINK_HEADS, BAD_SINK_HEADS), block(&[ES_SINK]))
        .prop_map(|(n, h, b)| format!("sink {n} = {h} {b}"));
    let chain = prop::collection::vec(name(), 1..6).prop_map(|c| c.join(" -> "));
    let pipeline = (name(), prop::collection::vec(chain, 0..3))
        .prop_map(|(n, chains)| format!("pipeline {n} {{\n  {}\n}}", chains.join("\n  ")));
    prop_oneof![
        3 => (name(), schema(), select(&["", "", " compat backward", " compat none", " compat sideways",
            " external", " history [Order]"]))
            .prop_map(|(n, s, a)| format!("topic {n} : {s}{a}")),
        1 => (name(), schema()).prop_map(|(n, s)| format!("schema {n} = {s}")),
        3 => function,
        2 => source,
        2 => sink,
        3 => pipeline,
        1 => (name(), name(), name())
            .prop_map(|(p, a, b)| format!("pipeline {p} {{ [{a}, {b}] -> {a} }}")),
        1 => select(&[
            "use std::io::kafka",
            "use std::io::nothing",
            "use \"missing.mesh\"",
            "pulsar prod { web_service_url = \"http://p:8080\", broker_service_url = \"pulsar://p:6650\" }",
            "pulsar other { web_service_url = \"ftp://p\" }",
            "defaults { cluster = prod\n resources { cpu = 200m, memory = 512Mi } }",
            "profile staging { replicas = 1 }",
            "let n = 3",
            "let s = secret(\"a\", \"b\")",
            "connector mine { config { url: string } produces: bytes }",
        ]),
    ]
}

const TOPIC_ATTRS: &[&str] = &[
    "",
    "",
    "",
    " external",
    " compat backward",
    " compat forward_transitive",
    " compat always_compatible",
    " history [Order]",
];
const BAD_TOPIC_ATTRS: &[&str] = &[" compat none", " compat sideways", " external external", " history []"];

/// A function's input types: one, or (sometimes, when `noisy`) any number.
fn inputs(noisy: bool) -> BoxedStrategy<Vec<String>> {
    let one = prop::collection::vec(schema_from(noisy), 1..2);
    if noisy {
        prop_oneof![6 => one, 1 => prop::collection::vec(schema_from(noisy), 0..4)].boxed()
    } else {
        one.boxed()
    }
}

/// A program whose declarations fit together: each name declared once, pipelines that alternate declared
/// topics and components (with the source first and the sink last when there are ones). When `noisy`, some
/// choices are wrong and a few random declarations follow.
fn coherent(noisy: bool) -> impl Strategy<Value = String> {
    const TOPICS: [&str; 4] = ["orders", "enriched", "rejected", "raw"];
    const FUNCTIONS: [&str; 3] = ["enrich", "audit", "score"];
    let topics = prop::collection::vec(
        (prop::bool::weighted(0.8), schema_from(noisy), pick_from(TOPIC_ATTRS, BAD_TOPIC_ATTRS, noisy)),
        TOPICS.len(),
    );
    let function = (
        prop::bool::weighted(0.7),
        inputs(noisy),
        prop::option::weighted(0.8, schema_from(noisy)),
        pick_from(FUNCTION_HEADS, BAD_FUNCTION_HEADS, noisy),
        block_from(&["jar = \"function://shop/orders/f@1.0\""], FUNCTION_SETTINGS, noisy),
    );
    let functions = prop::collection::vec(function, FUNCTIONS.len());
    let source = prop::option::weighted(
        0.6,
        (pick_from(SOURCE_HEADS, BAD_SOURCE_HEADS, noisy), block_from(&[KAFKA_SOURCE], SETTINGS, noisy)),
    );
    let sink = prop::option::weighted(
        0.6,
        (pick_from(SINK_HEADS, BAD_SINK_HEADS, noisy), block_from(&[ES_SINK], SETTINGS, noisy)),
    );
    let chains = prop::collection::vec(prop::collection::vec(any::<usize>(), 2..6), 1..3);
    let extra = prop::collection::vec(declaration(), if noisy { 0..3 } else { 0..1 });
    (topics, functions, source, sink, chains, extra).prop_map(|(topics, functions, source, sink, chains, extra)| {
        let mut out = Vec::new();
        let mut declared_topics = Vec::new();
        for (name, (present, schema, attr)) in TOPICS.iter().zip(topics) {
            if present {
                out.push(format!("topic {name} : {schema}{attr}"));
                declared_topics.push(*name);
            }
        }
        let mut declared_functions = Vec::new();
        for (name, (present, ins, ret, head, block)) in FUNCTIONS.iter().zip(functions) {
            if present {
                let ret = ret.map(|r| format!(" -> {r}")).unwrap_or_default();
                out.push(format!("function {name}({}){ret} = {head} {block}", ins.join(", ")));
                declared_functions.push(*name);
            }
        }
        if let Some((head, block)) = &source {
            out.push(format!("source from_kafka = {head} {block}"));
        }
        if let Some((head, block)) = &sink {
            out.push(format!("sink to_es = {head} {block}"));
        }
        let pick = |names: &[&'static str], i: usize| names.get(i % names.len().max(1)).copied().unwrap_or("orders");
        let mut lines = Vec::new();
        for chain in chains {
            // Components and topics alternate; a chain starts at the source or at a topic.
            let from_source = source.is_some() && chain[0] % 2 == 0;
            let last = chain.len() - 1;
            let steps: Vec<&str> = chain
                .iter()
                .enumerate()
                .map(|(i, &r)| match (i, (i % 2 == 0) == from_source) {
                    (0, true) => "from_kafka",
                    (i, true) if i == last && sink.is_some() && r % 2 == 0 => "to_es",
                    (_, true) => pick(&declared_functions, r),
                    (_, false) => pick(&declared_topics, r),
                })
                .collect();
            lines.push(steps.join(" -> "));
        }
        out.push(format!("pipeline shop {{\n  {}\n}}", lines.join("\n  ")));
        out.extend(extra);
        out.join("\n\n")
    })
}

const KAFKA_SOURCE: &str = "bootstrap_servers = \"k:9092\"\n  topic = \"t\"\n  group_id = \"g\"\n  value = Order";
const ES_SINK: &str = "elastic_search_url = \"http://es:9200\"\n  index_name = \"orders\"";

/// A mutation applied to a generated program: nothing, or delete / insert / duplicate text at a position.
#[derive(Clone, Debug)]
enum Mutation {
    None,
    Delete(usize, usize),
    Insert(usize, &'static str),
    Swap(usize, usize),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        4 => Just(Mutation::None),
        1 => (any::<usize>(), 1usize..20).prop_map(|(at, n)| Mutation::Delete(at, n)),
        1 => (any::<usize>(), prop::sample::select(&["{", "}", "\"", "/*", "->", "\n", "é", "(", "<", "@", "::"][..]))
            .prop_map(|(at, s)| Mutation::Insert(at, s)),
        1 => (any::<usize>(), any::<usize>()).prop_map(|(a, b)| Mutation::Swap(a, b)),
    ]
}

/// The char boundary at or before `at % (len + 1)`.
fn boundary(text: &str, at: usize) -> usize {
    let mut i = at % (text.len() + 1);
    while !text.is_char_boundary(i) {
        i -= 1;
    }
    i
}

fn apply(text: String, m: &Mutation) -> String {
    match *m {
        Mutation::None => text,
        Mutation::Delete(at, n) => {
            let start = boundary(&text, at);
            let end = boundary(&text, (start + n).min(text.len()));
            format!("{}{}", &text[..start], &text[end..])
        }
        Mutation::Insert(at, s) => {
            let at = boundary(&text, at);
            format!("{}{s}{}", &text[..at], &text[at..])
        }
        Mutation::Swap(a, b) => {
            let (a, b) = (boundary(&text, a), boundary(&text, b));
            let (a, b) = (a.min(b), a.max(b));
            format!("{}{}{}", &text[b..], &text[a..b], &text[..a])
        }
    }
}

/// Alternatives for one setting: a template picks at most one of each group, so nothing is set twice.
const FUNCTION_GROUPS: &[&[&str]] = &[
    &["replicas = 2", "replicas = 1..4", "replicas = 3..3"],
    &["guarantee = atleast_once", "guarantee = atmost_once", "guarantee = effectively_once"],
    &["resources { cpu = 200m, memory = 512Mi }", "resources { cpu = 2, memory = 1Gi }"],
    &["labels { team = \"data\" }"],
    &["max_retries = 3\n  dead_letter = rejected", "max_retries = 0", "timeout = 30s"],
    &["config { threshold = 100, currency = \"EUR\", nested { a = [1, 2.5, true] } }"],
    &["subscription = \"sub\"", "retain_ordering = true"],
    &["window { length = 10, slide = 5 }"],
    &["secrets { token = secret(\"s\", \"k\") }"],
];
const CONNECTOR_GROUPS: &[&[&str]] = &[
    &["replicas = 2", "replicas = 1..4"],
    &["guarantee = atleast_once", "guarantee = atmost_once", "guarantee = effectively_once"],
    &["resources { cpu = 500m, memory = 2Gi }"],
    &["labels { team = \"data\" }"],
];
const ES_GROUPS: &[&[&str]] = &[&["username = secret(\"es\", \"user\")\n  password = secret(\"es\", \"password\")"]];

/// At most one setting of each group, each group with probability one half.
fn settings_of(groups: &'static [&'static [&'static str]]) -> impl Strategy<Value = String> {
    let choices: Vec<_> = groups.iter().map(|g| prop::option::of(prop::sample::select(*g))).collect();
    choices.prop_map(|chosen| chosen.into_iter().flatten().map(|s| format!("\n  {s}")).collect())
}

/// Variations of one valid program (source, topic, function, topic, sink, and a second reader), which
/// mostly compile: the emitter sees many combinations of settings.
fn template() -> impl Strategy<Value = String> {
    let enriched = select(&["Enriched", "Order", "avro { id: long }", "json { a: string? = null }"]);
    let attr = || select(&["", "", " compat backward", " compat full_transitive", " compat always_compatible"]);
    (
        enriched,
        attr(),
        attr(),
        settings_of(CONNECTOR_GROUPS),
        settings_of(FUNCTION_GROUPS),
        settings_of(FUNCTION_GROUPS),
        (settings_of(CONNECTOR_GROUPS), settings_of(ES_GROUPS)),
        any::<bool>(),
    )
        .prop_map(|(schema, orders_attr, enriched_attr, source, enrich, audit, (sink, es), second_reader)| {
            let (audit_decl, audit_edge) = if second_reader {
                (
                    format!("function audit({schema}) = java(\"com.shop.Audit\") {{\n  jar = \"a.jar\"{audit}\n}}\n"),
                    "\n  enriched -> audit",
                )
            } else {
                (String::new(), "")
            };
            format!(
                "{PRELUDE}
topic orders : Order{orders_attr}
topic enriched : {schema}{enriched_attr}
topic rejected : bytes external

source from_kafka = kafka::source {{\n  {KAFKA_SOURCE}{source}\n}}

function enrich(Order) -> {schema} = java(\"com.shop.Enrich\") {{\n  jar = \"enrich.jar\"{enrich}\n}}
{audit_decl}
sink to_es = elasticsearch::sink {{\n  {ES_SINK}{sink}{es}\n}}

pipeline shop {{\n  from_kafka -> orders -> enrich -> enriched -> to_es{audit_edge}\n}}
"
            )
        })
}

/// Programs of four kinds: variations of a valid program (which mostly compile and reach the emitter),
/// coherent ones, coherent ones with mistakes, and random declarations; the last two sometimes without the
/// prelude, or with their text mutated.
fn program() -> impl Strategy<Value = String> {
    let clean = prop_oneof![
        2 => template(),
        1 => coherent(false).prop_map(|decls| format!("{PRELUDE}{decls}\n")),
    ];
    let noisy = prop_oneof![
        2 => coherent(true),
        1 => prop::collection::vec(declaration(), 0..10).prop_map(|decls| decls.join("\n\n")),
    ];
    let noisy = (prop::bool::weighted(0.8), noisy, mutation()).prop_map(|(prelude, decls, m)| {
        let text = format!("{}{decls}\n", if prelude { PRELUDE } else { "" });
        apply(text, &m)
    });
    prop_oneof![1 => clean, 1 => noisy]
}

proptest! {
    // PROPTEST_CASES=5000 searches harder.
    #![proptest_config(ProptestConfig {
        cases: std::env::var("PROPTEST_CASES").ok().and_then(|n| n.parse().ok()).unwrap_or(200),
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    #[test]
    fn generated_programs_never_panic_and_spans_stay_in_their_file(text in program(), mesh in any::<bool>()) {
        let checked = compile_text("generated.mesh", &text, mesh, true);
        // A program either compiles to objects or reports at least one error, never both, never neither.
        prop_assert_eq!(checked.has_objects, checked.errors() == 0, "codes: {:?}", checked.codes());
    }
}
