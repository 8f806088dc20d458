//! Typed reading of settings: a block's keys are taken one by one by the code
//! that understands them, and whatever nobody took is reported as unknown, with
//! a suggestion drawn from the keys that were asked for.

use crate::diag::Diagnostic;
use crate::ir::SecretRef;
use crate::source::Span;
use crate::syntax::ast::{Block, Item, Value, ValueKind};
use std::collections::BTreeMap;

/// `let` constants by name, for substitution where a literal is expected.
pub type Lets<'a> = BTreeMap<String, &'a Value>;

pub struct Reader<'a, 'd> {
    pub diags: &'d mut Vec<Diagnostic>,
    pub lets: &'d Lets<'a>,
}

/// The keys of one block, taken by name.
pub struct Fields<'a> {
    block: Option<&'a Block>,
    used: Vec<bool>,
    asked: Vec<&'static str>,
    /// "function `enrich`", "the `window` block", for messages.
    what: String,
}

impl<'a> Fields<'a> {
    pub fn new(block: Option<&'a Block>, what: impl Into<String>, diags: &mut Vec<Diagnostic>) -> Fields<'a> {
        let what = what.into();
        if let Some(b) = block {
            for (i, item) in b.items.iter().enumerate() {
                if let Some(first) = b.items[..i].iter().find(|o| o.key.name == item.key.name) {
                    diags.push(
                        Diagnostic::new(
                            "E0205",
                            format!("`{}` is set twice in {what}", item.key.name),
                            item.key.span,
                            "set again here",
                        )
                        .label(first.key.span, "first set here")
                        .help("remove one of the two settings"),
                    );
                }
            }
        }
        let n = block.map_or(0, |b| b.items.len());
        Fields { block, used: vec![false; n], asked: Vec::new(), what }
    }

    pub fn what(&self) -> &str {
        &self.what
    }

    /// Takes the first item with this key.
    pub fn take(&mut self, key: &'static str) -> Option<&'a Item> {
        self.asked.push(key);
        let block = self.block?;
        let mut found = None;
        for (i, item) in block.items.iter().enumerate() {
            if item.key.name == key {
                self.used[i] = true;
                found = found.or(Some(item));
            }
        }
        found
    }

    pub fn has(&self, key: &str) -> bool {
        self.block.is_some_and(|b| b.items.iter().any(|i| i.key.name == key))
    }

    /// Items nobody took, in source order: for blocks whose remaining keys
    /// mean something (a connector's configuration).
    pub fn rest(&mut self) -> Vec<&'a Item> {
        let Some(block) = self.block else { return Vec::new() };
        let mut out = Vec::new();
        for (i, item) in block.items.iter().enumerate() {
            if !self.used[i] {
                self.used[i] = true;
                out.push(item);
            }
        }
        out
    }

    /// Reports every key nobody took.
    pub fn finish(self, diags: &mut Vec<Diagnostic>) {
        let Some(block) = self.block else { return };
        for (i, item) in block.items.iter().enumerate() {
            if self.used[i] {
                continue;
            }
            let mut d = Diagnostic::new(
                "E0201",
                format!("unknown setting `{}` in {}", item.key.name, self.what),
                item.key.span,
                "unknown setting",
            );
            if let Some(s) = suggest(&item.key.name, self.asked.iter().copied()) {
                d = d.help(format!("did you mean `{s}`?"));
            } else if !self.asked.is_empty() {
                let mut known: Vec<&str> = self.asked.clone();
                known.sort();
                known.dedup();
                d = d.note(format!("known settings: {}", known.join(", ")));
            }
            diags.push(d);
        }
    }
}

/// The closest candidate by edit distance, when it is close enough to be a typo.
pub fn suggest<'c>(name: &str, candidates: impl IntoIterator<Item = &'c str>) -> Option<&'c str> {
    let limit = (name.chars().count() / 3).max(1);
    // Ranked by closeness (a name containing the other counts as close), then
    // by raw distance, then by name so that ties are stable.
    let mut best: Option<(usize, usize, &str)> = None;
    for c in candidates {
        if c == name {
            continue;
        }
        let d = edit_distance(&name.to_lowercase(), &c.to_lowercase());
        let contains = c.len() > 2 && name.len() > 2 && (c.contains(name) || name.contains(c));
        let score = if contains { d.min(limit) } else { d };
        if score <= limit && best.is_none_or(|b| (score, d, c) < b) {
            best = Some((score, d, c));
        }
    }
    best.map(|(_, _, c)| c)
}

