//! Pipelines: `a -> topic -> b` edges, turned into each component's inputs
//! and output, with the schema on both ends of every edge checked.

use super::{Checker, Sym};
use crate::diag::Diagnostic;
use crate::ir::{self, ComponentKind};
use crate::schema::{compat, Schema};
use crate::source::Span;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Node {
    Topic(usize),
    Component(usize),
}

pub struct Edge {
    pub from: Node,
    pub to: Node,
    pub span: Span,
}

fn node(c: &mut Checker<'_>, path: &crate::syntax::ast::Path) -> Option<Node> {
    if !path.is_single() {
        c.diags.push(Diagnostic::new(
            "E0102",
            format!("`{}` is not a topic or component", path.joined()),
            path.span,
            "expected a name declared in this program",
        ));
        return None;
    }
    match c.lookup(&path.segments[0], "a topic or component", |s| matches!(s, Sym::Topic(_) | Sym::Component(_)))? {
        Sym::Topic(t) => Some(Node::Topic(t)),
        Sym::Component(i) if c.templates.contains(&i) => {
            let name = &c.components[i].name;
            c.diags.push(
                Diagnostic::new(
                    "E0112",
                    format!("`{}` is a template and is not deployed itself", name.name),
                    path.span,
                    "a template in a pipeline",
                )
                .label(name.span, "declared `@template` here")
                .help(format!(
                    "instantiate it and wire the instance: `function {0}_1(...) = {0} {{ ... }}`",
                    name.name
                )),
            );
            None
        }
        Sym::Component(i) => Some(Node::Component(i)),
        _ => None,
    }
}

pub fn edges(c: &mut Checker<'_>) -> Vec<Edge> {
    let mut out = Vec::new();
    let pipelines = c.pipelines.clone();
    for p in pipelines {
        for chain in &p.chains {
            let steps: Vec<Vec<(Node, Span)>> = chain
                .steps
                .iter()
                .map(|ep| ep.names.iter().filter_map(|n| node(c, n).map(|x| (x, n.span))).collect())
                .collect();
            for pair in steps.windows(2) {
                for &(from, fs) in &pair[0] {
                    for &(to, ts) in &pair[1] {
                        if let Some(e) = edge(c, from, fs, to, ts) {
                            out.push(e);
                        }
                    }
                }
            }
        }
    }
    out
}

fn edge(c: &mut Checker<'_>, from: Node, fs: Span, to: Node, ts: Span) -> Option<Edge> {
    let span = fs.to(ts);
    match (from, to) {
        (Node::Component(a), Node::Component(b)) => {
            let (an, bn) = (c.components[a].name.name.clone(), c.components[b].name.name.clone());
            c.diags.push(
                Diagnostic::new(
                    "E0302",
                    format!("`{an}` and `{bn}` are connected without a topic"),
                    span,
                    "components exchange messages through a topic",
                )
                .help(format!("declare a topic and put it between them: `{an} -> {an}_out -> {bn}`")),
            );
            None
        }
        (Node::Topic(a), Node::Topic(b)) => {
            let (an, bn) = (c.topics[a].name.name.clone(), c.topics[b].name.name.clone());
            c.diags.push(
                Diagnostic::new(
                    "E0303",
                    format!("topic `{an}` cannot flow into topic `{bn}` directly"),
                    span,
                    "a topic -> topic edge",
                )
                .help("put a function between the two topics"),
            );
            None
        }
        (Node::Component(a), Node::Topic(_)) if c.components[a].kind == ComponentKind::Sink => {
            let n = c.components[a].name.name.clone();
            c.diags.push(
                Diagnostic::new("E0306", format!("sink `{n}` writes to no topic"), fs, "a sink is the end of a chain")
                    .label(c.components[a].name.span, "declared as a sink here"),
            );
            None
        }
        (Node::Topic(_), Node::Component(b)) if c.components[b].kind == ComponentKind::Source => {
            let n = c.components[b].name.name.clone();
            c.diags.push(
                Diagnostic::new(
                    "E0306",
                    format!("source `{n}` reads no topic"),
                    ts,
                    "a source is the start of a chain",
                )
                .label(c.components[b].name.span, "declared as a source here"),
            );
            None
        }
        _ => Some(Edge { from, to, span }),
    }
}

