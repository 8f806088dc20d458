//! Pictures of a checked program: its components and topics as a graph, in
//! Graphviz DOT, Mermaid, or SVG drawn in-process (layout-rs, no graphviz).
//!
//! All three formats are drawn from one model, built in declaration order with
//! stable ids (`c0`, `c1`, ... for components, `t0`, ... for topics), so the
//! output is the same on every run. Diagnostics are shown on the nodes they
//! concern: a marker and the codes in the label, and an orange (warning) or red
//! (error) border.

use crate::diag::{Diagnostic, Severity};
use crate::ir::{Compat, ComponentKind, Program, Runtime};
use crate::source::Span;
use std::fmt::Write;

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum GraphFormat {
    Dot,
    Mermaid,
    Svg,
}

/// Draws the program's graph. `diags` are shown on the nodes whose declaration
/// they point at; those that point at no node are left out.
pub fn render(p: &Program, diags: &[Diagnostic], format: GraphFormat) -> String {
    let g = Graph::build(p, diags);
    match format {
        GraphFormat::Dot => dot(&g),
        GraphFormat::Mermaid => mermaid(&g),
        GraphFormat::Svg => svg::render(&g),
    }
}

// ---------------------------------------------------------------------------
// The model shared by the formats.

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Source,
    Function,
    Sink,
    Topic,
}

impl Kind {
    fn class(self) -> &'static str {
        match self {
            Kind::Source => "source",
            Kind::Function => "function",
            Kind::Sink => "sink",
            Kind::Topic => "topic",
        }
    }

    /// Fill and border colours, the same in every format.
    fn colors(self) -> (&'static str, &'static str) {
        match self {
            Kind::Source => ("#d3f9d8", "#2b8a3e"),
            Kind::Function => ("#d0ebff", "#1864ab"),
            Kind::Sink => ("#e5dbff", "#5f3dc4"),
            Kind::Topic => ("#f8f9fa", "#495057"),
        }
    }
}

const WARNING_COLOR: &str = "#e8590c";
const ERROR_COLOR: &str = "#c92a2a";

struct Node {
    id: String,
    kind: Kind,
    /// The first label line: the name, and a topic's schema.
    title: String,
    /// Further label lines: runtime and class, or compatibility and pattern.
    details: Vec<String>,
    external: bool,
    span: Span,
    /// Codes of the diagnostics about this node, in order, without repeats.
    codes: Vec<&'static str>,
    /// `CODE: message` of each of those diagnostics, for tooltips.
    messages: Vec<String>,
    worst: Option<Severity>,
}

impl Node {
    /// Every label line, the diagnostic marker last.
    fn lines(&self) -> Vec<String> {
        let mut lines = vec![self.title.clone()];
        lines.extend(self.details.iter().cloned());
        if !self.codes.is_empty() {
            lines.push(format!("⚠ {}", self.codes.join(" ")));
        }
        lines
    }

    /// The border colour when a diagnostic is about this node.
    fn alert_color(&self) -> Option<&'static str> {
        self.worst.map(|s| if s == Severity::Error { ERROR_COLOR } else { WARNING_COLOR })
    }

    fn alert_class(&self) -> Option<&'static str> {
        self.worst.map(|s| if s == Severity::Error { "error" } else { "warning" })
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum EdgeKind {
    /// A component writes its output topic, or a topic feeds a component.
    Data,
    DeadLetter,
    Log,
    LateData,
}

impl EdgeKind {
    fn label(self) -> Option<&'static str> {
        match self {
            EdgeKind::Data => None,
            EdgeKind::DeadLetter => Some("dead letter"),
            EdgeKind::Log => Some("log"),
            EdgeKind::LateData => Some("late data"),
        }
    }
}

struct Edge {
    from: usize,
    to: usize,
    kind: EdgeKind,
}

struct Graph {
    /// Components first, then topics, each in declaration order.
    nodes: Vec<Node>,
    edges: Vec<Edge>,
    name: String,
}

