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
        if c.opts.mesh
            && (!comp.labels.is_empty() || !comp.annotations.is_empty() || comp.pulsar_name != comp.kube_name)
        {
            c.diags.push(
                Diagnostic::new("W0103", format!("`labels`, `annotations` and `pulsar_name` of `{}` have no effect in a FunctionMesh", comp.name), comp.span, "ignored with --mesh")
                    .note("FunctionMesh items carry no metadata, and their name is both the Pulsar name and the child's name suffix")
                    .help("use `pod { labels { ... } }` for pod labels, or compile without --mesh"),
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
        if readers[i] > 0 && writers[i] == 0 && !t.external && !t.pattern {
            c.diags.push(
                Diagnostic::new("E0308", format!("topic `{}` is read but nothing in this program writes it", t.name), t.span, "no producer")
                    .help("wire a source or function to it, or mark it `external` when something outside this program produces it"),
            );
        }
        if writers[i] > 0 && readers[i] == 0 && !side[i] && !t.external {
            c.diags.push(Diagnostic::new(
                "W0301",
                format!("topic `{}` is written but never read in this program", t.name),
                t.span,
                "no consumer",
            ));
        }
    }
    // Several producers must agree on the schema, or the topic keeps changing versions.
    let mut producers_of: Vec<Vec<&crate::ir::Component>> = vec![Vec::new(); p.topics.len()];
    for comp in &p.components {
        if let Some(t) = comp.output {
            producers_of[t].push(comp);
        }
    }
    for (t, topic) in p.topics.iter().enumerate() {
        let producers = &producers_of[t];
        for pair in producers.windows(2) {
            if let (Some(a), Some(b)) = (&pair[0].output_schema, &pair[1].output_schema) {
                if !a.same_data(b) && topic.compat != crate::ir::Compat::AlwaysCompatible {
                    c.diags.push(
                        Diagnostic::new(
                            "E0509",
                            format!(
                                "`{}` and `{}` write different schemas to topic `{}`: {} and {}",
                                pair[0].name,
                                pair[1].name,
                                topic.name,
                                a.display(),
                                b.display()
                            ),
                            pair[1].span,
                            format!("writes {}", b.display()),
                        )
                        .label(pair[0].span, format!("writes {}", a.display()))
                        .label(topic.span, "topic declared here"),
                    );
                }
            }
        }
    }
    if let Some(cycle) = find_cycle(p) {
        let names: Vec<&str> = cycle.iter().map(|&i| p.components[i].name.as_str()).collect();
        c.diags.push(
            Diagnostic::new(
                "W0304",
                format!("the pipeline has a cycle: {} -> {}", names.join(" -> "), names[0]),
                p.components[cycle[0]].span,
                "part of a cycle",
            )
            .note("messages can circulate forever; make sure the functions stop forwarding them"),
        );
    }
    // ConfigMaps: one per cluster in use, plus the topics snapshot; names must not collide.
    let mut config_maps: Vec<(&str, crate::source::Span, String)> = Vec::new();
    for (i, cl) in p.clusters.iter().enumerate() {
        if p.components.iter().any(|comp| comp.cluster == i) {
            config_maps.push((&cl.config_map, cl.span, format!("the ConfigMap of pulsar `{}`", cl.name)));
        }
    }
    let topics_cm = format!("{}-topics", p.mesh_name);
    for (i, (name, span, what)) in config_maps.iter().enumerate() {
        let clash = config_maps[..i].iter().find(|(n, _, _)| n == name).map(|(_, s, w)| (Some(*s), w.clone()));
        let clash = clash.or_else(|| {
            (*name == topics_cm && !p.topics.is_empty()).then(|| (None, "the topics ConfigMap mesh writes".to_string()))
        });
        if let Some((other, other_what)) = clash {
            let mut d = Diagnostic::new(
                "E0101",
                format!("{what} and {other_what} are both named `{name}`"),
                *span,
                "same ConfigMap name",
            )
            .help("set `config_map = \"...\"` in the `pulsar` block to a name of its own");
            if let Some(o) = other {
                d = d.label(o, "also named so");
            }
            c.diags.push(d);
        }
    }
    // Kubernetes names must be unique per kind.
    // In a mesh all kinds share one name space (`<mesh>-<name>` children).
    let mut seen: std::collections::HashMap<(&str, Option<crate::ir::ComponentKind>), &crate::ir::Component> =
        std::collections::HashMap::new();
    for a in &p.components {
        let key = (a.kube_name.as_str(), if c.opts.mesh { None } else { Some(a.kind) });
        let first = *seen.entry(key).or_insert(a);
        if !std::ptr::eq(first, a) {
            let b = first;
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

/// A cycle of components (through their topics), if there is one: the
/// components in order, starting from the first in declaration order.
fn find_cycle(p: &Program) -> Option<Vec<usize>> {
    let n = p.components.len();
    // Component a feeds b when a's output topic is one of b's inputs.
    let mut readers: Vec<Vec<usize>> = vec![Vec::new(); p.topics.len()];
    for (b, comp) in p.components.iter().enumerate() {
        for i in &comp.inputs {
            readers[i.topic].push(b);
        }
    }
    let next: Vec<Vec<usize>> = (0..n)
        .map(|a| match p.components[a].output {
            // A component reading its own output is E0305, not a cycle worth a second message.
            Some(t) => readers[t].iter().copied().filter(|&b| b != a).collect(),
            None => Vec::new(),
        })
        .collect();
    // Iterative depth-first search with colours: 0 new, 1 on the stack, 2 done.
    let mut colour = vec![0u8; n];
    for start in 0..n {
        if colour[start] != 0 {
            continue;
        }
        let mut stack = vec![(start, 0usize)];
        colour[start] = 1;
        while let Some(&mut (node, ref mut edge)) = stack.last_mut() {
            if let Some(&succ) = next[node].get(*edge) {
                *edge += 1;
                match colour[succ] {
                    0 => {
                        colour[succ] = 1;
                        stack.push((succ, 0));
                    }
                    1 => {
                        let pos = stack.iter().position(|(x, _)| *x == succ).unwrap_or(0);
                        return Some(stack[pos..].iter().map(|(x, _)| *x).collect());
                    }
                    _ => {}
                }
            } else {
                colour[node] = 2;
                stack.pop();
            }
        }
    }
    None
}
