//! The parser driver: runs the pest grammar one top-level declaration at a time
//! and turns pest pairs into the syntax tree. A declaration that fails to parse
//! becomes one diagnostic, and parsing resumes at the next line that starts a
//! declaration, so one run reports every broken declaration.

use super::ast::*;
use crate::diag::Diagnostic;
use crate::source::{FileId, Span};
use pest::iterators::Pair;
use pest::Parser as _;

#[derive(pest_derive::Parser)]
#[grammar = "../grammar/mesh.pest"]
struct MeshParser;

/// Brackets nested deeper than this are refused before the parser sees them,
/// so no input can exhaust the stack of the recursive parser or of later passes.
pub const MAX_NESTING: usize = 64;

/// Words that start a top-level declaration.
pub(crate) const DECL_KEYWORDS: &[&str] = &[
    "use",
    "pulsar",
    "defaults",
    "schema",
    "topic",
    "source",
    "function",
    "sink",
    "pipeline",
    "let",
    "profile",
    "connector",
];

/// Pest's detailed error tracking (which literal tokens were expected) is a
/// process-wide switch that slows every parse down; it is turned on only to
/// re-parse a failed declaration, one such re-parse at a time.
static DETAIL: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn parse_rule(rule: Rule, input: &str) -> Result<pest::iterators::Pairs<'_, Rule>, pest::error::Error<Rule>> {
    match MeshParser::parse(rule, input) {
        Ok(pairs) => Ok(pairs),
        Err(_) => {
            let _guard = DETAIL.lock().unwrap_or_else(|e| e.into_inner());
            pest::set_error_detail(true);
            let detailed = MeshParser::parse(rule, input);
            pest::set_error_detail(false);
            detailed
        }
    }
}

pub fn parse_file(file: FileId, text: &str) -> (File, Vec<Diagnostic>) {
    let mut decls = Vec::new();
    let mut diags = Vec::new();
    let (deep, open_comment) = scan_structure(text);
    let mut off = skip_trivia(text, 0);
    while off < text.len() {
        let resync = next_decl_start(text, off + 1).unwrap_or(text.len());
        // Never let the parser reach into a region with runaway nesting.
        let limit = deep.iter().find(|d| d.start >= off).map(|d| d.start);
        if let Some(d) = deep.iter().find(|d| d.start == off || (d.start >= off && d.at < resync)) {
            let pos = d.at;
            // Skip the whole nested region, whatever lines inside it look like.
            let resync = next_decl_start(text, d.end).unwrap_or(text.len());
            diags.push(
                Diagnostic::new(
                    "E0002",
                    format!("nesting deeper than {MAX_NESTING} levels"),
                    Span::new(file, pos, pos + 1),
                    "this bracket is too deeply nested",
                )
                .help("flatten the value; no pipeline setting needs this much nesting"),
            );
            off = skip_trivia(text, resync);
            continue;
        }
        let end = limit.filter(|&l| l > off).unwrap_or(text.len());
        match parse_rule(Rule::decl_only, &text[off..end]) {
            Ok(mut pairs) => {
                let Some(pair) = pairs.next() else { break };
                let b = Builder { file, base: off };
                let consumed = pair.as_span().end();
                let next = skip_trivia(text, off + consumed);
                // An optional `{ ... }` body that fails to parse is skipped by
                // the grammar, leaving the declaration to end before it; parse
                // the body alone to report the real error inside it.
                if text[next..].starts_with('{') {
                    if let Err(e) = parse_rule(Rule::map, &text[next..end.max(next)]) {
                        diags.push(syntax_error(file, text, next, &e));
                        off = skip_trivia(text, next_decl_start(text, next).unwrap_or(text.len()));
                        continue;
                    }
                }
                match b.decl(pair) {
                    Ok(d) => decls.push(d),
                    Err(d) => diags.push(d),
                }
                if next < text.len() && !starts_decl(text, next) {
                    diags.push(unexpected_after_decl(file, text, next));
                    off = skip_trivia(text, next_decl_start(text, next).unwrap_or(text.len()));
                } else {
                    off = next;
                }
            }
            Err(e) => {
                diags.push(syntax_error(file, text, off, &e));
                off = skip_trivia(text, resync);
            }
        }
    }
    if let Some(start) = open_comment {
        diags.push(
            Diagnostic::new(
                "E0001",
                "unterminated block comment",
                Span::new(file, start, start + 2),
                "this `/*` is never closed",
            )
            .help("close it with `*/`"),
        );
    }
    (File { id: file, decls }, diags)
}