impl Graph {
    fn build(p: &Program, diags: &[Diagnostic]) -> Graph {
        let mut nodes: Vec<Node> = Vec::new();
        for (i, c) in p.components.iter().enumerate() {
            let kind = match c.kind {
                ComponentKind::Source => Kind::Source,
                ComponentKind::Function => Kind::Function,
                ComponentKind::Sink => Kind::Sink,
            };
            nodes.push(Node {
                id: format!("c{i}"),
                kind,
                title: c.name.clone(),
                details: vec![runtime_line(kind, &c.runtime, c.class_name.as_deref())],
                external: false,
                span: c.span,
                codes: Vec::new(),
                messages: Vec::new(),
                worst: None,
            });
        }
        let first_topic = nodes.len();
        for (i, t) in p.topics.iter().enumerate() {
            let mut details = Vec::new();
            if t.compat != Compat::Full {
                details.push(format!("compat {}", t.compat.name()));
            }
            if t.pattern {
                details.push(format!("pattern {}", t.full_name));
            }
            nodes.push(Node {
                id: format!("t{i}"),
                kind: Kind::Topic,
                title: format!("{} : {}", t.name, t.schema.display()),
                details,
                external: t.external,
                span: t.span,
                codes: Vec::new(),
                messages: Vec::new(),
                worst: None,
            });
        }

        // Topic ids come from the checker and are always in range; an edge to
        // a missing topic is dropped rather than trusted.
        let topic = |id: usize| (id < p.topics.len()).then_some(first_topic + id);
        let mut edges: Vec<Edge> = Vec::new();
        let mut add = |from: Option<usize>, to: Option<usize>, kind: EdgeKind| {
            if let (Some(from), Some(to)) = (from, to) {
                // One arrow per pair: a dead letter topic that is also the output adds nothing.
                if !edges.iter().any(|e| e.from == from && e.to == to) {
                    edges.push(Edge { from, to, kind });
                }
            }
        };
        for (i, c) in p.components.iter().enumerate() {
            for input in &c.inputs {
                add(topic(input.topic), Some(i), EdgeKind::Data);
            }
            add(Some(i), c.output.and_then(topic), EdgeKind::Data);
            add(Some(i), c.dead_letter.and_then(topic), EdgeKind::DeadLetter);
            add(Some(i), c.log_topic.and_then(topic), EdgeKind::Log);
            let late = c.window.as_ref().and_then(|w| w.late_data_topic);
            add(Some(i), late.and_then(topic), EdgeKind::LateData);
        }

        for d in diags {
            // The primary span names the node a diagnostic is about; when it
            // points elsewhere (a pipeline edge), the labelled declarations do.
            if !mark(&mut nodes, d, d.primary.span) {
                for label in &d.secondary {
                    mark(&mut nodes, d, label.span);
                }
            }
        }
        Graph { nodes, edges, name: p.mesh_name.clone() }
    }
}

/// The second line of a component: how it runs, and its class without the package.
fn runtime_line(kind: Kind, runtime: &Runtime, class_name: Option<&str>) -> String {
    let short = class_name.map(|c| c.rsplit('.').next().unwrap_or(c)).filter(|c| !c.is_empty());
    let runtime = match runtime {
        Runtime::Generic { language, .. } => language.as_str(),
        other => other.name(),
    };
    match (kind, short) {
        // Connectors are Java archives; their class says what they are.
        (Kind::Source | Kind::Sink, Some(class)) => class.to_string(),
        (_, Some(class)) => format!("{runtime} · {class}"),
        (_, None) => runtime.to_string(),
    }
}

/// Records `d` on every node whose declaration `span` overlaps; whether any did.
fn mark(nodes: &mut [Node], d: &Diagnostic, span: Span) -> bool {
    let mut hit = false;
    for n in nodes.iter_mut().filter(|n| overlaps(n.span, span)) {
        hit = true;
        if !n.codes.contains(&d.code) {
            n.codes.push(d.code);
        }
        n.messages.push(format!("{}: {}", d.code, d.message));
        n.worst = Some(n.worst.map_or(d.severity, |w| w.min(d.severity)));
    }
    hit
}