/// Fills in inputs and outputs and checks every edge's schemas.
pub fn apply(c: &mut Checker<'_>, edges: &[Edge], topics: &[ir::Topic], comps: &mut [ir::Component]) {
    // Components that failed to build are absent; map declaration index to IR index.
    let by_name: std::collections::HashMap<&str, usize> =
        comps.iter().enumerate().map(|(i, x)| (x.name.as_str(), i)).collect();
    let by_decl: Vec<Option<usize>> = c.components.iter().map(|d| by_name.get(d.name.name.as_str()).copied()).collect();
    let index = |i: usize, _: &[ir::Component], _: &Checker<'_>| -> Option<usize> { by_decl[i] };
    let mut output_span: Vec<Option<Span>> = vec![None; comps.len()];
    for e in edges {
        match (e.from, e.to) {
            (Node::Component(a), Node::Topic(t)) => {
                let Some(ci) = index(a, comps, c) else { continue };
                let comp = &mut comps[ci];
                match comp.output {
                    Some(existing) if existing != t => {
                        c.diags.push(
                            Diagnostic::new(
                                "E0304",
                                format!("`{}` writes to two topics, `{}` and `{}`", comp.name, topics[existing].name, topics[t].name),
                                e.span,
                                "second output topic",
                            )
                            .label(output_span[ci].unwrap_or(e.span), "first output topic")
                            .note("a Pulsar function or source has one output topic; fan out from that topic instead: `f -> out -> [a, b]`"),
                        );
                    }
                    _ => {
                        comp.output = Some(t);
                        output_span[ci] = Some(e.span);
                    }
                }
                if topics[t].pattern {
                    c.diags.push(Diagnostic::new(
                        "E0301",
                        format!("`{}` is a topic pattern and cannot be written to", topics[t].name),
                        e.span,
                        "pattern as output",
                    ));
                }
            }
            (Node::Topic(t), Node::Component(b)) => {
                let Some(ci) = index(b, comps, c) else { continue };
                let comp = &mut comps[ci];
                if !comp.inputs.iter().any(|i| i.topic == t) {
                    comp.inputs.push(ir::Input { topic: t, receiver_queue_size: None, crypto: None });
                }
            }
            _ => {}
        }
    }
    for comp in comps.iter_mut() {
        // A `consumer { }` block was kept as a template input: apply it to the real inputs.
        if let Some(pos) = comp.inputs.iter().position(|i| i.topic == usize::MAX) {
            let template = comp.inputs.remove(pos);
            for input in &mut comp.inputs {
                input.receiver_queue_size = template.receiver_queue_size;
                input.crypto = template.crypto.clone();
            }
        }
    }
    for (ci, comp) in comps.iter_mut().enumerate() {
        check_schemas(c, comp, topics, output_span[ci]);
    }
}