/// A parse of a single value, for command-line overrides and tests.
pub fn parse_value(file: FileId, text: &str) -> Result<Value, Diagnostic> {
    if !scan_structure(text).0.is_empty() {
        return Err(Diagnostic::new(
            "E0002",
            format!("nesting deeper than {MAX_NESTING} levels"),
            Span::new(file, 0, text.len()),
            "too deeply nested",
        ));
    }
    let mut pairs = parse_rule(Rule::value, text).map_err(|e| syntax_error(file, text, 0, &e))?;
    let pair = pairs
        .next()
        .ok_or_else(|| Diagnostic::new("E0001", "expected a value", Span::new(file, 0, text.len()), "here"))?;
    if pair.as_span().end() != text.trim_end().len() {
        let at = pair.as_span().end();
        return Err(Diagnostic::new(
            "E0001",
            "unexpected text after the value",
            Span::new(file, at, text.len()),
            "not part of the value",
        ));
    }
    Builder { file, base: 0 }.value(pair)
}

fn unexpected_after_decl(file: FileId, text: &str, at: usize) -> Diagnostic {
    let end = token_end(text, at);
    Diagnostic::new(
        "E0001",
        format!("expected a declaration, found `{}`", &text[at..end]),
        Span::new(file, at, end),
        "expected `topic`, `function`, `source`, `sink`, `pipeline`, ... here",
    )
    .note("every top-level declaration starts with a keyword; settings belong inside `{ ... }`")
}

fn token_end(text: &str, at: usize) -> usize {
    let rest = &text[at..];
    let mut end = 0;
    for (i, c) in rest.char_indices() {
        if c.is_whitespace() || (i > 0 && !(c.is_alphanumeric() || c == '_')) {
            break;
        }
        end = i + c.len_utf8();
        if !(c.is_alphanumeric() || c == '_') {
            break;
        }
    }
    at + end.max(rest.chars().next().map_or(0, char::len_utf8))
}

fn starts_decl(text: &str, at: usize) -> bool {
    let rest = &text[at..];
    rest.starts_with('@')
        || DECL_KEYWORDS
            .iter()
            .any(|k| rest.starts_with(k) && !rest[k.len()..].starts_with(|c: char| c.is_alphanumeric() || c == '_'))
}

/// The next line, at or after `from`, that begins in column 0 with a
/// declaration keyword or an annotation.
fn next_decl_start(text: &str, from: usize) -> Option<usize> {
    let mut pos = from.min(text.len());
    // `from` may fall inside a multi-byte character; move to its end.
    while !text.is_char_boundary(pos) {
        pos += 1;
    }
    // Move to the start of the next line unless already at one.
    if pos > 0 && text.as_bytes()[pos - 1] != b'\n' {
        pos = text[pos..].find('\n').map(|i| pos + i + 1)?;
    }
    while pos < text.len() {
        if starts_decl(text, pos) {
            return Some(pos);
        }
        pos = text[pos..].find('\n').map(|i| pos + i + 1)?;
    }
    None
}

/// Skips whitespace and comments.
fn skip_trivia(text: &str, mut pos: usize) -> usize {
    let bytes = text.as_bytes();
    loop {
        while pos < bytes.len() && (bytes[pos].is_ascii_whitespace()) {
            pos += 1;
        }
        if text[pos..].starts_with('\u{FEFF}') {
            pos += '\u{FEFF}'.len_utf8();
            continue;
        }
        if text[pos..].starts_with("//") {
            pos = text[pos..].find('\n').map_or(text.len(), |i| pos + i + 1);
            continue;
        }
        if text[pos..].starts_with("/*") {
            pos = block_comment_end(text, pos);
            continue;
        }
        return pos;
    }
}

fn block_comment_end(text: &str, start: usize) -> usize {
    block_comment_close(text, start).unwrap_or(text.len())
}

/// The end of the (possibly nested) block comment starting at `start`, or
/// `None` when it is never closed.
pub(crate) fn block_comment_close(text: &str, start: usize) -> Option<usize> {
    let bytes = text.as_bytes();
    let mut depth = 0usize;
    let mut i = start;
    while i + 1 < bytes.len() {
        if bytes[i] == b'/' && bytes[i + 1] == b'*' {
            depth += 1;
            i += 2;
        } else if bytes[i] == b'*' && bytes[i + 1] == b'/' {
            depth -= 1;
            i += 2;
            if depth == 0 {
                return Some(i);
            }
        } else {
            i += 1;
        }
    }
    None
}

/// A declaration region (from one declaration start to the next, outside
/// brackets) that nests brackets deeper than [`MAX_NESTING`].
struct TooDeep {
    start: usize,
    /// The first bracket past the limit.
    at: usize,
    /// Where the nesting is closed again (or the end of the text).
    end: usize,
}