/// Whether two spans share a byte; an empty span counts as the byte it starts at.
fn overlaps(a: Span, b: Span) -> bool {
    let end = |s: Span| s.end.max(s.start.saturating_add(1));
    a.file == b.file && a.start < end(b) && b.start < end(a)
}

// ---------------------------------------------------------------------------
// Graphviz DOT.

fn dot(g: &Graph) -> String {
    let mut out = String::new();
    out.push_str("digraph mesh {\n  rankdir=LR;\n");
    let _ = writeln!(out, "  label=\"{}\";\n  labelloc=t;", dot_text(&g.name));
    out.push_str("  node [fontname=\"Helvetica\", fontsize=11, style=filled];\n");
    out.push_str("  edge [fontname=\"Helvetica\", fontsize=10, color=\"#495057\"];\n");
    for n in &g.nodes {
        let (fill, mut border) = n.kind.colors();
        let shape = match n.kind {
            Kind::Source => "cds",
            Kind::Function => "box",
            Kind::Sink => "box3d",
            Kind::Topic => "box",
        };
        let mut style = vec!["filled"];
        if n.kind == Kind::Topic {
            style.push("rounded");
        }
        if n.external {
            style.push("dashed");
        }
        let mut attrs = format!(
            "label=\"{}\", shape={shape}, style=\"{}\", fillcolor=\"{fill}\"",
            n.lines().iter().map(|l| dot_text(l)).collect::<Vec<_>>().join("\\n"),
            style.join(",")
        );
        if let Some(alert) = n.alert_color() {
            border = alert;
            let _ = write!(attrs, ", penwidth=2.5, tooltip=\"{}\"", dot_text(&n.messages.join("\n")));
        }
        let _ = writeln!(out, "  {} [{attrs}, color=\"{border}\"];", n.id);
    }
    for e in &g.edges {
        let (from, to) = (&g.nodes[e.from].id, &g.nodes[e.to].id);
        let style = match e.kind {
            EdgeKind::Data => String::new(),
            EdgeKind::Log => " [style=dotted, label=\"log\"]".to_string(),
            kind => format!(" [style=dashed, label=\"{}\"]", kind.label().unwrap_or_default()),
        };
        let _ = writeln!(out, "  {from} -> {to}{style};");
    }
    out.push_str("}\n");
    out
}

/// Text for a double-quoted DOT string. Backslashes are doubled so that a
/// regex in a pattern topic is not read as DOT's `\n`, `\l` or `\N`.
fn dot_text(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            '\r' => {}
            c => out.push(c),
        }
    }
    out
}

// ---------------------------------------------------------------------------
// Mermaid.

fn mermaid(g: &Graph) -> String {
    let mut out = String::from("flowchart LR\n");
    if g.nodes.is_empty() {
        out.push_str("  %% the program has no components and no topics\n");
    }
    for n in &g.nodes {
        let label = n.lines().iter().map(|l| mermaid_text(l)).collect::<Vec<_>>().join("<br/>");
        let (open, close) = match n.kind {
            Kind::Source => ("[/", "/]"),
            Kind::Function => ("[", "]"),
            Kind::Sink => ("[\\", "\\]"),
            Kind::Topic => ("([", "])"),
        };
        let _ = writeln!(out, "  {}{open}\"{label}\"{close}", n.id);
    }
    for e in &g.edges {
        let (from, to) = (&g.nodes[e.from].id, &g.nodes[e.to].id);
        let _ = match e.kind.label() {
            None => writeln!(out, "  {from} --> {to}"),
            Some(label) => writeln!(out, "  {from} -. {label} .-> {to}"),
        };
    }
    for kind in [Kind::Source, Kind::Function, Kind::Sink, Kind::Topic] {
        let (fill, border) = kind.colors();
        let _ = writeln!(out, "  classDef {} fill:{fill},stroke:{border},color:#212529", kind.class());
    }
    out.push_str("  classDef external stroke-dasharray:5 5\n");
    let _ = writeln!(out, "  classDef warning stroke:{WARNING_COLOR},stroke-width:3px");
    let _ = writeln!(out, "  classDef error stroke:{ERROR_COLOR},stroke-width:3px");
    // Kind classes first, so that a warning's border wins over the kind's.
    let mut classes: Vec<(&str, Vec<&str>)> = Vec::new();
    for class in ["source", "function", "sink", "topic", "external", "warning", "error"] {
        let ids: Vec<&str> = g
            .nodes
            .iter()
            .filter(|n| {
                n.kind.class() == class || (class == "external" && n.external) || n.alert_class() == Some(class)
            })
            .map(|n| n.id.as_str())
            .collect();
        if !ids.is_empty() {
            classes.push((class, ids));
        }
    }
    for (class, ids) in classes {
        let _ = writeln!(out, "  class {} {class}", ids.join(","));
    }
    out
}