fn check_schemas(c: &mut Checker<'_>, comp: &mut ir::Component, topics: &[ir::Topic], out_span: Option<Span>) {
    let decl_span = comp.span;
    let rules = c.opts.schema_rules;
    if let Some(t) = comp.output {
        let topic = &topics[t];
        let span = out_span.unwrap_or(decl_span);
        match &comp.output_schema {
            None if comp.kind == ComponentKind::Function => {
                c.diags.push(
                    Diagnostic::new(
                        "E0503",
                        format!("function `{}` has no output type but writes to `{}`", comp.name, topic.name),
                        span,
                        "output edge",
                    )
                    .label(decl_span, "declared without `-> TYPE`")
                    .help(format!(
                        "declare the output: `function {}(...) -> {}`",
                        comp.name,
                        topic.schema.display()
                    )),
                );
            }
            // A SerDe writes raw bytes as far as the registry is concerned.
            Some(_) if comp.serde_out.is_some() && !compat::is_bytes(&topic.schema) => {
                c.diags.push(bytes_endpoint(comp, topic, span, "writes"))
            }
            Some(_) if comp.serde_out.is_some() => {}
            Some(s) if compat::is_bytes(s) && !compat::is_bytes(&topic.schema) => {
                c.diags.push(bytes_endpoint(comp, topic, span, "writes"))
            }
            Some(s) => {
                let result = compat::producer(&versions(topic), s, topic.compat, rules);
                report(c, result, comp, topic, s, span, Side::Producer);
            }
            None => {}
        }
    }
    let inputs: Vec<usize> = comp.inputs.iter().map(|i| i.topic).collect();
    for t in inputs {
        let topic = &topics[t];
        match comp.kind {
            ComponentKind::Function => {
                // A SerDe reads raw bytes as far as the registry is concerned.
                let read = if comp.serde_in.is_some() { Some(Schema::bytes()) } else { comp.input_schema.clone() };
                if let Some(s) = &read {
                    if compat::is_bytes(s) && !compat::is_bytes(&topic.schema) {
                        c.diags.push(bytes_endpoint(comp, topic, decl_span, "reads"));
                    } else {
                        let result = compat::consumer(&versions(topic), s, topic.compat, rules);
                        report(c, result, comp, topic, s, decl_span, Side::Consumer);
                    }
                }
            }
            ComponentKind::Sink => {
                if let Some((accepts, accepts_span)) = c.accepts.get(&comp.name).cloned() {
                    let kind = topic.schema.kind_name();
                    let ok = accepts.iter().any(|a| a == "any" || a == kind);
                    if !ok {
                        c.diags.push(
                            Diagnostic::new(
                                "E0505",
                                format!("sink `{}` cannot read topic `{}`: it holds {kind}", comp.name, topic.name),
                                decl_span,
                                format!("accepts {}", accepts.join(" | ")),
                            )
                            .label(topic.span, format!("declared as {}", topic.schema.display()))
                            .label(accepts_span, "what the connector accepts"),
                        );
                    }
                }
                // The sink reads with the topic's schema; its class comes from the connector when it names one.
                let class = comp.input_schema.as_ref().and_then(|s| s.class_name.clone());
                let mut s = topic.schema.clone();
                if class.is_some() {
                    s.class_name = class;
                }
                comp.input_schema = Some(s);
            }
            ComponentKind::Source => {}
        }
    }
}

/// Every registered version of a topic, oldest first; the declared schema is the latest.
pub fn versions(topic: &ir::Topic) -> Vec<&Schema> {
    topic.history.iter().chain(std::iter::once(&topic.schema)).collect()
}

#[derive(Clone, Copy, PartialEq)]
enum Side {
    Producer,
    Consumer,
}

fn bytes_endpoint(comp: &ir::Component, topic: &ir::Topic, span: Span, verb: &str) -> Diagnostic {
    Diagnostic::new(
        "W0302",
        format!("`{}` {verb} raw bytes on topic `{}`, which holds {}", comp.name, topic.name, topic.schema.display()),
        span,
        format!("{verb} bytes"),
    )
    .label(topic.span, format!("declared as {}", topic.schema.display()))
    .note("bytes skip the schema registry, so nothing checks what is written or read here")
}

fn report(
    c: &mut Checker<'_>,
    result: compat::Outcome,
    comp: &ir::Component,
    topic: &ir::Topic,
    s: &Schema,
    span: Span,
    side: Side,
) {
    let (verb, code) = match side {
        Side::Producer => ("writes", "E0506"),
        Side::Consumer => ("reads", "E0507"),
    };
    match result {
        Ok(warnings) => {
            for w in warnings {
                c.diags.push(
                    Diagnostic::new(
                        "W0303",
                        format!(
                            "`{}` {verb} {} on topic `{}`: {}: {}",
                            comp.name,
                            s.display(),
                            topic.name,
                            w.path,
                            w.message
                        ),
                        span,
                        "accepted by the broker, fails when such a message is decoded",
                    )
                    .label(topic.span, format!("topic declared as {}", topic.schema.display())),
                );
            }
        }
        Err(e) => {
            let type_mismatch = e.path == "type";
            let code = if type_mismatch { "E0503" } else { code };
            let what = if e.path.is_empty() || type_mismatch {
                e.message.clone()
            } else {
                format!("{}: {}", e.path, e.message)
            };
            c.diags.push(
                Diagnostic::new(
                    code,
                    format!(
                        "`{}` {verb} {} but topic `{}` holds {} (compat {}): {what}",
                        comp.name,
                        s.display(),
                        topic.name,
                        topic.schema.display(),
                        topic.compat.name()
                    ),
                    span,
                    format!("{verb} {}", s.display()),
                )
                .label(topic.span, format!("topic declared as {}", topic.schema.display())),
            );
        }
    }
}
