//! Rules over the whole graph: every component wired, topics written and
//! read, names unique and within the operator's limits.

use super::components::MAX_NAME;
use super::Checker;
use crate::diag::Diagnostic;
use crate::ir::{ComponentKind, Program, Runtime};

pub fn check(c: &mut Checker<'_>, p: &Program) {
    let mut writers = vec![0usize; p.topics.len()];
    let mut readers = vec![0usize; p.topics.len()];
    let mut side = vec![false; p.topics.len()];
    for comp in &p.components {
        if let Some(t) = comp.output {
            writers[t] += 1;
        }
        for i in &comp.inputs {
            readers[i.topic] += 1;
        }
        for t in [comp.dead_letter, comp.log_topic, comp.window.as_ref().and_then(|w| w.late_data_topic)]
            .into_iter()
            .flatten()
        {
            side[t] = true;
        }
        match comp.kind {
            ComponentKind::Function | ComponentKind::Sink if comp.inputs.is_empty() => {
                c.diags.push(
                    Diagnostic::new(
                        "E0307",
                        format!("{} `{}` reads no topic", comp.kind.keyword(), comp.name),
                        comp.span,
                        "not wired to an input",
                    )
                    .help(format!("add an edge to a pipeline: `pipeline p {{ some_topic -> {} }}`", comp.name)),
                );
            }
            ComponentKind::Source if comp.output.is_none() => {
                c.diags.push(
                    Diagnostic::new(
                        "E0307",
                        format!("source `{}` writes to no topic", comp.name),
                        comp.span,
                        "not wired to an output",
                    )
                    .help(format!("add an edge to a pipeline: `pipeline p {{ {} -> some_topic }}`", comp.name)),
                );
            }
            _ => {}
        }
        if let Some(out) = comp.output {
            if comp.inputs.iter().any(|i| i.topic == out) {
                c.diags.push(
                    Diagnostic::new("E0305", format!("`{}` writes to `{}`, which it also reads", comp.name, p.topics[out].name), comp.span, "reads and writes the same topic")
                        .label(p.topics[out].span, "topic declared here")
                        .note("the operator rejects a function whose output topic is one of its inputs; every message would loop forever"),
                );
            }
        }
        if matches!(comp.runtime, Runtime::Go { .. })
            && comp.kind == ComponentKind::Function
            && !comp.inputs.is_empty()
            && comp.inputs.iter().all(|i| p.topics[i.topic].pattern)
        {
            c.diags.push(
                Diagnostic::new(
                    "E0412",
                    format!("Go function `{}` cannot read only a topic pattern", comp.name),
                    comp.span,
                    "Go functions need a plain input topic",
                )
                .note("the Go runtime consumes its first listed topic only"),
            );
        }
        let full = if c.opts.mesh { format!("{}-{}", p.mesh_name, comp.kube_name) } else { comp.kube_name.clone() };
        if c.opts.mesh && full.len() > MAX_NAME {
            c.diags.push(
                Diagnostic::new(
                    "E0401",
                    format!(
                        "in FunctionMesh `{}`, `{}` becomes `{full}` ({} characters; at most {MAX_NAME})",
                        p.mesh_name,
                        comp.name,
                        full.len()
                    ),
                    comp.span,
                    "name too long inside the mesh",
                )
                .help("shorten the component or the mesh name (`defaults { mesh = \"...\" }`)"),
            );
        }
    }
    for (i, t) in p.topics.iter().enumerate() {
        if readers[i] > 0 && writers[i] == 0 && !t.external {
            c.diags.push(
                Diagnostic::new("E0308", format!("topic `{}` is read but nothing in this program writes it", t.name), t.span, "no producer")
                    .help("wire a source or function to it, or mark it `external` when something outside this program produces it"),
            );
        }
        if writers[i] > 0 && readers[i] == 0 && !side[i] {
            c.diags.push(Diagnostic::new(
                "W0301",
                format!("topic `{}` is written but never read in this program", t.name),
                t.span,
                "no consumer",
            ));
        }
    }
    // Kubernetes names must be unique per kind.
    for (i, a) in p.components.iter().enumerate() {
        if let Some(b) =
            p.components[..i].iter().find(|b| b.kube_name == a.kube_name && (b.kind == a.kind || c.opts.mesh))
        {
            c.diags.push(
                Diagnostic::new(
                    "E0101",
                    format!("`{}` and `{}` get the same Kubernetes name `{}`", b.name, a.name, a.kube_name),
                    a.span,
                    "same object name",
                )
                .label(b.span, "also named so"),
            );
        }
    }
}
