//! The formatter: one canonical layout for mesh source, keeping every comment.
//!
//! Layout comes from the syntax tree plus two facts read from the source text:
//! where the comments are (the tree has none) and whether a block or list was
//! written on one line. Formatting preserves both, which is what makes it
//! idempotent.
//!
//! The rules:
//! - Declarations are separated by one blank line. Consecutive one-line `use`
//!   declarations, `topic` declarations, `let` declarations and `schema X = T`
//!   declarations whose type has no body form groups with no blank line
//!   between them, except where the user put one. Never more than one blank
//!   line in a row; none at the start of a block or of the file.
//! - Two-space indentation; `{` ends the line that opens a block; one entry
//!   per line. A block or list stays on one line (`{ a = 1, b = 2 }`, `[1, 2]`)
//!   when it was written on one line, has no comment inside and fits in
//!   [`MAX_WIDTH`] columns from where it starts.
//! - Multi-line blocks have no commas; multi-line lists and enums put a comma
//!   after every element but the last. One-line forms separate with `, `.
//! - `=` signs of consecutive one-line settings in a block are aligned, and so
//!   are the `:` of consecutive topics and the `=` of consecutive `let`s and
//!   one-line schemas. A blank line, a comment line, a nested block or a
//!   multi-line entry ends a run of aligned lines.
//! - Nested blocks are written `key { ... }` (same tree as `key = { ... }`).
//! - Strings are re-escaped from their value; numbers, durations, quantities
//!   and ranges keep their source text (`1.10`, `1_000`).
//! - Declaration annotations go one per line above the declaration; field
//!   annotations stay inline before the field.
//! - Comments: a comment on the line where an entry ends stays at the end of
//!   that line; the trailing comments of consecutive one-line entries are
//!   aligned, one space after the longest. Other comments go on lines of
//!   their own before the entry that follows them, or before the closing
//!   brace. A comment between the tokens of one entry stays inline where it
//!   was (a line comment there breaks the line, with a continuation indent).

use crate::diag::Diagnostic;
use crate::source::{FileId, Span};
use crate::syntax::ast::*;
use crate::syntax::parse_file;
use std::fmt::Write as _;

/// Blocks and lists wider than this (from where they start) are broken over
/// several lines.
pub const MAX_WIDTH: usize = 100;

const INDENT: usize = 2;

/// Formats a whole file. A file with syntax errors is not formatted: its
/// parse diagnostics are returned instead.
pub fn format_source(text: &str) -> Result<String, Vec<Diagnostic>> {
    let (file, diags) = parse_file(FileId(0), text);
    if diags.iter().any(Diagnostic::is_error) {
        return Err(diags);
    }
    Ok(Printer::new(text).file(&file))
}

/// `s` as a string literal, with the canonical escapes.
pub fn quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\0' => out.push_str("\\0"),
            c if c.is_control() => {
                let _ = write!(out, "\\u{{{:x}}}", u32::from(c));
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

// ---------------------------------------------------------------- comments

#[derive(Clone, Copy, Debug)]
struct Comment<'a> {
    start: usize,
    /// End of the kept text: a line comment loses its trailing whitespace.
    end: usize,
    text: &'a str,
    line: bool,
}

/// Every comment of the source, in order. Strings are skipped so that a `//`
/// inside one is not taken for a comment.
fn scan_comments(src: &str) -> Vec<Comment<'_>> {
    let b = src.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'"' => i = string_end(b, i),
            b'/' if b.get(i + 1) == Some(&b'/') => {
                let end = src[i..].find('\n').map_or(src.len(), |n| i + n);
                let text = src[i..end].trim_end();
                out.push(Comment { start: i, end: i + text.len(), text, line: true });
                i = end;
            }
            b'/' if b.get(i + 1) == Some(&b'*') => {
                let end = crate::syntax::parser::block_comment_close(src, i).unwrap_or(b.len());
                out.push(Comment { start: i, end, text: &src[i..end], line: false });
                i = end;
            }
            _ => i += 1,
        }
    }
    out
}

/// The position after the string literal starting at `start`.
fn string_end(b: &[u8], start: usize) -> usize {
    let mut i = start + 1;
    while i < b.len() && b[i] != b'"' && b[i] != b'\n' {
        i += if b[i] == b'\\' { 2 } else { 1 };
    }
    (i + 1).min(b.len())
}

// ---------------------------------------------------------------- output

/// Text being built. Its first line continues a line that already holds
/// `base` columns; later lines carry their own indentation.
struct W {
    s: String,
    base: usize,
}

impl W {
    fn new(base: usize) -> W {
        W { s: String::new(), base }
    }

    fn push(&mut self, s: &str) {
        self.s.push_str(s);
    }