pub fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            let cost = usize::from(ca != *cb);
            cur[j + 1] = (prev[j] + cost).min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        prev = cur;
    }
    prev[b.len()]
}

/// "expected X, found Y" for a value of the wrong kind.
pub(crate) fn type_error(expected: &str, v: &Value) -> Diagnostic {
    Diagnostic::new(
        "E0202",
        format!("expected {expected}, found {}", v.kind.describe()),
        v.span,
        format!("expected {expected}"),
    )
}

impl<'a> Reader<'a, '_> {
    pub fn error(&mut self, d: Diagnostic) {
        self.diags.push(d);
    }

    /// Follows a `let` name to its value; other values are returned as they are.
    pub fn resolve<'v>(&self, v: &'v Value) -> &'v Value
    where
        'a: 'v,
    {
        let mut cur = v;
        // Bounded so a `let a = b` / `let b = a` loop cannot hang; the loop itself is reported by the checker.
        for _ in 0..32 {
            match &cur.kind {
                ValueKind::Path(p) if p.is_single() => match self.lets.get(&p.segments[0].name) {
                    Some(next) => cur = next,
                    None => return cur,
                },
                _ => return cur,
            }
        }
        cur
    }

    pub fn string(&mut self, v: &Value) -> Option<String> {
        match &self.resolve(v).kind {
            ValueKind::Str(s) => Some(s.clone()),
            _ => {
                let d = type_error("a string", self.resolve(v));
                self.error(d.with_primary_span(v.span));
                None
            }
        }
    }

    pub fn int(&mut self, v: &Value, min: i64, max: i64) -> Option<i64> {
        match &self.resolve(v).kind {
            ValueKind::Int(i) if (min..=max).contains(i) => Some(*i),
            ValueKind::Int(i) => {
                self.error(Diagnostic::new(
                    "E0206",
                    format!("{i} is out of range: expected {min} to {max}"),
                    v.span,
                    "out of range",
                ));
                None
            }
            _ => {
                let d = type_error("an integer", self.resolve(v));
                self.error(d.with_primary_span(v.span));
                None
            }
        }
    }

    pub fn bool(&mut self, v: &Value) -> Option<bool> {
        match &self.resolve(v).kind {
            ValueKind::Bool(b) => Some(*b),
            _ => {
                let d = type_error("`true` or `false`", self.resolve(v));
                self.error(d.with_primary_span(v.span));
                None
            }
        }
    }

    /// One of a fixed set of words, written as a bare name (`atleast_once`) or a string.
    pub fn word(&mut self, v: &Value, allowed: &[&'static str]) -> Option<&'static str> {
        let given = match &self.resolve(v).kind {
            ValueKind::Path(p) if p.is_single() => p.segments[0].name.clone(),
            ValueKind::Str(s) => s.clone(),
            _ => {
                let d = type_error(&format!("one of {}", quoted_list(allowed)), self.resolve(v));
                self.error(d.with_primary_span(v.span));
                return None;
            }
        };
        if let Some(w) = allowed.iter().find(|w| **w == given) {
            return Some(w);
        }
        let mut d = Diagnostic::new(
            "E0204",
            format!("`{given}` is not one of {}", quoted_list(allowed)),
            v.span,
            "not an allowed value",
        );
        if let Some(s) = suggest(&given, allowed.iter().copied()) {
            d = d.help(format!("did you mean `{s}`?"));
        }
        self.error(d);
        None
    }

    /// A duration in milliseconds: `500ms`, `30s`, `5m`, `1h`, `1d`.
    pub fn duration_ms(&mut self, v: &Value) -> Option<i64> {
        let r = self.resolve(v);
        if let ValueKind::Unit { number, unit } = &r.kind {
            if let Some(factor) = crate::quantity::duration_unit_ms(unit).map(|f| f as f64) {
                let ms = number.parse::<f64>().ok().map(|n| n * factor);
                if let Some(ms) = ms.filter(|ms| ms.fract() == 0.0 && *ms >= 0.0 && *ms < 9.0e15) {
                    return Some(ms as i64);
                }
                self.error(Diagnostic::new(
                    "E0206",
                    "the duration is not a whole, non-negative number of milliseconds",
                    v.span,
                    "invalid duration",
                ));
                return None;
            }
        }
        let d = type_error("a duration such as `500ms`, `30s` or `5m`", r).with_primary_span(v.span);
        let d = if matches!(r.kind, ValueKind::Int(_)) { d.help("add a unit: `ms`, `s`, `m`, `h` or `d`") } else { d };
        self.error(d);
        None
    }

    /// A Kubernetes quantity, kept as written: `500m`, `1Gi`, `2`, `"1.5G"`.
    pub fn quantity(&mut self, v: &Value) -> Option<String> {
        let r = self.resolve(v);
        let text = match &r.kind {
            ValueKind::Unit { number, unit } if !matches!(unit.as_str(), "ms" | "s" | "h" | "d") => {
                format!("{number}{unit}")
            }
            ValueKind::Int(i) => i.to_string(),
            ValueKind::Float(_, text) => text.replace('_', ""),
            ValueKind::Str(s) => s.clone(),
            _ => {
                let d = type_error("a quantity such as `500m` or `1Gi`", r).with_primary_span(v.span);
                self.error(d);
                return None;
            }
        };
        if crate::quantity::parse(&text).is_none() {
            self.error(
                Diagnostic::new("E0207", format!("`{text}` is not a Kubernetes quantity"), v.span, "invalid quantity")
                    .help("write a number with an optional suffix: m, k, M, G, T, P, E, Ki, Mi, Gi, Ti, Pi, Ei"),
            );
            return None;
        }
        Some(text)
    }

    /// `secret("name", "key")`.
    pub fn secret(&mut self, v: &Value) -> Option<SecretRef> {
        let r = self.resolve(v);
        if let ValueKind::Call { callee, args } = &r.kind {
            if callee.is_single() && callee.segments[0].name == "secret" {
                return self.secret_args(r.span, args);
            }
        }
        let d = type_error("`secret(\"name\", \"key\")`", r).with_primary_span(v.span);
        self.error(d);
        None
    }

    pub fn secret_args(&mut self, span: Span, args: &[Value]) -> Option<SecretRef> {
        if args.len() != 2 {
            self.error(
                Diagnostic::new(
                    "E0202",
                    format!("`secret` takes 2 arguments, the Secret's name and key; {} given", args.len()),
                    span,
                    "wrong number of arguments",
                )
                .help("write `secret(\"secret-name\", \"key\")`"),
            );
            return None;
        }
        let name = self.string(&args[0])?;
        let key = self.string(&args[1])?;
        if !crate::names::is_dns_subdomain(&name) {
            self.error(Diagnostic::new(
                "E0402",
                format!("`{name}` is not a valid Secret name"),
                args[0].span,
                "lower-case letters, digits, `-` and `.` only",
            ));
            return None;
        }
        Some(SecretRef { name, key })
    }

    /// A list of strings.
    pub fn strings(&mut self, v: &Value) -> Option<Vec<String>> {
        match &self.resolve(v).kind {
            ValueKind::List(items) => items.iter().map(|i| self.string(i)).collect(),
            _ => {
                let d = type_error("a list of strings", self.resolve(v)).with_primary_span(v.span);
                self.error(d);
                None
            }
        }
    }

    /// A block of string values: labels, annotations, node selectors.
    pub fn string_map(&mut self, v: &Value) -> Option<BTreeMap<String, String>> {
        let ValueKind::Map(block) = &self.resolve(v).kind else {
            let d = type_error("a block of `key = \"value\"` settings", self.resolve(v)).with_primary_span(v.span);
            self.error(d);
            return None;
        };
        let mut out = BTreeMap::new();
        let mut ok = true;
        for item in &block.items {
            match self.string(&item.value) {
                Some(s) => {
                    out.insert(item.key.name.clone(), s);
                }
                None => ok = false,
            }
        }
        ok.then_some(out)
    }

    /// A free-form value as JSON, for user configuration the connector or
    /// function interprets. Secrets are refused: they must not land in config.
    /// A block as a JSON object; anything else is E0202 with `message`.
    pub fn json_block(&mut self, v: &Value, message: &str) -> Option<serde_json::Map<String, serde_json::Value>> {
        match self.json(v)? {
            serde_json::Value::Object(m) => Some(m),
            _ => {
                self.error(Diagnostic::new("E0202", message, v.span, "expected `{ ... }`"));
                None
            }
        }
    }

    pub fn json(&mut self, v: &Value) -> Option<serde_json::Value> {
        use serde_json::Value as J;
        let r = self.resolve(v);
        Some(match &r.kind {
            ValueKind::Str(s) => J::String(s.clone()),
            ValueKind::Int(i) => J::from(*i),
            ValueKind::Float(f, _) => serde_json::Number::from_f64(*f).map_or(J::Null, J::Number),
            ValueKind::Bool(b) => J::Bool(*b),
            ValueKind::Unit { number, unit } => J::String(format!("{number}{unit}")),
            ValueKind::List(items) => J::Array(items.iter().map(|i| self.json(i)).collect::<Option<Vec<_>>>()?),
            ValueKind::Map(block) => {
                let mut m = serde_json::Map::new();
                let mut ok = true;
                let _ = Fields::new(Some(block), "this block", self.diags);
                for item in &block.items {
                    match self.json(&item.value) {
                        Some(j) => {
                            m.insert(item.key.name.clone(), j);
                        }
                        None => ok = false,
                    }
                }
                if !ok {
                    return None;
                }
                J::Object(m)
            }
            ValueKind::Call { callee, .. } if callee.joined() == "secret" => {
                self.error(
                    Diagnostic::new(
                        "E0208",
                        "a secret cannot be part of plain configuration",
                        v.span,
                        "this would be written into the bundle",
                    )
                    .help("put it in the component's `secrets { NAME = secret(\"name\", \"key\") }` block instead"),
                );
                return None;
            }
            ValueKind::Path(p) => {
                let d = Diagnostic::new("E0102", format!("unknown name `{}`", p.joined()), v.span, "not a `let` value")
                    .help("write a string in quotes if a text was meant");
                self.error(d);
                return None;
            }
            _ => {
                let d = type_error("a string, number, boolean, list or block", r).with_primary_span(v.span);
                self.error(d);
                return None;
            }
        })
    }
}

pub fn quoted_list(words: &[&str]) -> String {
    words.iter().map(|w| format!("`{w}`")).collect::<Vec<_>>().join(", ")
}

impl Diagnostic {
    /// Moves the primary label to where the user wrote the value (a `let`
    /// name rather than the literal it names).
    pub fn with_primary_span(mut self, span: Span) -> Diagnostic {
        self.primary.span = span;
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggestions() {
        assert_eq!(suggest("index", ["index_name", "type_name"]), Some("index_name"));
        assert_eq!(suggest("replica", ["replicas", "image"]), Some("replicas"));
        assert_eq!(suggest("zzz", ["replicas", "image"]), None);
        assert_eq!(edit_distance("kitten", "sitting"), 3);
    }
}