/// One pass over the text, outside strings and comments: the regions nested
/// too deeply, and the start of a block comment left open, if any.
fn scan_structure(text: &str) -> (Vec<TooDeep>, Option<usize>) {
    let bytes = text.as_bytes();
    let mut found = Vec::new();
    let mut region = 0usize;
    let mut depth = 0usize;
    let mut reported = false;
    let mut i = 0;
    let mut line_start = true;
    while i < bytes.len() {
        // A line that looks like a declaration starts a new region only
        // outside brackets, or nesting could hide behind keyword lines.
        if line_start && depth == 0 && starts_decl(text, i) {
            region = i;
            reported = false;
        }
        line_start = false;
        match bytes[i] {
            b'\n' => line_start = true,
            b'"' => {
                i += 1;
                while i < bytes.len() && bytes[i] != b'"' && bytes[i] != b'\n' {
                    i += if bytes[i] == b'\\' { 2 } else { 1 };
                }
            }
            b'/' if bytes.get(i + 1) == Some(&b'/') => {
                while i < bytes.len() && bytes[i] != b'\n' {
                    i += 1;
                }
                continue;
            }
            b'/' if bytes.get(i + 1) == Some(&b'*') => match block_comment_close(text, i) {
                Some(end) => {
                    i = end;
                    continue;
                }
                None => return (found, Some(i)),
            },
            b'(' | b'[' | b'{' | b'<' => {
                depth += 1;
                if depth > MAX_NESTING && !reported {
                    found.push(TooDeep { start: region, at: i, end: text.len() });
                    reported = true;
                }
            }
            b')' | b']' | b'}' | b'>' if bytes[i] != b'>' || i == 0 || bytes[i - 1] != b'-' => {
                depth = depth.saturating_sub(1);
                if depth == 0 && reported {
                    if let Some(last) = found.last_mut() {
                        last.end = last.end.min(i + 1);
                    }
                }
            }
            _ => {}
        }
        i += 1;
    }
    (found, None)
}

/// Literal tokens worth naming in "expected ..." messages; the others (unit
/// suffixes, digit separators) would only be noise.
const MEANINGFUL_TOKENS: &[&str] = &[
    "=", "{", "}", "(", ")", "[", "]", ",", ":", "->", "<", ">", "::", "@", "compat", "history", "external", "record",
    "enum", "fixed",
];

fn rule_name(rule: &Rule) -> Option<&'static str> {
    Some(match rule {
        Rule::ident | Rule::path => "a name",
        Rule::string | Rule::string_body => "a string",
        Rule::value => "a value",
        Rule::int => "an integer",
        Rule::item | Rule::key => "a setting",
        Rule::map => "`{`",
        Rule::type_expr => "a type",
        Rule::decl => "a declaration",
        Rule::endpoint | Rule::chain => "a component or topic name",
        Rule::field => "a field",
        Rule::compat_attr => "`compat`",
        Rule::history_attr => "`history`",
        Rule::external_attr => "`external`",
        Rule::annotation => "an annotation",
        Rule::enum_symbol => "an enum symbol",
        _ => return None,
    })
}

fn syntax_error(file: FileId, text: &str, base: usize, e: &pest::error::Error<Rule>) -> Diagnostic {
    use pest::error::{ErrorVariant, InputLocation};
    let pos = match e.location {
        InputLocation::Pos(p) => p,
        InputLocation::Span((s, _)) => s,
    };
    let mut expected: Vec<String> = Vec::new();
    if let Some(attempts) = e.parse_attempts() {
        for token in attempts.expected_tokens() {
            let token = token.to_string();
            if MEANINGFUL_TOKENS.contains(&token.as_str()) || DECL_KEYWORDS.contains(&token.as_str()) {
                expected.push(format!("`{token}`"));
            }
        }
    }
    if let ErrorVariant::ParsingError { positives, .. } = &e.variant {
        for r in positives {
            if let Some(n) = rule_name(r) {
                expected.push(n.to_string());
            }
        }
    }
    // Keywords appear as tokens too; show them once, in a stable order.
    expected.sort();
    expected.dedup();
    let abs = base + pos;
    let found_end = if abs < text.len() { token_end(text, abs) } else { abs };
    let found = if abs >= text.len() {
        "end of file".to_string()
    } else {
        format!("`{}`", &text[abs..found_end].escape_debug())
    };
    let what = match expected.len() {
        0 => "unexpected input".to_string(),
        1 => format!("expected {}", expected[0]),
        n if n <= 8 => format!("expected one of {}", expected.join(", ")),
        _ => format!("expected one of {}, ...", expected[..8].join(", ")),
    };
    let span_end = found_end.max(abs + 1).min(text.len().max(abs));
    let mut d = Diagnostic::new(
        "E0001",
        format!("syntax error: {what}, found {found}"),
        Span::new(file, abs, span_end),
        what.clone(),
    );
    if text[abs.min(text.len())..].starts_with('\'') {
        d = d.help("strings use double quotes: \"...\"");
    }
    d
}