/// Text for a double-quoted Mermaid label. Mermaid reads `#name;` as an
/// entity, and labels are HTML, so `<`, `>` and `&` must be entities too.
fn mermaid_text(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '"' => out.push_str("#quot;"),
            '#' => out.push_str("#35;"),
            '<' => out.push_str("#lt;"),
            '>' => out.push_str("#gt;"),
            '&' => out.push_str("#amp;"),
            '`' => out.push_str("#96;"),
            '\n' => out.push_str("<br/>"),
            '\r' => {}
            c => out.push(c),
        }
    }
    out
}

// ---------------------------------------------------------------------------
// SVG.

mod svg {
    use super::{EdgeKind, Graph, Kind, Node};
    use layout::backends::svg::SVGWriter;
    use layout::core::base::Orientation;
    use layout::core::color::Color;
    use layout::core::format::{ClipHandle, RenderBackend};
    use layout::core::geometry::{Point, Position};
    use layout::core::style::{LineStyleKind, StyleAttr};
    use layout::std_shapes::shapes::{Arrow, Element, LineEndKind, RecordDef, ShapeKind};
    use layout::topo::layout::VisualGraph;
    use std::fmt::Write;

    /// One font size everywhere: layout-rs keys its CSS classes by size in a
    /// HashMap, so a single size keeps the output byte-for-byte stable.
    const FONT: usize = 14;
    const FONT_FAMILY: &str = "Helvetica, Arial, sans-serif";
    /// Free space around each node: between columns (x), wide enough for an
    /// edge label, and between rows (y).
    const HALO: Point = Point { x: 110., y: 40. };
    /// Edge labels are drawn by us, not layout-rs, so their size is free.
    const LABEL_FONT: usize = 12;

