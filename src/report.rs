//! Diagnostics as data, for CI: one JSON object per diagnostic.

use crate::diag::Diagnostic;
use crate::source::{Sources, Span};
use serde_json::{json, Value};

fn location(sources: &Sources, span: Span) -> Value {
    let f = sources.get(span.file);
    let (line, column) = f.line_col(span.start as usize);
    let (end_line, end_column) = f.line_col(span.end as usize);
    json!({ "file": f.name, "line": line, "column": column, "end_line": end_line, "end_column": end_column })
}

pub fn json_diagnostics(sources: &Sources, diags: &[Diagnostic]) -> Vec<Value> {
    diags
        .iter()
        .map(|d| {
            let mut v = location(sources, d.primary.span);
            v["code"] = json!(d.code);
            v["severity"] = json!(d.severity.as_str());
            v["message"] = json!(d.message);
            let mut labels = vec![{
                let mut l = location(sources, d.primary.span);
                l["message"] = json!(d.primary.message);
                l["primary"] = json!(true);
                l
            }];
            for s in &d.secondary {
                let mut l = location(sources, s.span);
                l["message"] = json!(s.message);
                l["primary"] = json!(false);
                labels.push(l);
            }
            v["labels"] = json!(labels);
            v["notes"] = json!(d.notes);
            v["help"] = json!(d.help);
            v
        })
        .collect()
}

/// A rule's SARIF name: its title as one identifier (`unknown setting` -> `UnknownSetting`).
fn rule_name(title: &str) -> String {
    title
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(|w| {
            let mut cs = w.chars();
            cs.next().map(|f| f.to_ascii_uppercase().to_string() + cs.as_str()).unwrap_or_default()
        })
        .collect()
}

/// GitHub Actions workflow commands: one `::error` or `::warning` line per diagnostic.
pub fn github(sources: &Sources, diags: &[Diagnostic]) -> String {
    // Workflow command values escape `%`, CR and LF; property values also `:` and `,`.
    fn data(s: &str) -> String {
        s.replace('%', "%25").replace('\r', "%0D").replace('\n', "%0A")
    }
    fn property(s: &str) -> String {
        data(s).replace(':', "%3A").replace(',', "%2C")
    }
    let mut out = String::new();
    for d in diags {
        let f = sources.get(d.primary.span.file);
        let (line, col) = f.line_col(d.primary.span.start as usize);
        let (end_line, end_col) = f.line_col(d.primary.span.end as usize);
        let mut message = d.message.clone();
        if let Some(h) = &d.help {
            message.push_str(&format!("\nhelp: {h}"));
        }
        out.push_str(&format!(
            "::{} file={},line={line},col={col},endLine={end_line},endColumn={end_col},title={}::{}\n",
            d.severity.as_str(),
            property(&f.name),
            property(d.code),
            data(&message)
        ));
    }
    out
}

/// One SARIF 2.1.0 log for a whole run: a rule per diagnostic code, a result per diagnostic.
pub fn sarif(results: &[(&Sources, &[Diagnostic])]) -> Value {
    let rules: Vec<Value> = crate::codes::CODES
        .iter()
        .map(|c| {
            json!({
                "id": c.code,
                "name": rule_name(c.title),
                "shortDescription": { "text": c.title },
                "fullDescription": { "text": c.explanation },
                "help": { "text": c.explanation },
                "defaultConfiguration": { "level": if c.code.starts_with('E') { "error" } else { "warning" } },
            })
        })
        .collect();
    let index = |code: &str| crate::codes::CODES.iter().position(|c| c.code == code).unwrap_or(0);
    let region = |sources: &Sources, span: Span| {
        let f = sources.get(span.file);
        let (sl, sc) = f.line_col(span.start as usize);
        let (el, ec) = f.line_col(span.end as usize);
        json!({
            "physicalLocation": {
                "artifactLocation": { "uri": f.name.replace('\\', "/") },
                "region": { "startLine": sl, "startColumn": sc, "endLine": el, "endColumn": ec },
            }
        })
    };
    let mut out = Vec::new();
    for (sources, diags) in results {
        for d in diags.iter() {
            let mut message = d.message.clone();
            if let Some(h) = &d.help {
                message.push_str(&format!(" (help: {h})"));
            }
            let related: Vec<Value> = d
                .secondary
                .iter()
                .enumerate()
                .map(|(i, l)| {
                    let mut r = region(sources, l.span);
                    r["id"] = json!(i);
                    r["message"] = json!({ "text": l.message });
                    r
                })
                .collect();
            let mut result = json!({
                "ruleId": d.code,
                "ruleIndex": index(d.code),
                "level": d.severity.as_str(),
                "message": { "text": message },
                "locations": [region(sources, d.primary.span)],
            });
            if !related.is_empty() {
                result["relatedLocations"] = json!(related);
            }
            out.push(result);
        }
    }
    json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": { "driver": {
                "name": "mesh",
                "version": env!("CARGO_PKG_VERSION"),
                "rules": rules,
            }},
            "results": out,
        }],
    })
}