/// Turns pest pairs into syntax nodes; `base` is the byte offset of the
/// parsed slice in its file.
struct Builder {
    file: FileId,
    base: usize,
}

type R<T> = Result<T, Diagnostic>;

impl Builder {
    fn span(&self, p: &Pair<Rule>) -> Span {
        let s = p.as_span();
        // Pest counts whitespace skipped before a failed optional part as
        // part of the rule; labels should end at the last real character.
        let end = s.start() + p.as_str().trim_end().len();
        Span::new(self.file, self.base + s.start(), self.base + end)
    }

    fn ident(&self, p: Pair<Rule>) -> Ident {
        Ident { name: p.as_str().to_string(), span: self.span(&p) }
    }

    fn path(&self, p: Pair<Rule>) -> Path {
        let span = self.span(&p);
        Path { segments: p.into_inner().map(|i| self.ident(i)).collect(), span }
    }

    fn decl(&self, p: Pair<Rule>) -> R<Decl> {
        let span = self.span(&p);
        let mut annotations = Vec::new();
        let mut kind = None;
        for inner in p.into_inner() {
            match inner.as_rule() {
                Rule::annotation => annotations.push(self.annotation(inner)?),
                _ => kind = Some(self.decl_kind(inner)?),
            }
        }
        let kind = kind.ok_or_else(|| Diagnostic::new("E0001", "expected a declaration", span, "here"))?;
        Ok(Decl { annotations, kind, span })
    }

    fn annotation(&self, p: Pair<Rule>) -> R<Annotation> {
        let span = self.span(&p);
        let mut it = p.into_inner();
        let name = self.ident(it.next().expect("grammar: annotation name"));
        let args = it.map(|v| self.value(v)).collect::<R<Vec<_>>>()?;
        Ok(Annotation { name, args, span })
    }