    fn indent(&mut self, level: usize) {
        self.s.extend(std::iter::repeat_n(' ', level * INDENT));
    }

    fn col(&self) -> usize {
        match self.s.rfind('\n') {
            Some(i) => self.s[i + 1..].chars().count(),
            None => self.base + self.s.chars().count(),
        }
    }
}

/// One output line of a sequence of lines (a block's entries or the file's
/// declarations): a comment on its own line, or an entry.
enum Piece<'a> {
    Comment { blank: bool, text: &'a str },
    Entry(Entry),
}

struct Entry {
    /// A blank line goes before it.
    blank: bool,
    /// The entry; lines after the first carry their own indentation.
    body: String,
    /// Byte offset in `body` where alignment padding goes, for entries that
    /// take part in `=` / `:` alignment.
    align: Option<usize>,
    /// `,` in multi-line lists.
    sep: &'static str,
    /// Comments kept at the end of the line, with their leading space.
    trailing: String,
}

impl Piece<'_> {
    fn set_blank(&mut self) {
        match self {
            Piece::Comment { blank, .. } => *blank = true,
            Piece::Entry(e) => e.blank = true,
        }
    }
}

/// Pads the `=` / `:` of every run of consecutive one-line entries that have
/// an alignment point, then the trailing comments of every run of consecutive
/// one-line entries that have one. A blank line or a comment line ends a run.
fn align(pieces: &mut [Piece]) {
    let chars = |s: &str| s.chars().count();
    pad_runs(
        pieces,
        |e| e.align.map(|a| chars(&e.body[..a])),
        |e, pad| {
            if let Some(a) = e.align {
                e.body.insert_str(a, &" ".repeat(pad));
            }
        },
    );
    pad_runs(
        pieces,
        |e| (!e.trailing.is_empty()).then(|| chars(&e.body) + e.sep.len()),
        |e, pad| e.trailing.insert_str(0, &" ".repeat(pad)),
    );
}

/// For every run of consecutive one-line entries that `width` measures,
/// calls `pad` with what brings each to the widest of its run.
fn pad_runs(pieces: &mut [Piece], width: impl Fn(&Entry) -> Option<usize>, mut pad: impl FnMut(&mut Entry, usize)) {
    let measure = |p: &Piece| match p {
        Piece::Entry(e) if !e.body.contains('\n') => width(e).map(|w| (w, e.blank)),
        _ => None,
    };
    let mut i = 0;
    while i < pieces.len() {
        let Some((first, _)) = measure(&pieces[i]) else {
            i += 1;
            continue;
        };
        let mut widest = first;
        let mut j = i + 1;
        while let Some((w, false)) = pieces.get(j).and_then(measure) {
            widest = widest.max(w);
            j += 1;
        }
        for p in &mut pieces[i..j] {
            if let Some((w, _)) = measure(p) {
                if let Piece::Entry(e) = p {
                    pad(e, widest - w);
                }
            }
        }
        i = j;
    }
}

/// Writes `pieces` one per line at `level`. Unless `at_start`, every piece
/// starts a new line after what `w` already holds.
fn emit(w: &mut W, level: usize, mut pieces: Vec<Piece>, at_start: bool) {
    align(&mut pieces);
    for (i, p) in pieces.iter().enumerate() {
        if !(at_start && i == 0) {
            w.push("\n");
        }
        let blank = match p {
            Piece::Comment { blank, .. } => *blank,
            Piece::Entry(e) => e.blank,
        };
        if blank && i > 0 {
            w.push("\n");
        }
        w.indent(level);
        match p {
            Piece::Comment { text, .. } => w.push(text),
            Piece::Entry(e) => {
                w.push(&e.body);
                w.push(e.sep);
                w.push(&e.trailing);
            }
        }
    }
}

// ---------------------------------------------------------------- sequences