    pub(super) fn render(g: &Graph) -> String {
        if g.nodes.is_empty() {
            return empty(&g.name);
        }
        // layout-rs asserts its invariants with panics; should one fire on some
        // graph, the picture falls back to a plainer layout instead of failing.
        std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| layered(g))).unwrap_or_else(|_| columns(g))
    }

    /// The attributes of an arrow's group, which name its kind.
    fn edge_class(kind: EdgeKind) -> String {
        let class = match kind {
            EdgeKind::Data => "data",
            EdgeKind::DeadLetter => "dead-letter",
            EdgeKind::Log => "log",
            EdgeKind::LateData => "late-data",
        };
        format!("class=\"edge {class}\"")
    }

    /// The middle of an arrow's path, whose points are the first pair's first
    /// and every later pair's second (the others are Bézier control points).
    fn middle(path: &[(Point, Point)]) -> Option<Point> {
        let points: Vec<Point> = path.iter().enumerate().map(|(i, p)| if i == 0 { p.0 } else { p.1 }).collect();
        let n = points.len();
        match n {
            0 => None,
            _ if n % 2 == 1 => Some(points[n / 2]),
            _ => Some(Point::new(
                (points[n / 2 - 1].x + points[n / 2].x) / 2.,
                (points[n / 2 - 1].y + points[n / 2].y) / 2.,
            )),
        }
    }

    /// The label of a node as layout-rs draws it: one string, lines split on `\n`.
    fn label(n: &Node) -> String {
        n.lines().join("\n")
    }

    /// Estimated size of some lines of text. layout-rs counts a full em per
    /// character, which makes boxes twice as wide as their text.
    fn text_size(lines: &[String]) -> Point {
        let chars = lines.iter().map(|l| l.chars().count()).max().unwrap_or(1).max(1);
        let font = FONT as f64;
        Point::new(chars as f64 * font * 0.6 + 24., (lines.len() + 1) as f64 * font + 4.)
    }

    fn color(web: &str) -> Color {
        Color::from_name(web).unwrap_or_else(|| Color::fast("black"))
    }

    fn layered(g: &Graph) -> String {
        let mut vg = VisualGraph::new(Orientation::LeftToRight);
        let handles: Vec<_> = g
            .nodes
            .iter()
            .map(|n| {
                let (fill, border) = n.kind.colors();
                let alert = n.alert_color();
                let look = StyleAttr::new(
                    color(alert.unwrap_or(border)),
                    if alert.is_some() { 4 } else { 2 },
                    Some(color(fill)),
                    if n.kind == Kind::Topic { 18 } else { 0 },
                    FONT,
                );
                let lines = n.lines();
                let mut size = text_size(&lines);
                // Sources and sinks carry a tag cell that names their kind.
                let shape = match n.kind {
                    Kind::Source | Kind::Sink => {
                        let tag = if n.kind == Kind::Source { "source" } else { "sink" };
                        size.x += text_size(&[tag.to_string()]).x;
                        let cells = [RecordDef::new_text(tag), RecordDef::new_text(&label(n))];
                        let cells =
                            if n.kind == Kind::Source { cells.to_vec() } else { cells.into_iter().rev().collect() };
                        ShapeKind::Record(RecordDef::Array(cells))
                    }
                    Kind::Function | Kind::Topic => ShapeKind::Box(label(n)),
                };
                // The border inherits the dash of an external topic from its group.
                let props = if n.external { "stroke-dasharray=\"7,4\"" } else { "" };
                let mut element = Element::create_with_properties(shape, look, Orientation::LeftToRight, size, props);
                // Wider gaps between columns than layout-rs's default, so that
                // edge labels fit; a little less between rows.
                element.pos = Position::new(Point::zero(), size, Point::zero(), HALO);
                vg.add_node(element)
            })
            .collect();
        for e in &g.edges {
            let mut look = StyleAttr::simple();
            look.line_color = color("#495057");
            // The writer makes a font class for arrows too; see FONT.
            look.font_size = FONT;
            let style = match e.kind {
                EdgeKind::Data => LineStyleKind::Normal,
                EdgeKind::Log => LineStyleKind::Dotted,
                EdgeKind::DeadLetter | EdgeKind::LateData => LineStyleKind::Dashed,
            };
            // No text on the arrow: layout-rs would lay the label out as a node
            // of its own, and that trips an assertion of its edge straightener
            // on some graphs. The canvas writes the label instead, found by the
            // arrow's class.
            let mut arrow = Arrow::new(LineEndKind::None, LineEndKind::Arrow, style, "", &look, &None, &None);
            arrow.properties = Some(edge_class(e.kind));
            vg.add_edge(arrow, handles[e.from], handles[e.to]);
        }
        let mut canvas = Canvas::new();
        vg.do_it(false, false, false, &mut canvas);
        canvas.finish(&g.name)
    }

    /// Passes drawing on to layout-rs's SVG writer and mends what it gets
    /// wrong for us: the picture's extent (it grows its window by a guess at
    /// the text size, on the wrong axis, leaving a blank band under the graph)
    /// and its serif font. It also writes the edge labels (see `layered`):
    /// last, above the middle of their arrow, with a white halo.
    struct Canvas {
        svg: SVGWriter,
        min: Point,
        max: Point,
        labels: String,
    }

    impl Canvas {
        fn new() -> Canvas {
            Canvas {
                svg: SVGWriter::new(),
                min: Point::new(f64::MAX, f64::MAX),
                max: Point::new(f64::MIN, f64::MIN),
                labels: String::new(),
            }
        }

        fn grow(&mut self, p: Point) {
            if p.x.is_finite() && p.y.is_finite() {
                self.min = Point::new(self.min.x.min(p.x), self.min.y.min(p.y));
                self.max = Point::new(self.max.x.max(p.x), self.max.y.max(p.y));
            }
        }

        fn finish(self, name: &str) -> String {
            const MARGIN: f64 = 10.;
            let svg =
                self.svg.finalize().replace("font-family: Times, serif;", &format!("font-family: {FONT_FAMILY};"));
            let (min, max) =
                if self.min.x <= self.max.x { (self.min, self.max) } else { (Point::zero(), Point::zero()) };
            let (x, y) = (min.x - MARGIN, min.y - MARGIN);
            let (w, h) = (max.x - min.x + 2. * MARGIN, max.y - min.y + 2. * MARGIN);
            // Everything after layout-rs's own opening tag is kept as it wrote it.
            let body = svg.find("<svg").and_then(|i| svg[i..].find('>').map(|j| &svg[i + j + 1..])).unwrap_or("");
            let body = body.strip_suffix("</svg>").unwrap_or(body);
            format!(
                "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"no\"?>\n\
                 <svg width=\"{w:.0}\" height=\"{h:.0}\" viewBox=\"{x:.1} {y:.1} {w:.1} {h:.1}\" \
                 xmlns=\"http://www.w3.org/2000/svg\">\n<title>{}</title>\n\
                 <rect x=\"{x:.1}\" y=\"{y:.1}\" width=\"100%\" height=\"100%\" fill=\"white\"/>\n{body}\n{}</svg>\n",
                xml_text(name),
                self.labels
            )
        }
    }

    impl RenderBackend for Canvas {
        fn draw_rect(
            &mut self,
            xy: Point,
            size: Point,
            look: &StyleAttr,
            props: Option<String>,
            clip: Option<ClipHandle>,
        ) {
            self.grow(xy);
            self.grow(Point::new(xy.x + size.x, xy.y + size.y));
            self.svg.draw_rect(xy, size, look, props, clip);
        }

        fn draw_line(&mut self, start: Point, stop: Point, look: &StyleAttr, props: Option<String>) {
            self.grow(start);
            self.grow(stop);
            self.svg.draw_line(start, stop, look, props);
        }

        fn draw_circle(&mut self, xy: Point, size: Point, look: &StyleAttr, props: Option<String>) {
            self.grow(Point::new(xy.x - size.x / 2., xy.y - size.y / 2.));
            self.grow(Point::new(xy.x + size.x / 2., xy.y + size.y / 2.));
            self.svg.draw_circle(xy, size, look, props);
        }

        fn draw_text(&mut self, xy: Point, text: &str, look: &StyleAttr) {
            let lines: Vec<String> = text.lines().map(str::to_string).collect();
            let size = text_size(&lines);
            self.grow(Point::new(xy.x - size.x / 2., xy.y - size.y / 2.));
            self.grow(Point::new(xy.x + size.x / 2., xy.y + size.y / 2.));
            self.svg.draw_text(xy, text, look);
        }

        fn draw_arrow(
            &mut self,
            path: &[(Point, Point)],
            dashed: bool,
            head: (bool, bool),
            look: &StyleAttr,
            props: Option<String>,
            text: &str,
        ) {
            for &(a, b) in path {
                self.grow(a);
                self.grow(b);
            }
            let kinds = [EdgeKind::DeadLetter, EdgeKind::Log, EdgeKind::LateData];
            let label =
                kinds.into_iter().find(|&k| props.as_deref() == Some(edge_class(k).as_str())).and_then(EdgeKind::label);
            if let (Some(label), Some(at)) = (label, middle(path)) {
                let _ = writeln!(
                    self.labels,
                    "<text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"middle\" dominant-baseline=\"middle\" \
                     font-family=\"{FONT_FAMILY}\" font-size=\"{LABEL_FONT}\" fill=\"#495057\" \
                     stroke=\"white\" stroke-width=\"4\" paint-order=\"stroke\">{}</text>",
                    at.x,
                    // Just above the line rather than across it.
                    at.y - LABEL_FONT as f64 * 0.6,
                    xml_text(label)
                );
            }
            self.svg.draw_arrow(path, dashed, head, look, props, text);
        }

        fn create_clip(&mut self, xy: Point, size: Point, rounded_px: usize) -> ClipHandle {
            self.svg.create_clip(xy, size, rounded_px)
        }
    }

    fn empty(name: &str) -> String {
        format!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"no\"?>\n\
             <svg width=\"320\" height=\"60\" viewBox=\"0 0 320 60\" xmlns=\"http://www.w3.org/2000/svg\">\n\
             <title>{}</title>\n<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n\
             <text x=\"160\" y=\"35\" text-anchor=\"middle\" font-family=\"{FONT_FAMILY}\" font-size=\"{FONT}\">\
             no components and no topics</text>\n</svg>\n",
            xml_text(name)
        )
    }

    /// The fallback picture, drawn without layout-rs: each node in the column
    /// of its longest path from a node with no inputs, in declaration order
    /// within the column, and straight arrows.
    fn columns(g: &Graph) -> String {
        const GAP: f64 = 40.;
        let n = g.nodes.len();
        // Longest-path ranks; a cycle stops growing at the last column.
        let mut rank = vec![0usize; n];
        for _ in 0..n {
            let mut changed = false;
            for e in &g.edges {
                if rank[e.to] <= rank[e.from] && rank[e.from] + 1 < n {
                    rank[e.to] = rank[e.from] + 1;
                    changed = true;
                }
            }
            if !changed {
                break;
            }
        }
        let sizes: Vec<Point> = g.nodes.iter().map(|n| text_size(&n.lines())).collect();
        let columns = rank.iter().max().map_or(0, |r| r + 1);
        let mut width = vec![0f64; columns];
        let mut height = vec![GAP; columns];
        let mut top = vec![0f64; n];
        for i in 0..n {
            width[rank[i]] = width[rank[i]].max(sizes[i].x);
            top[i] = height[rank[i]];
            height[rank[i]] += sizes[i].y + GAP;
        }
        let mut left = vec![GAP; columns];
        for c in 1..columns {
            left[c] = left[c - 1] + width[c - 1] + 2. * GAP;
        }
        let center = |i: usize| Point::new(left[rank[i]] + width[rank[i]] / 2., top[i] + sizes[i].y / 2.);
        let total_width = left.last().copied().unwrap_or(0.) + width.last().copied().unwrap_or(0.) + GAP;
        let total_height = height.iter().copied().fold(GAP, f64::max);
        let mut out = format!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"no\"?>\n\
             <svg width=\"{total_width:.0}\" height=\"{total_height:.0}\" \
             viewBox=\"0 0 {total_width:.1} {total_height:.1}\" xmlns=\"http://www.w3.org/2000/svg\">\n\
             <title>{}</title>\n\
             <defs><marker id=\"arrow\" markerWidth=\"10\" markerHeight=\"7\" refX=\"10\" refY=\"3.5\" orient=\"auto\">\
             <polygon points=\"0 0, 10 3.5, 0 7\" fill=\"#495057\"/></marker></defs>\n\
             <rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n",
            xml_text(&g.name)
        );
        let mut labels = String::new();
        for e in &g.edges {
            // From border to border, so that the arrowhead is not under the node.
            let (a, b) = (center(e.from), center(e.to));
            let (a, b) = (towards(a, b, sizes[e.from]), towards(b, a, sizes[e.to]));
            let dash = if e.kind == EdgeKind::Data { "" } else { " stroke-dasharray=\"5,5\"" };
            let _ = writeln!(
                out,
                "<line x1=\"{:.1}\" y1=\"{:.1}\" x2=\"{:.1}\" y2=\"{:.1}\" stroke=\"#495057\" stroke-width=\"1.5\"{dash} \
                 marker-end=\"url(#arrow)\"/>",
                a.x, a.y, b.x, b.y
            );
            if let Some(label) = e.kind.label() {
                let _ = writeln!(
                    labels,
                    "<text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"middle\" font-family=\"{FONT_FAMILY}\" \
                     font-size=\"{LABEL_FONT}\" fill=\"#495057\" stroke=\"white\" stroke-width=\"4\" \
                     paint-order=\"stroke\">{}</text>",
                    (a.x + b.x) / 2.,
                    (a.y + b.y) / 2. - 4.,
                    xml_text(label)
                );
            }
        }
        for (i, n) in g.nodes.iter().enumerate() {
            let (c, s) = (center(i), sizes[i]);
            let (fill, border) = n.kind.colors();
            let dash = if n.external { " stroke-dasharray=\"7,4\"" } else { "" };
            let rx = if n.kind == Kind::Topic { 18 } else { 0 };
            let _ = writeln!(
                out,
                "<g class=\"{}\"><rect x=\"{:.1}\" y=\"{:.1}\" width=\"{:.1}\" height=\"{:.1}\" rx=\"{rx}\" \
                 fill=\"{fill}\" stroke=\"{}\" stroke-width=\"{}\"{dash}/>",
                n.kind.class(),
                c.x - s.x / 2.,
                c.y - s.y / 2.,
                s.x,
                s.y,
                n.alert_color().unwrap_or(border),
                if n.alert_color().is_some() { 4 } else { 2 }
            );
            let lines = n.lines();
            let first = c.y - (lines.len() as f64 - 1.) * FONT as f64 * 0.6;
            for (k, line) in lines.iter().enumerate() {
                let _ = writeln!(
                    out,
                    "<text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"middle\" dominant-baseline=\"middle\" \
                     font-family=\"{FONT_FAMILY}\" font-size=\"{FONT}\">{}</text>",
                    c.x,
                    first + k as f64 * FONT as f64 * 1.2,
                    xml_text(line)
                );
            }
            out.push_str("</g>\n");
        }
        out.push_str(&labels);
        out.push_str("</svg>\n");
        out
    }

    /// Where the line from the centre `from` of a box of `size` to `to` leaves the box.
    fn towards(from: Point, to: Point, size: Point) -> Point {
        let (dx, dy) = (to.x - from.x, to.y - from.y);
        let scale = |half: f64, d: f64| if d == 0. { f64::INFINITY } else { half / d.abs() };
        let t = scale(size.x / 2., dx).min(scale(size.y / 2., dy)).min(1.);
        Point::new(from.x + dx * t, from.y + dy * t)
    }

    fn xml_text(s: &str) -> String {
        let mut out = String::with_capacity(s.len());
        for c in s.chars() {
            match c {
                '&' => out.push_str("&amp;"),
                '<' => out.push_str("&lt;"),
                '>' => out.push_str("&gt;"),
                '"' => out.push_str("&quot;"),
                '\'' => out.push_str("&apos;"),
                c => out.push(c),
            }
        }
        out
    }

    #[cfg(test)]
    mod tests {
        use super::*;

        /// The fallback is reached only through a layout-rs panic, so it is tested here directly.
        #[test]
        fn fallback_draws_every_node_and_edge() {
            let text = "pulsar p { web_service_url = \"http://b:8080\", broker_service_url = \"pulsar://b:6650\" }\n\
                        topic input : string external\ntopic output : string\ntopic dead : bytes\n\
                        function f(string) -> string = java(\"com.F\") { jar = \"f.jar\", max_retries = 2, dead_letter = dead }\n\
                        pipeline x { input -> f -> output }";
            let loaded = crate::load::load_text("fallback.mesh", text);
            let (program, diags) = crate::check::check(&loaded, &crate::check::Options::default());
            let program = program.expect("the program checks");
            let svg = columns(&Graph::build(&program, &diags));
            for text in ["f", "java · F", "input : string", "output : string", "⚠ W0301", "dead letter"] {
                assert!(svg.contains(&format!(">{}<", xml_text(text))), "{text} missing:\n{svg}");
            }
            assert_eq!(svg.matches("<line ").count(), 3);
            assert!(roxmltree::Document::parse(&svg).is_ok(), "not well-formed:\n{svg}");
        }
    }
}