    fn decl_kind(&self, p: Pair<Rule>) -> R<DeclKind> {
        let rule = p.as_rule();
        let span = self.span(&p);
        let mut it = p.into_inner().filter(|i| !is_keyword(i.as_rule())).peekable();
        Ok(match rule {
            Rule::use_decl => {
                let target = it.next().expect("grammar: use target");
                match target.as_rule() {
                    Rule::string => {
                        let s = self.string(target)?;
                        DeclKind::Use(UseDecl::File { path: s.0, span: s.1 })
                    }
                    _ => {
                        let tspan = self.span(&target);
                        let mut segments = Vec::new();
                        let mut items = Vec::new();
                        for part in target.into_inner() {
                            match part.as_rule() {
                                Rule::use_group => items.extend(part.into_inner().map(|i| self.ident(i))),
                                _ => segments.push(self.ident(part)),
                            }
                        }
                        DeclKind::Use(UseDecl::Module { path: Path { segments, span: tspan }, items })
                    }
                }
            }
            Rule::pulsar_decl => {
                let name = self.ident(it.next().expect("grammar: pulsar name"));
                let body = self.block(it.next().expect("grammar: pulsar body"))?;
                DeclKind::Pulsar(PulsarDecl { name, body })
            }
            Rule::defaults_decl => DeclKind::Defaults(self.block(it.next().expect("grammar: defaults body"))?),
            Rule::let_decl => {
                let name = self.ident(it.next().expect("grammar: let name"));
                let value = self.value(it.next().expect("grammar: let value"))?;
                DeclKind::Let(LetDecl { name, value })
            }
            Rule::profile_decl => {
                let name = self.ident(it.next().expect("grammar: profile name"));
                let body = self.block(it.next().expect("grammar: profile body"))?;
                DeclKind::Profile(ProfileDecl { name, body })
            }
            Rule::schema_decl => {
                let name = self.ident(it.next().expect("grammar: schema name"));
                let ty = self.type_expr(it.next().expect("grammar: schema type"))?;
                DeclKind::Schema(SchemaDecl { name, ty })
            }
            Rule::topic_decl => {
                let name = self.ident(it.next().expect("grammar: topic name"));
                let ty = self.type_expr(it.next().expect("grammar: topic type"))?;
                let mut t = TopicDecl { name, ty, compat: None, history: None, external: None, body: None };
                for attr in it {
                    let aspan = self.span(&attr);
                    match attr.as_rule() {
                        Rule::compat_attr => {
                            let id = attr.into_inner().find(|i| i.as_rule() == Rule::ident).expect("grammar: strategy");
                            if t.compat.is_some() {
                                return Err(Diagnostic::new(
                                    "E0205",
                                    "`compat` is given twice",
                                    aspan,
                                    "second strategy",
                                ));
                            }
                            t.compat = Some(self.ident(id));
                        }
                        Rule::history_attr => {
                            let tys = attr
                                .into_inner()
                                .filter(|i| i.as_rule() == Rule::type_expr)
                                .map(|i| self.type_expr(i))
                                .collect::<R<Vec<_>>>()?;
                            if t.history.is_some() {
                                return Err(Diagnostic::new(
                                    "E0205",
                                    "`history` is given twice",
                                    aspan,
                                    "second history",
                                ));
                            }
                            t.history = Some((tys, aspan));
                        }
                        Rule::external_attr => t.external = Some(aspan),
                        Rule::map => t.body = Some(self.block(attr)?),
                        _ => {}
                    }
                }
                DeclKind::Topic(t)
            }
            Rule::source_decl | Rule::sink_decl | Rule::function_decl => {
                let kind = match rule {
                    Rule::source_decl => ComponentKind::Source,
                    Rule::sink_decl => ComponentKind::Sink,
                    _ => ComponentKind::Function,
                };
                let name = self.ident(it.next().expect("grammar: component name"));
                let mut c = ComponentDecl {
                    kind,
                    name,
                    params: Vec::new(),
                    output: None,
                    head: Path { segments: Vec::new(), span },
                    head_args: Vec::new(),
                    body: None,
                };
                for part in it {
                    match part.as_rule() {
                        Rule::params => {
                            c.params = part.into_inner().map(|t| self.type_expr(t)).collect::<R<Vec<_>>>()?
                        }
                        Rule::type_expr => c.output = Some(self.type_expr(part)?),
                        Rule::component_head => {
                            let mut h = part.into_inner();
                            c.head = self.path(h.next().expect("grammar: head path"));
                            c.head_args = h.map(|v| self.value(v)).collect::<R<Vec<_>>>()?;
                        }
                        Rule::map => c.body = Some(self.block(part)?),
                        _ => {}
                    }
                }
                DeclKind::Component(c)
            }
            Rule::pipeline_decl => {
                let name = self.ident(it.next().expect("grammar: pipeline name"));
                let chains = it
                    .map(|chain| {
                        let cspan = self.span(&chain);
                        let steps = chain
                            .into_inner()
                            .map(|ep| {
                                let espan = self.span(&ep);
                                let inner = ep.into_inner().next().expect("grammar: endpoint");
                                let names = match inner.as_rule() {
                                    Rule::group => inner.into_inner().map(|p| self.path(p)).collect(),
                                    _ => vec![self.path(inner)],
                                };
                                Endpoint { names, span: espan }
                            })
                            .collect();
                        Chain { steps, span: cspan }
                    })
                    .collect();
                DeclKind::Pipeline(PipelineDecl { name, chains })
            }
            Rule::connector_decl => {
                let name = self.ident(it.next().expect("grammar: connector name"));
                let mut c = ConnectorDecl {
                    name,
                    settings: Block { items: Vec::new(), span },
                    produces: None,
                    accepts: None,
                    config: None,
                };
                for member in it {
                    let mspan = self.span(&member);
                    match member.as_rule() {
                        Rule::connector_config => {
                            if c.config.is_some() {
                                return Err(Diagnostic::new(
                                    "E0205",
                                    "`config` is given twice",
                                    mspan,
                                    "second `config` block",
                                ));
                            }
                            let fields = member.into_inner().next().expect("grammar: config fields");
                            c.config = Some(self.fields(fields)?);
                        }
                        Rule::connector_io => {
                            let mut parts = member.into_inner();
                            let kind = parts.next().expect("grammar: io kind").as_str().to_string();
                            let tys = parts.map(|t| self.type_expr(t)).collect::<R<Vec<_>>>()?;
                            let slot = if kind == "produces" { &mut c.produces } else { &mut c.accepts };
                            if slot.is_some() {
                                return Err(Diagnostic::new(
                                    "E0205",
                                    format!("`{kind}` is given twice"),
                                    mspan,
                                    "second declaration",
                                ));
                            }
                            *slot = Some((tys, mspan));
                        }
                        _ => c.settings.items.push(self.item(member)?),
                    }
                }
                DeclKind::Connector(c)
            }
            _ => return Err(Diagnostic::new("E0001", "expected a declaration", span, "here")),
        })
    }

    fn block(&self, p: Pair<Rule>) -> R<Block> {
        let span = self.span(&p);
        let items = p.into_inner().map(|item| self.item(item)).collect::<R<Vec<_>>>()?;
        Ok(Block { items, span })
    }