/// One element of a bracketed sequence.
#[derive(Clone, Copy)]
enum El<'t> {
    /// A setting; the flag is set inside a `connector`, where `config {}`
    /// means the typed configuration rather than an empty setting.
    Item(&'t Item, bool),
    Field(&'t Field),
    Chain(&'t Chain),
    Value(&'t Value),
    Symbol(&'t Ident),
    /// `produces: T` / `accepts: A | B`.
    Io(&'static str, &'t [TypeExpr], Span),
    /// A connector's `config { ... }`: its fields, the keyword's position and
    /// the position of its `{`.
    Config(&'t [Field], usize, usize),
}

#[derive(Clone, Copy, PartialEq)]
enum Shape {
    /// `{ a, b }`
    Braces,
    /// `[a, b]`
    Brackets,
}

struct Seq<'t> {
    /// Position of the opening bracket.
    open: usize,
    els: Vec<El<'t>>,
    shape: Shape,
    /// Whether the grammar requires commas between elements.
    commas: bool,
}

// ---------------------------------------------------------------- printer

struct Printer<'a> {
    src: &'a str,
    comments: Vec<Comment<'a>>,
    /// The first comment not yet written.
    next: usize,
    /// Inside a block being written on one line: nested blocks follow.
    flat: bool,
}

fn pos(n: u32) -> usize {
    n as usize
}

impl<'a> Printer<'a> {
    fn new(src: &'a str) -> Printer<'a> {
        Printer { src, comments: scan_comments(src), next: 0, flat: false }
    }

    fn text(&self, span: Span) -> &'a str {
        self.src.get(span.range()).unwrap_or("")
    }

    fn comment_at(&self, p: usize) -> Option<Comment<'a>> {
        let i = self.comments.partition_point(|c| c.start < p);
        self.comments.get(i).filter(|c| c.start == p).copied()
    }

    fn has_comment_in(&self, from: usize, to: usize) -> bool {
        let i = self.comments.partition_point(|c| c.start < from);
        self.comments.get(i).is_some_and(|c| c.start < to)
    }

    /// The start of the first token at or after `p`.
    fn next_token(&self, mut p: usize) -> usize {
        let b = self.src.as_bytes();
        loop {
            while p < b.len() && b[p].is_ascii_whitespace() {
                p += 1;
            }
            if self.src.get(p..).is_some_and(|r| r.starts_with('\u{FEFF}')) {
                p += '\u{FEFF}'.len_utf8();
            } else if let Some(c) = self.comment_at(p) {
                p = c.end;
            } else {
                return p;
            }
        }
    }

    /// The end of the last token of `span`. Pest lets a rule that ends in an
    /// optional part cover the comments skipped before that part failed.
    fn end(&self, span: Span) -> usize {
        let b = self.src.as_bytes();
        let (start, mut p) = (pos(span.start), pos(span.end).min(b.len()));
        loop {
            while p > start && b[p - 1].is_ascii_whitespace() {
                p -= 1;
            }
            let i = self.comments.partition_point(|c| c.end < p);
            match self.comments.get(i) {
                Some(c) if c.end == p && c.start >= start => p = c.start,
                _ => return p,
            }
        }
    }

    /// Whether a blank line separates `p` from the token or comment before
    /// it (commas between them do not count).
    fn blank_before(&self, p: usize) -> bool {
        let b = self.src.as_bytes();
        let mut newlines = 0;
        for &c in b[..p.min(b.len())].iter().rev() {
            match c {
                b'\n' => newlines += 1,
                b' ' | b'\t' | b'\r' | b',' => {}
                _ => break,
            }
        }
        newlines >= 2
    }

    /// Calls `f` with every byte outside comments and strings from `from` on
    /// (a string shows as its opening quote) until `f` returns false.
    fn walk(&self, from: usize, mut f: impl FnMut(usize, u8) -> bool) {
        let b = self.src.as_bytes();
        let mut ci = self.comments.partition_point(|c| c.start < from);
        let mut i = from;
        while i < b.len() {
            if let Some(c) = self.comments.get(ci).filter(|c| c.start == i) {
                i = c.end;
                ci += 1;
                continue;
            }
            if !f(i, b[i]) {
                return;
            }
            i = if b[i] == b'"' { string_end(b, i) } else { i + 1 };
            while self.comments.get(ci).is_some_and(|c| c.start < i) {
                ci += 1;
            }
        }
    }

    /// The position after the bracket that closes the one at `open`.
    fn close_of(&self, open: usize) -> usize {
        if !matches!(self.src.as_bytes().get(open), Some(b'{' | b'[' | b'(')) {
            return open;
        }
        let mut depth = 0usize;
        let mut close = self.src.len();
        self.walk(open, |i, c| {
            match c {
                b'{' | b'[' | b'(' => depth += 1,
                b'}' | b']' | b')' => {
                    depth = depth.saturating_sub(1);
                    if depth == 0 {
                        close = i + 1;
                        return false;
                    }
                }
                _ => {}
            }
            true
        });
        close
    }

    // ------------------------------------------------------------ comments out

    /// Writes the comments before `p` where the output is, inside a line.
    fn flush_inline(&mut self, w: &mut W, p: usize, level: usize) {
        while let Some(c) = self.comments.get(self.next).filter(|c| c.start < p).copied() {
            self.next += 1;
            w.push(c.text);
            if c.line {
                w.push("\n");
                w.indent(level + 1);
            } else {
                w.push(" ");
            }
        }
    }

    /// The comments before `p`, each to go on its own line.
    fn flush_lines(&mut self, p: usize) -> Vec<Piece<'a>> {
        let mut out = Vec::new();
        while let Some(c) = self.comments.get(self.next).filter(|c| c.start < p).copied() {
            self.next += 1;
            out.push(Piece::Comment { blank: self.blank_before(c.start), text: c.text });
        }
        out
    }

    /// The comments that belong at the end of a line whose content ends at
    /// `end`: those not yet written from before `end`, and those after it on
    /// the same source line. What cannot stay on the line (a comment after a
    /// line comment, or one spanning lines) comes back as own-line pieces.
    fn trailing(&mut self, end: usize) -> (String, Vec<Piece<'a>>) {
        let mut group = Vec::new();
        while let Some(c) = self.comments.get(self.next).filter(|c| c.start < end).copied() {
            self.next += 1;
            group.push(c);
        }
        let b = self.src.as_bytes();
        let mut p = end;
        loop {
            while p < b.len() && matches!(b[p], b' ' | b'\t' | b'\r' | b',') {
                p += 1;
            }
            match self.comments.get(self.next).filter(|c| c.start == p).copied() {
                Some(c) => {
                    self.next += 1;
                    group.push(c);
                    p = c.end;
                    if c.line {
                        break;
                    }
                }
                None => break,
            }
        }
        let mut inline = String::new();
        let mut rest = Vec::new();
        let mut closed = false;
        for c in group {
            if rest.is_empty() && !closed && !c.text.contains('\n') {
                inline.push(' ');
                inline.push_str(c.text);
                closed = c.line;
            } else {
                rest.push(Piece::Comment { blank: self.blank_before(c.start), text: c.text });
            }
        }
        (inline, rest)
    }

    /// An entry on its own line at `level`, from `start` to `end`, with the
    /// comments before `lead` (its first token where a comment may stay) and
    /// at the end of its line; then the comments that follow it on lines of
    /// their own (formatted again, they lead the next entry).
    fn entry(
        &mut self,
        (start, lead, end): (usize, usize, usize),
        level: usize,
        sep: &'static str,
        render: impl FnOnce(&mut Self, &mut W) -> Option<usize>,
    ) -> (Vec<Piece<'a>>, Vec<Piece<'a>>) {
        let mut pieces = self.flush_lines(lead);
        let blank = self.blank_before(start);
        let mut w = W::new(level * INDENT);
        let align = render(self, &mut w);
        let (trailing, after) = self.trailing(end);
        pieces.push(Piece::Entry(Entry { blank, body: w.s, align, sep, trailing }));
        (pieces, after)
    }

    // ------------------------------------------------------------ file

    fn file(mut self, file: &File) -> String {
        let mut pieces: Vec<Piece> = Vec::new();
        let mut prev: Option<(Option<u8>, bool)> = None;
        // Comments on the lines after the previous declaration: they lead
        // this one (and get the blank line that separates declarations).
        let mut after: Vec<Piece> = Vec::new();
        for d in &file.decls {
            let (ps, next_after) =
                self.entry((pos(d.span.start), pos(d.span.start), self.end(d.span)), 0, "", |p, w| p.decl(w, d));
            let mut ps: Vec<Piece> = std::mem::replace(&mut after, next_after).into_iter().chain(ps).collect();
            let one_line = ps.iter().any(|p| matches!(p, Piece::Entry(e) if !e.body.contains('\n')));
            let group = group_of(d).filter(|_| one_line);
            if let Some((prev_group, prev_one_line)) = prev {
                let grouped = group.is_some() && group == prev_group && prev_one_line;
                if !grouped {
                    if let Some(first) = ps.first_mut() {
                        first.set_blank();
                    }
                }
            }
            prev = Some((group, one_line));
            pieces.extend(ps);
        }
        pieces.extend(after);
        pieces.extend(self.flush_lines(usize::MAX));
        let mut w = W::new(0);
        emit(&mut w, 0, pieces, true);
        // The parser accepts a block comment left open at the end of the
        // file; a newline after it would become part of it.
        let open_comment = self
            .comments
            .last()
            .is_some_and(|c| !c.line && crate::syntax::parser::block_comment_close(c.text, 0).is_none());
        if !w.s.is_empty() && !open_comment {
            w.push("\n");
        }
        w.s
    }

    fn decl(&mut self, w: &mut W, d: &Decl) -> Option<usize> {
        for a in &d.annotations {
            for c in self.flush_lines(pos(a.span.start)) {
                if let Piece::Comment { text, .. } = c {
                    w.push(text);
                    w.push("\n");
                }
            }
            self.annotation(w, a, 0);
            let (trailing, after) = self.trailing(self.end(a.span));
            w.push(&trailing);
            w.push("\n");
            for c in after {
                if let Piece::Comment { text, .. } = c {
                    w.push(text);
                    w.push("\n");
                }
            }
        }
        if let Some(last) = d.annotations.last() {
            let keyword = self.next_token(self.end(last.span));
            for c in self.flush_lines(keyword) {
                if let Piece::Comment { text, .. } = c {
                    w.push(text);
                    w.push("\n");
                }
            }
        }
        match &d.kind {
            DeclKind::Use(u) => {
                w.push("use ");
                match u {
                    UseDecl::File { path, span } => {
                        self.flush_inline(w, pos(span.start), 0);
                        w.push(&quote(path));
                    }
                    UseDecl::Module { path, items } => {
                        self.path(w, path, 0);
                        if !items.is_empty() {
                            w.push("::{");
                            for (i, item) in items.iter().enumerate() {
                                if i > 0 {
                                    w.push(", ");
                                }
                                self.ident(w, item, 0);
                            }
                            w.push("}");
                        }
                    }
                }
                None
            }
            DeclKind::Pulsar(p) => {
                w.push("pulsar ");
                self.ident(w, &p.name, 0);
                w.push(" ");
                self.block(w, &p.body, 0);
                None
            }
            DeclKind::Defaults(b) => {
                w.push("defaults ");
                self.block(w, b, 0);
                None
            }
            DeclKind::Schema(s) => {
                w.push("schema ");
                self.ident(w, &s.name, 0);
                let at = w.s.len();
                w.push(" = ");
                self.ty(w, &s.ty, 0);
                (d.annotations.is_empty() && bodiless(&s.ty)).then_some(at)
            }
            DeclKind::Topic(t) => {
                w.push("topic ");
                self.ident(w, &t.name, 0);
                let at = w.s.len();
                w.push(" : ");
                self.ty(w, &t.ty, 0);
                self.topic_attrs(w, t);
                Some(at)
            }
            DeclKind::Component(c) => {
                w.push(c.kind.keyword());
                w.push(" ");
                self.ident(w, &c.name, 0);
                if c.kind == ComponentKind::Function {
                    w.push("(");
                    for (i, t) in c.params.iter().enumerate() {
                        if i > 0 {
                            w.push(", ");
                        }
                        self.ty(w, t, 0);
                    }
                    w.push(")");
                    if let Some(out) = &c.output {
                        w.push(" -> ");
                        self.ty(w, out, 0);
                    }
                }
                w.push(" = ");
                self.path(w, &c.head, 0);
                if !c.head_args.is_empty() {
                    self.args(w, &c.head_args, 0);
                }
                if let Some(b) = &c.body {
                    w.push(" ");
                    self.block(w, b, 0);
                }
                None
            }
            DeclKind::Pipeline(p) => {
                w.push("pipeline ");
                self.ident(w, &p.name, 0);
                w.push(" ");
                let open = self.next_token(pos(p.name.span.end));
                let els = p.chains.iter().map(El::Chain).collect();
                self.seq(w, 0, &Seq { open, els, shape: Shape::Braces, commas: false });
                None
            }
            DeclKind::Let(l) => {
                w.push("let ");
                self.ident(w, &l.name, 0);
                let at = w.s.len();
                w.push(" = ");
                self.value(w, &l.value, 0);
                Some(at)
            }
            DeclKind::Profile(p) => {
                w.push("profile ");
                self.ident(w, &p.name, 0);
                w.push(" ");
                self.block(w, &p.body, 0);
                None
            }
            DeclKind::Connector(c) => {
                w.push("connector ");
                self.ident(w, &c.name, 0);
                w.push(" ");
                self.connector(w, c);
                None
            }
        }
    }

    /// `compat`, `history`, `external` and the body, in source order.
    fn topic_attrs(&mut self, w: &mut W, t: &TopicDecl) {
        enum Attr<'t> {
            Compat(&'t Ident),
            History(&'t [TypeExpr], Span),
            External(Span),
            Body(&'t Block),
        }
        let mut attrs = Vec::new();
        if let Some(c) = &t.compat {
            attrs.push((pos(c.span.start), Attr::Compat(c)));
        }
        if let Some((tys, span)) = &t.history {
            attrs.push((pos(span.start), Attr::History(tys, *span)));
        }
        if let Some(span) = t.external {
            attrs.push((pos(span.start), Attr::External(span)));
        }
        if let Some(b) = &t.body {
            attrs.push((pos(b.span.start), Attr::Body(b)));
        }
        attrs.sort_by_key(|(p, _)| *p);
        for (_, attr) in attrs {
            w.push(" ");
            match attr {
                Attr::Compat(id) => {
                    w.push("compat ");
                    self.ident(w, id, 0);
                }
                Attr::History(tys, span) => {
                    self.flush_inline(w, pos(span.start), 0);
                    w.push("history [");
                    for (i, t) in tys.iter().enumerate() {
                        if i > 0 {
                            w.push(", ");
                        }
                        self.ty(w, t, 0);
                    }
                    w.push("]");
                }
                Attr::External(span) => {
                    self.flush_inline(w, pos(span.start), 0);
                    w.push("external");
                }
                Attr::Body(b) => self.block(w, b, 0),
            }
        }
    }

    /// A connector's body: settings, `produces`, `accepts` and `config` in
    /// source order (the tree keeps them apart).
    fn connector(&mut self, w: &mut W, c: &ConnectorDecl) {
        let open = self.next_token(pos(c.name.span.end));
        let mut members: Vec<(usize, El)> =
            c.settings.items.iter().map(|i| (pos(i.span.start), El::Item(i, true))).collect();
        if let Some((tys, span)) = &c.produces {
            members.push((pos(span.start), El::Io("produces", tys, *span)));
        }
        if let Some((tys, span)) = &c.accepts {
            members.push((pos(span.start), El::Io("accepts", tys, *span)));
        }
        if let Some(fields) = &c.config {
            let taken: Vec<Span> = members
                .iter()
                .filter_map(|(_, m)| match m {
                    El::Item(i, _) => Some(i.span),
                    El::Io(_, _, s) => Some(*s),
                    _ => None,
                })
                .collect();
            let at = self.config_keyword(open, &taken).or_else(|| fields.first().map(|f| pos(f.span.start)));
            let at = at.unwrap_or(open + 1);
            let config_open = self.next_token(at + "config".len());
            members.push((at, El::Config(fields, at, config_open)));
        }
        members.sort_by_key(|(p, _)| *p);
        let els = members.into_iter().map(|(_, m)| m).collect();
        self.seq(w, 0, &Seq { open, els, shape: Shape::Braces, commas: false });
    }

    /// The position of the `config` keyword of the connector body opening at
    /// `open`: a `config` directly inside the body, outside every setting and
    /// `produces` / `accepts`, and followed by `{`.
    fn config_keyword(&self, open: usize, taken: &[Span]) -> Option<usize> {
        let b = self.src.as_bytes();
        let ident = |c: Option<&u8>| c.is_some_and(|c| c.is_ascii_alphanumeric() || *c == b'_');
        let mut depth = 0usize;
        let mut found = None;
        self.walk(open, |i, c| {
            match c {
                b'{' | b'[' | b'(' => depth += 1,
                b'}' | b']' | b')' => {
                    depth = depth.saturating_sub(1);
                    return depth > 0;
                }
                b'c' if depth == 1
                    && b[i..].starts_with(b"config")
                    && !ident(i.checked_sub(1).and_then(|j| b.get(j)))
                    && !ident(b.get(i + 6))
                    && !taken.iter().any(|s| s.range().contains(&i))
                    && b.get(self.next_token(i + 6)) == Some(&b'{') =>
                {
                    found = Some(i);
                    return false;
                }
                _ => {}
            }
            true
        });
        found
    }

    // ------------------------------------------------------------ sequences

    fn block(&mut self, w: &mut W, b: &Block, level: usize) {
        let els = b.items.iter().map(|i| El::Item(i, false)).collect();
        self.seq(w, level, &Seq { open: pos(b.span.start), els, shape: Shape::Braces, commas: false });
    }

    /// A bracketed sequence, on one line or one element per line.
    fn seq(&mut self, w: &mut W, level: usize, s: &Seq) {
        self.flush_inline(w, s.open, level);
        let close = self.close_of(s.open);
        let commented = self.has_comment_in(s.open, close);
        let (open_text, close_text) = match s.shape {
            Shape::Braces => ("{", "}"),
            Shape::Brackets => ("[", "]"),
        };
        if s.els.is_empty() && !commented {
            w.push(open_text);
            w.push(close_text);
            return;
        }
        let one_line = self.flat
            || (!commented
                && self.src.get(s.open..close).is_some_and(|t| !t.contains('\n'))
                && w.col().saturating_add(self.flat_width(s, level)) <= MAX_WIDTH);
        if one_line {
            self.seq_flat(w, level, s);
        } else {
            self.seq_lines(w, level, s, close);
        }
    }

    fn seq_flat(&mut self, w: &mut W, level: usize, s: &Seq) {
        let was_flat = std::mem::replace(&mut self.flat, true);
        w.push(if s.shape == Shape::Braces { "{ " } else { "[" });
        for (i, el) in s.els.iter().enumerate() {
            if i > 0 {
                w.push(", ");
            }
            self.el(w, *el, level);
        }
        w.push(if s.shape == Shape::Braces { " }" } else { "]" });
        self.flat = was_flat;
    }

    /// The width of `s` written on one line (a sequence with no comments).
    fn flat_width(&mut self, s: &Seq, level: usize) -> usize {
        let next = self.next;
        let mut tmp = W::new(0);
        self.seq_flat(&mut tmp, level, s);
        self.next = next;
        if tmp.s.contains('\n') {
            usize::MAX
        } else {
            tmp.s.chars().count()
        }
    }

    fn seq_lines(&mut self, w: &mut W, level: usize, s: &Seq, close: usize) {
        w.push(if s.shape == Shape::Braces { "{" } else { "[" });
        let (trailing, mut pieces) = self.trailing(s.open + 1);
        w.push(&trailing);
        let last = s.els.len().saturating_sub(1);
        for (i, el) in s.els.iter().enumerate() {
            let sep = if s.commas && i < last { "," } else { "" };
            let range = self.el_range(*el);
            let (entry, after) = self.entry(range, level + 1, sep, |p, w| p.el(w, *el, level + 1));
            pieces.extend(entry.into_iter().chain(after));
        }
        pieces.extend(self.flush_lines(close.saturating_sub(1)));
        emit(w, level + 1, pieces, false);
        w.push("\n");
        w.indent(level);
        w.push(if s.shape == Shape::Braces { "}" } else { "]" });
    }

    /// Where an element starts, where the comments leading it end, and where
    /// it ends.
    fn el_range(&self, el: El) -> (usize, usize, usize) {
        let (start, end) = match el {
            El::Item(i, _) => (pos(i.span.start), self.end(i.span)),
            El::Field(f) => (pos(f.span.start), self.end(f.span)),
            El::Chain(c) => {
                // A chain may open with a group: comments after its `[` lead
                // the line too, as they will once formatted.
                let first = c.steps.first().and_then(|s| s.names.first()).map_or(c.span.start, |p| p.span.start);
                return (pos(c.span.start), pos(first), self.end(c.span));
            }
            El::Value(v) => (pos(v.span.start), self.end(v.span)),
            El::Symbol(id) => (pos(id.span.start), pos(id.span.end)),
            El::Io(_, _, span) => (pos(span.start), self.end(span)),
            El::Config(_, at, open) => (at, self.close_of(open)),
        };
        (start, start, end)
    }

    /// Writes one element; returns its alignment point, if it has one.
    fn el(&mut self, w: &mut W, el: El, level: usize) -> Option<usize> {
        match el {
            El::Item(item, in_connector) => return self.item(w, item, level, in_connector),
            El::Field(f) => self.field(w, f, level),
            El::Chain(c) => self.chain(w, c, level),
            El::Value(v) => self.value(w, v, level),
            El::Symbol(id) => self.ident(w, id, level),
            El::Io(keyword, tys, span) => {
                self.flush_inline(w, pos(span.start), level);
                w.push(keyword);
                w.push(": ");
                for (i, t) in tys.iter().enumerate() {
                    if i > 0 {
                        w.push(" | ");
                    }
                    self.ty(w, t, level);
                }
            }
            El::Config(fields, at, open) => {
                self.flush_inline(w, at, level);
                w.push("config ");
                let els = fields.iter().map(El::Field).collect();
                self.seq(w, level, &Seq { open, els, shape: Shape::Braces, commas: false });
            }
        }
        None
    }

    // ------------------------------------------------------------ nodes

    fn ident(&mut self, w: &mut W, id: &Ident, level: usize) {
        self.flush_inline(w, pos(id.span.start), level);
        w.push(&id.name);
    }

    fn path(&mut self, w: &mut W, p: &Path, level: usize) {
        self.flush_inline(w, pos(p.span.start), level);
        w.push(&p.joined());
    }

    fn annotation(&mut self, w: &mut W, a: &Annotation, level: usize) {
        self.flush_inline(w, pos(a.span.start), level);
        w.push("@");
        self.ident(w, &a.name, level);
        // `@x()` and `@x` are the same annotation.
        if !a.args.is_empty() {
            self.args(w, &a.args, level);
        }
    }

    fn args(&mut self, w: &mut W, args: &[Value], level: usize) {
        w.push("(");
        for (i, v) in args.iter().enumerate() {
            if i > 0 {
                w.push(", ");
            }
            self.value(w, v, level);
        }
        w.push(")");
    }

    fn item(&mut self, w: &mut W, item: &Item, level: usize, in_connector: bool) -> Option<usize> {
        if item.quoted_key {
            self.flush_inline(w, pos(item.key.span.start), level);
            w.push(&quote(&item.key.name));
        } else {
            self.ident(w, &item.key, level);
        }
        let key_end = w.s.len();
        if let ValueKind::Map(b) = &item.value.kind {
            // In a connector, `config {}` would read back as an empty typed
            // configuration, so an empty `config` setting keeps its `=`.
            let clash = in_connector && !item.quoted_key && item.key.name == "config" && b.items.is_empty();
            if !clash {
                w.push(" ");
                self.block(w, b, level);
                return None;
            }
        }
        w.push(" = ");
        self.value(w, &item.value, level);
        Some(key_end)
    }

    fn field(&mut self, w: &mut W, f: &Field, level: usize) {
        for a in &f.annotations {
            self.annotation(w, a, level);
            w.push(" ");
        }
        self.ident(w, &f.name, level);
        w.push(": ");
        self.ty(w, &f.ty, level);
        if let Some(d) = &f.default {
            w.push(" = ");
            self.value(w, d, level);
        }
    }

    fn chain(&mut self, w: &mut W, c: &Chain, level: usize) {
        for (i, step) in c.steps.iter().enumerate() {
            if i > 0 {
                w.push(" -> ");
            }
            self.flush_inline(w, pos(step.span.start), level);
            // A one-name group `[a]` is the same step as `a`.
            if let [single] = step.names.as_slice() {
                self.path(w, single, level);
                continue;
            }
            w.push("[");
            for (j, p) in step.names.iter().enumerate() {
                if j > 0 {
                    w.push(", ");
                }
                self.path(w, p, level);
            }
            w.push("]");
        }
    }

    fn value(&mut self, w: &mut W, v: &Value, level: usize) {
        self.flush_inline(w, pos(v.span.start), level);
        match &v.kind {
            ValueKind::Str(s) => w.push(&quote(s)),
            // As written: `1.10`, `1_000`, `1.5Gi`, `-1..4`.
            ValueKind::Int(_) | ValueKind::Float(..) | ValueKind::Unit { .. } | ValueKind::Range(..) => {
                w.push(self.text(v.span))
            }
            ValueKind::Bool(b) => w.push(if *b { "true" } else { "false" }),
            ValueKind::List(items) => {
                let els = items.iter().map(El::Value).collect();
                self.seq(w, level, &Seq { open: pos(v.span.start), els, shape: Shape::Brackets, commas: true });
            }
            ValueKind::Map(b) => self.block(w, b, level),
            ValueKind::Call { callee, args } => {
                w.push(&callee.joined());
                self.args(w, args, level);
            }
            ValueKind::Ctor { path, body } => {
                w.push(&path.joined());
                w.push(" ");
                self.block(w, body, level);
            }
            ValueKind::Path(p) => w.push(&p.joined()),
        }
    }

    fn ty(&mut self, w: &mut W, t: &TypeExpr, level: usize) {
        self.flush_inline(w, pos(t.span.start), level);
        match &t.kind {
            TypeKind::Named(p) => w.push(&p.joined()),
            TypeKind::Generic { name, args } => {
                w.push(&name.name);
                w.push("<");
                for (i, a) in args.iter().enumerate() {
                    if i > 0 {
                        w.push(", ");
                    }
                    self.ty(w, a, level);
                }
                w.push(">");
            }
            TypeKind::Call { name, args } => {
                w.push(&name.name);
                self.args(w, args, level);
            }
            TypeKind::Struct { format, fields } => {
                w.push(&format.name);
                w.push(" ");
                self.fields(w, pos(format.span.end), fields, level);
            }
            TypeKind::Record { name, fields } => {
                w.push("record ");
                self.ident(w, name, level);
                w.push(" ");
                self.fields(w, pos(name.span.end), fields, level);
            }
            TypeKind::Enum { name, symbols } => {
                w.push("enum ");
                self.ident(w, name, level);
                w.push(" ");
                let open = self.next_token(pos(name.span.end));
                let els = symbols.iter().map(El::Symbol).collect();
                self.seq(w, level, &Seq { open, els, shape: Shape::Braces, commas: true });
            }
            TypeKind::Fixed { name, size } => {
                w.push("fixed ");
                self.ident(w, name, level);
                w.push(&format!("({size})"));
            }
        }
        if t.optional {
            w.push("?");
        }
    }

    /// `{ name: type, ... }` after the token ending at `after`.
    fn fields(&mut self, w: &mut W, after: usize, fields: &[Field], level: usize) {
        let open = self.next_token(after);
        let els = fields.iter().map(El::Field).collect();
        self.seq(w, level, &Seq { open, els, shape: Shape::Braces, commas: false });
    }
}

/// A type written without a body block: `string`, `map<T>`, `avro("x.avsc")`.
fn bodiless(t: &TypeExpr) -> bool {
    matches!(t.kind, TypeKind::Named(_) | TypeKind::Generic { .. } | TypeKind::Call { .. })
}

/// Declarations of one group may follow each other without a blank line.
fn group_of(d: &Decl) -> Option<u8> {
    match &d.kind {
        DeclKind::Use(_) => Some(0),
        DeclKind::Topic(_) => Some(1),
        DeclKind::Let(_) => Some(2),
        DeclKind::Schema(s) if bodiless(&s.ty) => Some(3),
        _ => None,
    }
}
