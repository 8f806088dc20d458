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