    fn item(&self, item: Pair<Rule>) -> R<Item> {
        let ispan = self.span(&item);
        let mut it = item.into_inner();
        let key_pair = it.next().expect("grammar: key").into_inner().next().expect("grammar: key inner");
        let (key, quoted_key) = match key_pair.as_rule() {
            Rule::string => {
                let (s, sp) = self.string(key_pair)?;
                (Ident { name: s, span: sp }, true)
            }
            _ => (self.ident(key_pair), false),
        };
        let v = it.next().expect("grammar: item value");
        let value = match v.as_rule() {
            Rule::map => {
                let vspan = self.span(&v);
                Value { kind: ValueKind::Map(self.block(v)?), span: vspan }
            }
            _ => self.value(v)?,
        };
        Ok(Item { key, quoted_key, value, span: ispan })
    }

    fn string(&self, p: Pair<Rule>) -> R<(String, Span)> {
        let span = self.span(&p);
        let body = p.into_inner().next().expect("grammar: string body");
        let bspan = self.span(&body);
        let s = unescape(body.as_str()).map_err(|(off, len, msg)| {
            Diagnostic::new(
                "E0003",
                format!("invalid escape in string: {msg}"),
                Span::new(self.file, bspan.start as usize + off, bspan.start as usize + off + len),
                "this escape",
            )
            .help("valid escapes are \\n \\r \\t \\\\ \\\" \\0 and \\u{XXXX}")
        })?;
        Ok((s, span))
    }

    pub(super) fn value(&self, p: Pair<Rule>) -> R<Value> {
        let p = if p.as_rule() == Rule::value { p.into_inner().next().expect("grammar: value inner") } else { p };
        let span = self.span(&p);
        let kind = match p.as_rule() {
            Rule::string => ValueKind::Str(self.string(p)?.0),
            Rule::int => ValueKind::Int(self.int(&p)?),
            Rule::float => {
                let text = p.as_str().replace('_', "");
                let f: f64 = text.parse().map_err(|_| self.number_error(span))?;
                if !f.is_finite() {
                    return Err(self.number_error(span));
                }
                ValueKind::Float(f, p.as_str().to_string())
            }
            Rule::bool => ValueKind::Bool(p.as_str() == "true"),
            Rule::unit_number => {
                let mut it = p.into_inner();
                let number = it.next().expect("grammar: unit number").as_str().replace('_', "");
                let unit = it.next().expect("grammar: unit").as_str().to_string();
                ValueKind::Unit { number, unit }
            }
            Rule::range => {
                let mut it = p.into_inner();
                let a = it.next().expect("grammar: range start");
                let b = it.next().expect("grammar: range end");
                ValueKind::Range(self.int(&a)?, self.int(&b)?)
            }
            Rule::list => ValueKind::List(p.into_inner().map(|v| self.value(v)).collect::<R<Vec<_>>>()?),
            Rule::map => ValueKind::Map(self.block(p)?),
            Rule::call => {
                let mut it = p.into_inner();
                let callee = self.path(it.next().expect("grammar: callee"));
                let args = it.map(|v| self.value(v)).collect::<R<Vec<_>>>()?;
                ValueKind::Call { callee, args }
            }
            Rule::ctor => {
                let mut it = p.into_inner();
                let path = self.path(it.next().expect("grammar: ctor path"));
                let body = self.block(it.next().expect("grammar: ctor body"))?;
                ValueKind::Ctor { path, body }
            }
            Rule::path => ValueKind::Path(self.path(p)),
            _ => return Err(Diagnostic::new("E0001", "expected a value", span, "here")),
        };
        Ok(Value { kind, span })
    }

    fn int(&self, p: &Pair<Rule>) -> R<i64> {
        p.as_str().replace('_', "").parse().map_err(|_| self.number_error(self.span(p)))
    }

    fn number_error(&self, span: Span) -> Diagnostic {
        Diagnostic::new("E0004", "number out of range", span, "does not fit in a 64-bit number")
    }

    fn type_expr(&self, p: Pair<Rule>) -> R<TypeExpr> {
        let span = self.span(&p);
        let mut optional = false;
        let mut kind = None;
        for inner in p.into_inner() {
            let ispan = self.span(&inner);
            match inner.as_rule() {
                Rule::optional => optional = true,
                Rule::path => kind = Some(TypeKind::Named(self.path(inner))),
                Rule::generic_type => {
                    let mut it = inner.into_inner();
                    let name = self.ident(it.next().expect("grammar: generic name"));
                    let args = it.map(|t| self.type_expr(t)).collect::<R<Vec<_>>>()?;
                    kind = Some(TypeKind::Generic { name, args });
                }
                Rule::type_call => {
                    let mut it = inner.into_inner();
                    let name = self.ident(it.next().expect("grammar: type call name"));
                    let args = it.map(|v| self.value(v)).collect::<R<Vec<_>>>()?;
                    kind = Some(TypeKind::Call { name, args });
                }
                Rule::struct_type => {
                    let mut it = inner.into_inner();
                    let format = self.ident(it.next().expect("grammar: struct format"));
                    let fields = self.fields(it.next().expect("grammar: struct fields"))?;
                    kind = Some(TypeKind::Struct { format, fields });
                }
                Rule::record_type => {
                    let mut it = inner.into_inner().filter(|i| !is_keyword(i.as_rule()));
                    let name = self.ident(it.next().expect("grammar: record name"));
                    let fields = self.fields(it.next().expect("grammar: record fields"))?;
                    kind = Some(TypeKind::Record { name, fields });
                }
                Rule::enum_type => {
                    let mut it = inner.into_inner().filter(|i| !is_keyword(i.as_rule()));
                    let name = self.ident(it.next().expect("grammar: enum name"));
                    let symbols = it.map(|s| self.ident(s.into_inner().next().expect("grammar: symbol"))).collect();
                    kind = Some(TypeKind::Enum { name, symbols });
                }
                Rule::fixed_type => {
                    let mut it = inner.into_inner().filter(|i| !is_keyword(i.as_rule()));
                    let name = self.ident(it.next().expect("grammar: fixed name"));
                    let size_pair = it.next().expect("grammar: fixed size");
                    let size = self.int(&size_pair)?;
                    let size = u64::try_from(size).map_err(|_| {
                        Diagnostic::new("E0004", "a fixed size cannot be negative", ispan, "negative size")
                    })?;
                    kind = Some(TypeKind::Fixed { name, size });
                }
                _ => {}
            }
        }
        let kind = kind.ok_or_else(|| Diagnostic::new("E0001", "expected a type", span, "here"))?;
        Ok(TypeExpr { kind, optional, span })
    }

    fn fields(&self, p: Pair<Rule>) -> R<Vec<Field>> {
        p.into_inner()
            .map(|f| {
                let span = self.span(&f);
                let mut annotations = Vec::new();
                let mut name = None;
                let mut ty = None;
                let mut default = None;
                for part in f.into_inner() {
                    match part.as_rule() {
                        Rule::annotation => annotations.push(self.annotation(part)?),
                        Rule::ident => name = Some(self.ident(part)),
                        Rule::type_expr => ty = Some(self.type_expr(part)?),
                        _ => default = Some(self.value(part)?),
                    }
                }
                Ok(Field {
                    annotations,
                    name: name.expect("grammar: field name"),
                    ty: ty.expect("grammar: field type"),
                    default,
                    span,
                })
            })
            .collect()
    }
}

fn is_keyword(rule: Rule) -> bool {
    matches!(
        rule,
        Rule::kw_use
            | Rule::kw_pulsar
            | Rule::kw_defaults
            | Rule::kw_schema
            | Rule::kw_topic
            | Rule::kw_source
            | Rule::kw_function
            | Rule::kw_sink
            | Rule::kw_pipeline
            | Rule::kw_let
            | Rule::kw_profile
            | Rule::kw_compat
            | Rule::kw_history
            | Rule::kw_external
            | Rule::kw_record
            | Rule::kw_enum
            | Rule::kw_fixed
            | Rule::kw_connector
    )
}

/// Resolves escapes; an error gives the byte offset and length of the bad
/// escape within `body` and what is wrong with it.
pub fn unescape(body: &str) -> Result<String, (usize, usize, String)> {
    let mut out = String::with_capacity(body.len());
    let mut chars = body.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        let Some((_, e)) = chars.next() else {
            return Err((i, 1, "a lone backslash".into()));
        };
        match e {
            'n' => out.push('\n'),
            'r' => out.push('\r'),
            't' => out.push('\t'),
            '0' => out.push('\0'),
            '\\' => out.push('\\'),
            '"' => out.push('"'),
            'u' => {
                if chars.next().map(|(_, c)| c) != Some('{') {
                    return Err((i, 2, "expected `{` after \\u".into()));
                }
                let mut hex = String::new();
                let mut closed = false;
                for (_, h) in chars.by_ref() {
                    if h == '}' {
                        closed = true;
                        break;
                    }
                    hex.push(h);
                }
                let len = 3 + hex.len() + usize::from(closed);
                let code = u32::from_str_radix(&hex, 16).ok().filter(|_| closed && !hex.is_empty() && hex.len() <= 6);
                match code.and_then(char::from_u32) {
                    Some(ch) => out.push(ch),
                    None => return Err((i, len, format!("`\\u{{{hex}}}` is not a Unicode scalar value"))),
                }
            }
            other => return Err((i, 1 + other.len_utf8(), format!("unknown escape `\\{other}`"))),
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> (File, Vec<Diagnostic>) {
        parse_file(FileId(0), text)
    }

    #[test]
    fn parses_every_declaration_kind() {
        let src = r#"
use std::io::{kafka, elasticsearch}
use "./other.mesh"
pulsar prod { web_service_url = "http://x:8080", broker_service_url = "pulsar://x:6650" }
defaults { cluster = prod, tenant = "shop", resources { cpu = 200m, memory = 512Mi } }
schema Order = avro { id: long, note: string? = null, tier: enum Tier { gold, silver } }
topic orders : Order compat backward
topic audit : string external
function enrich(Order) -> Order = java("com.shop.Enrich") { jar = "a.jar", replicas = 1..4, }
sink s = elasticsearch::sink { index_name = "orders" }
pipeline p { orders -> enrich -> [a, b] }
let n = 3
profile prod { replicas = 2 }
connector source {
  class = "org.x.Src"
  produces: key_value<json, json>
  accepts: avro | json
  config { servers: string, @sensitive password: string?, @key("a.b") a_b: long = 1 }
}
"#;
        let (file, diags) = parse(src);
        assert!(diags.is_empty(), "{diags:?}");
        assert_eq!(file.decls.len(), 13);
    }

    #[test]
    fn recovers_at_the_next_declaration() {
        let src = "topic a : \ntopic b : string\nfunction f( = java(\"x\")\ntopic c : string\n";
        let (file, diags) = parse(src);
        assert_eq!(diags.len(), 2, "{diags:?}");
        assert!(diags.iter().all(|d| d.code == "E0001"));
        assert_eq!(file.decls.len(), 2);
    }

    #[test]
    fn errors_inside_a_body_point_into_it() {
        let src = "function g(string) = java(\"G\") { jar = \"g.jar\"  replicas = 2 3 }\ntopic t : string\n";
        let (file, diags) = parse(src);
        assert_eq!(diags.len(), 1, "{diags:?}");
        assert_eq!(&src[diags[0].primary.span.range()], "3");
        assert_eq!(file.decls.len(), 1);
    }

    #[test]
    fn non_ascii_garbage_does_not_panic() {
        for src in ["é", "ééé topic", "topic é : string\n", "\u{1F600}\u{1F600}\ntopic t : string\n"] {
            let (_, diags) = parse(src);
            assert!(!diags.is_empty(), "{src:?}");
        }
    }

    #[test]
    fn unterminated_block_comment_is_an_error() {
        for src in ["topic t : string\n/* open\n", "/*/", "topic a : string\n/* outer /* inner */"] {
            let (_, diags) = parse(src);
            assert!(diags.iter().any(|d| d.message == "unterminated block comment"), "{src:?}: {diags:?}");
        }
    }

    #[test]
    fn nesting_behind_keyword_lines_is_refused() {
        let src = format!("let x = {{\n{}{}\n", "let = {\n".repeat(300), "}".repeat(301));
        let (_, diags) = parse(&src);
        assert!(diags.iter().any(|d| d.code == "E0002"), "{diags:?}");
    }

    #[test]
    fn unit_numbers_and_ranges() {
        let v = parse_value(FileId(0), "1..4").unwrap();
        assert_eq!(v.kind, ValueKind::Range(1, 4));
        let v = parse_value(FileId(0), "1.5Gi").unwrap();
        assert_eq!(v.kind, ValueKind::Unit { number: "1.5".into(), unit: "Gi".into() });
        let v = parse_value(FileId(0), "30s").unwrap();
        assert_eq!(v.kind, ValueKind::Unit { number: "30".into(), unit: "s".into() });
    }

    #[test]
    fn string_escapes() {
        assert_eq!(unescape(r#"a\n\"\u{1F600}"#).unwrap(), "a\n\"\u{1F600}");
        assert!(unescape(r"\q").is_err());
        let (_, diags) = parse("let x = \"bad \\q escape\"\n");
        assert_eq!(diags[0].code, "E0003");
        assert_eq!(diags[0].primary.span.start, 13);
    }

    #[test]
    fn deep_nesting_is_refused() {
        let src = format!("let x = {}1{}\ntopic t : string\n", "[".repeat(10_000), "]".repeat(10_000));
        let (file, diags) = parse(&src);
        assert_eq!(diags.len(), 1);
        assert_eq!(diags[0].code, "E0002");
        assert_eq!(file.decls.len(), 1);
    }
}
