//! Name resolution, types and rules: syntax tree in, Pipeline IR out. This is
//! the only stage that reports errors about the program itself.

mod components;
mod defaults;
pub(crate) mod passthrough;
pub(crate) mod pod;
mod rules;
mod schemas;
pub mod values;
mod wiring;

use crate::diag::Diagnostic;
use crate::ir::{self, Program};
use crate::load::Loaded;
use crate::source::{FileId, Span};
use crate::syntax::ast::*;
use std::collections::{BTreeMap, BTreeSet};
use values::{suggest, Lets};

#[derive(Clone, Debug, Default)]
pub struct Options {
    /// `--profile NAME`: a `profile` block whose settings override `defaults`.
    pub profile: Option<String>,
    /// Checking for `--mesh` output, where objects are named `<mesh>-<component>`.
    pub mesh: bool,
    /// How Avro and JSON schemas are compared: as the broker does, or strictly.
    pub schema_rules: crate::schema::avro_compat::Rules,
}

/// Checks a loaded program. The IR is returned only when there is no error.
pub fn check(loaded: &Loaded, opts: &Options) -> (Option<Program>, Vec<Diagnostic>) {
    let mut c = Checker::new(loaded, opts);
    c.collect();
    let program = c.build();
    let mut diags = c.diags;
    diags.extend(loaded.diags.iter().cloned());
    crate::diag::sort(&mut diags);
    diags.dedup();
    let ok = !diags.iter().any(Diagnostic::is_error);
    (program.filter(|_| ok), diags)
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Sym {
    Pulsar(usize),
    Schema(usize),
    Topic(usize),
    Component(usize),
    Pipeline(usize),
    Let(usize),
    Connector(usize),
    Module(usize),
}

impl Sym {
    fn what(self) -> &'static str {
        match self {
            Sym::Pulsar(_) => "a pulsar cluster",
            Sym::Schema(_) => "a schema",
            Sym::Topic(_) => "a topic",
            Sym::Component(_) => "a component",
            Sym::Pipeline(_) => "a pipeline",
            Sym::Let(_) => "a `let` value",
            Sym::Connector(_) => "a connector",
            Sym::Module(_) => "a module",
        }
    }
}

pub(crate) struct Module<'a> {
    alias: String,
    path: String,
    connectors: BTreeMap<String, &'a ConnectorDecl>,
}

pub(crate) struct Checker<'a> {
    loaded: &'a Loaded,
    opts: &'a Options,
    pub(crate) diags: Vec<Diagnostic>,
    names: BTreeMap<String, (Sym, Span)>,
    pulsars: Vec<&'a PulsarDecl>,
    schemas: Vec<(&'a SchemaDecl, &'a [Annotation])>,
    topics: Vec<&'a TopicDecl>,
    components: Vec<&'a ComponentDecl>,
    pipelines: Vec<&'a PipelineDecl>,
    lets: Vec<&'a LetDecl>,
    connectors: Vec<&'a ConnectorDecl>,
    modules: Vec<Module<'a>>,
    profiles: BTreeMap<String, &'a ProfileDecl>,
    defaults: Option<&'a Block>,
    used: BTreeSet<Sym>,
    let_values: Lets<'a>,
    schema_state: Vec<SchemaState>,
    /// What each typed sink's connector accepts, by component name, with the declaration's span.
    accepts: BTreeMap<String, (Vec<String>, Span)>,
    /// Components declared `@template`: instantiated by others, never deployed.
    templates: BTreeSet<usize>,
}

#[derive(Clone)]
enum SchemaState {
    Unresolved,
    InProgress,
    Done(Option<crate::schema::Schema>),
}

impl<'a> Checker<'a> {
    fn new(loaded: &'a Loaded, opts: &'a Options) -> Checker<'a> {
        Checker {
            loaded,
            opts,
            diags: Vec::new(),
            names: BTreeMap::new(),
            pulsars: Vec::new(),
            schemas: Vec::new(),
            topics: Vec::new(),
            components: Vec::new(),
            pipelines: Vec::new(),
            lets: Vec::new(),
            connectors: Vec::new(),
            modules: Vec::new(),
            profiles: BTreeMap::new(),
            defaults: None,
            used: BTreeSet::new(),
            let_values: BTreeMap::new(),
            schema_state: Vec::new(),
            accepts: BTreeMap::new(),
            templates: BTreeSet::new(),
        }
    }

    fn user_files(&self) -> impl Iterator<Item = &'a File> {
        let loaded = self.loaded;
        loaded.files.iter().filter(move |f| !loaded.sources.get(f.id).is_stdlib)
    }

    fn declare(&mut self, name: &Ident, sym: Sym) {
        if let Some((_, first)) = self.names.get(&name.name) {
            let d = Diagnostic::new(
                "E0101",
                format!("`{}` is declared twice", name.name),
                name.span,
                "declared again here",
            )
            .label(*first, "first declared here")
            .help("every top-level name must be unique across the program's files; rename one of them");
            self.diags.push(d);
            return;
        }
        self.names.insert(name.name.clone(), (sym, name.span));
    }

    /// First pass: every declaration gets its name.
    fn collect(&mut self) {
        for file in self.user_files() {
            for decl in &file.decls {
                match &decl.kind {
                    DeclKind::Use(u) => self.collect_use(u),
                    DeclKind::Pulsar(p) => {
                        self.pulsars.push(p);
                        self.declare(&p.name, Sym::Pulsar(self.pulsars.len() - 1));
                    }
                    DeclKind::Defaults(b) => match self.defaults {
                        Some(first) => self.diags.push(
                            Diagnostic::new(
                                "E0101",
                                "`defaults` is declared twice",
                                decl.span,
                                "second `defaults` block",
                            )
                            .label(first.span, "first `defaults` block")
                            .help("merge the two blocks into one"),
                        ),
                        None => self.defaults = Some(b),
                    },
                    DeclKind::Schema(s) => {
                        self.schemas.push((s, &decl.annotations));
                        self.schema_state.push(SchemaState::Unresolved);
                        self.declare(&s.name, Sym::Schema(self.schemas.len() - 1));
                    }
                    DeclKind::Topic(t) => {
                        self.topics.push(t);
                        self.declare(&t.name, Sym::Topic(self.topics.len() - 1));
                    }
                    DeclKind::Component(c) => {
                        self.components.push(c);
                        self.declare(&c.name, Sym::Component(self.components.len() - 1));
                    }
                    DeclKind::Pipeline(p) => {
                        self.pipelines.push(p);
                        self.declare(&p.name, Sym::Pipeline(self.pipelines.len() - 1));
                    }
                    DeclKind::Let(l) => {
                        self.lets.push(l);
                        self.declare(&l.name, Sym::Let(self.lets.len() - 1));
                        self.let_values.insert(l.name.name.clone(), &l.value);
                    }
                    DeclKind::Connector(c) => {
                        self.connectors.push(c);
                        self.declare(&c.name, Sym::Connector(self.connectors.len() - 1));
                    }
                    DeclKind::Profile(p) => {
                        if let Some(first) = self.profiles.get(&p.name.name) {
                            let first = first.name.span;
                            self.diags.push(
                                Diagnostic::new(
                                    "E0101",
                                    format!("profile `{}` is declared twice", p.name.name),
                                    p.name.span,
                                    "declared again here",
                                )
                                .label(first, "first declared here"),
                            );
                        } else {
                            self.profiles.insert(p.name.name.clone(), p);
                        }
                    }
                }
                let is_template = matches!(decl.kind, DeclKind::Component(_))
                    && !decl.annotations.is_empty()
                    && decl.annotations.iter().all(|a| a.name.name == "template" && a.args.is_empty());
                if is_template {
                    self.templates.insert(self.components.len() - 1);
                } else if !decl.annotations.is_empty() && !matches!(decl.kind, DeclKind::Schema(_)) {
                    let a = &decl.annotations[0];
                    self.diags.push(Diagnostic::new(
                        "E0202",
                        format!("annotation `@{}` is not allowed here", a.name.name),
                        a.span,
                        "annotations apply to schemas, record fields, and `@template` components",
                    ));
                }
            }
        }
        self.check_let_cycles();
        self.mark_value_references();
    }

    /// Names used as values anywhere (a `let` in a setting, a cluster named by
    /// a profile that is not selected) count as used.
    fn mark_value_references(&mut self) {
        fn walk(v: &Value, names: &BTreeMap<String, (Sym, Span)>, used: &mut BTreeSet<Sym>) {
            match &v.kind {
                ValueKind::Path(p) if p.is_single() => {
                    if let Some((sym, _)) = names.get(&p.segments[0].name) {
                        used.insert(*sym);
                    }
                }
                ValueKind::List(items) => items.iter().for_each(|i| walk(i, names, used)),
                ValueKind::Map(b) | ValueKind::Ctor { body: b, .. } => {
                    b.items.iter().for_each(|i| walk(&i.value, names, used))
                }
                ValueKind::Call { args, .. } => args.iter().for_each(|a| walk(a, names, used)),
                _ => {}
            }
        }
        let mut used = std::mem::take(&mut self.used);
        for file in self.user_files() {
            for decl in &file.decls {
                let blocks: Vec<&Block> = match &decl.kind {
                    DeclKind::Pulsar(p) => vec![&p.body],
                    DeclKind::Defaults(b) => vec![b],
                    DeclKind::Profile(p) => vec![&p.body],
                    DeclKind::Topic(t) => t.body.iter().collect(),
                    DeclKind::Component(c) => {
                        c.head_args.iter().for_each(|a| walk(a, &self.names, &mut used));
                        c.body.iter().collect()
                    }
                    DeclKind::Let(l) => {
                        walk(&l.value, &self.names, &mut used);
                        Vec::new()
                    }
                    _ => Vec::new(),
                };
                for b in blocks {
                    b.items.iter().for_each(|i| walk(&i.value, &self.names, &mut used));
                }
            }
        }
        self.used = used;
    }

    /// Replaces every `let` name used as a value in `block` by the value it
    /// names, so blocks given through a `let` read like blocks written in place.
    pub(crate) fn substitute_lets(&self, block: &mut Block) {
        fn subst(v: &mut Value, lets: &Lets<'_>, depth: usize) {
            if depth > 32 {
                return; // a `let` loop, reported by check_let_cycles
            }
            match &mut v.kind {
                ValueKind::Path(p) if p.is_single() => {
                    if let Some(target) = lets.get(&p.segments[0].name) {
                        let mut replacement = (*target).clone();
                        subst(&mut replacement, lets, depth + 1);
                        v.kind = replacement.kind;
                    }
                }
                ValueKind::List(items) => items.iter_mut().for_each(|i| subst(i, lets, depth)),
                ValueKind::Map(b) | ValueKind::Ctor { body: b, .. } => {
                    b.items.iter_mut().for_each(|i| subst(&mut i.value, lets, depth))
                }
                ValueKind::Call { args, .. } => args.iter_mut().for_each(|a| subst(a, lets, depth)),
                _ => {}
            }
        }
        for item in &mut block.items {
            subst(&mut item.value, &self.let_values, 0);
        }
    }

    fn collect_use(&mut self, u: &'a UseDecl) {
        let UseDecl::Module { path, items } = u else { return };
        let segments: Vec<&str> = path.segments.iter().map(|s| s.name.as_str()).collect();
        if segments.first() != Some(&"std") {
            self.diags.push(
                Diagnostic::new(
                    "E0105",
                    format!("`{}` is not a module: modules live under `std::`", path.joined()),
                    path.span,
                    "unknown module",
                )
                .help("use `use \"./file.mesh\"` for another file, or `use std::io::kafka` for a stdlib connector"),
            );
            return;
        }
        let base = segments[1..].join("::");
        let targets: Vec<(String, &Ident)> = if items.is_empty() {
            vec![(base.clone(), path.last())]
        } else {
            items
                .iter()
                .map(|i| (if base.is_empty() { i.name.clone() } else { format!("{base}::{}", i.name) }, i))
                .collect()
        };
        for (module, ident) in targets {
            let Some(&file) = self.loaded.stdlib.get(&module) else { continue };
            let connectors = self
                .loaded
                .file(file)
                .decls
                .iter()
                .filter_map(|d| match &d.kind {
                    DeclKind::Connector(c) => Some((c.name.name.clone(), c)),
                    _ => None,
                })
                .collect();
            if self.modules.iter().any(|m| m.path == module) {
                continue;
            }
            self.modules.push(Module { alias: ident.name.clone(), path: module, connectors });
            self.declare(ident, Sym::Module(self.modules.len() - 1));
        }
    }

    fn check_let_cycles(&mut self) {
        for l in &self.lets {
            let mut seen = vec![l.name.name.as_str()];
            let mut cur = &l.value;
            while let ValueKind::Path(p) = &cur.kind {
                if !p.is_single() {
                    break;
                }
                let n = p.segments[0].name.as_str();
                if seen.contains(&n) {
                    self.diags.push(
                        Diagnostic::new(
                            "E0106",
                            format!("`let {}` refers to itself", l.name.name),
                            l.value.span,
                            "cycle",
                        )
                        .note(format!("cycle: {} -> {n}", seen.join(" -> "))),
                    );
                    break;
                }
                seen.push(n);
                match self.let_values.get(n) {
                    Some(v) => cur = v,
                    None => break,
                }
            }
        }
    }

    /// Looks a name up; reports an unknown name with the closest known one.
    pub(crate) fn lookup(&mut self, name: &Ident, expected: &str, fits: impl Fn(Sym) -> bool) -> Option<Sym> {
        if let Some(&(sym, _)) = self.names.get(&name.name) {
            self.used.insert(sym);
            if fits(sym) {
                return Some(sym);
            }
            let (_, decl_span) = self.names[&name.name];
            self.diags.push(
                Diagnostic::new(
                    "E0107",
                    format!("`{}` is {}, but {expected} is expected here", name.name, sym.what()),
                    name.span,
                    format!("expected {expected}"),
                )
                .label(decl_span, format!("`{}` is declared here", name.name)),
            );
            return None;
        }
        let candidates: Vec<&str> = self.names.iter().filter(|(_, (s, _))| fits(*s)).map(|(n, _)| n.as_str()).collect();
        let noun = expected.trim_start_matches("a ").trim_start_matches("an ");
        let mut d = Diagnostic::new(
            "E0102",
            format!("cannot find {noun} `{}`", name.name),
            name.span,
            format!("no {noun} is called `{}`", name.name),
        );
        if let Some(s) = suggest(&name.name, candidates.iter().copied()) {
            let span = self.names[s].1;
            d = d.help(format!("did you mean `{s}`?")).label(span, format!("`{s}` is declared here"));
        }
        self.diags.push(d);
        None
    }

    pub(crate) fn reader(&mut self) -> values::Reader<'a, '_> {
        values::Reader { diags: &mut self.diags, lets: &self.let_values }
    }

    fn build(&mut self) -> Option<Program> {
        let defaults = defaults::read(self)?;
        let clusters = self.clusters();
        let mut program = Program {
            clusters,
            topics: Vec::new(),
            components: Vec::new(),
            mesh_name: String::new(),
            kube_namespace: defaults.kube_namespace.clone(),
        };
        // Every schema is resolved, used or not, so a broken one is reported.
        for i in 0..self.schemas.len() {
            let decl = self.schemas[i].0;
            self.declared_schema(i, &decl.ty);
        }
        let topics: Vec<Option<ir::Topic>> = (0..self.topics.len()).map(|i| self.topic(i, &defaults)).collect();
        let mut comps = Vec::new();
        for i in 0..self.components.len() {
            if !self.templates.contains(&i) {
                comps.push(components::build(self, i, &defaults, &program.clusters));
            }
        }
        let edges = wiring::edges(self);
        program.mesh_name = self.mesh_name(&defaults);
        self.warn_unused();
        let topics: Vec<ir::Topic> = topics.into_iter().collect::<Option<_>>()?;
        let mut comps: Vec<ir::Component> = comps.into_iter().collect::<Option<_>>()?;
        wiring::apply(self, &edges, &topics, &mut comps);
        program.topics = topics;
        program.components = comps;
        rules::check(self, &program);
        Some(program)
    }

    fn mesh_name(&mut self, d: &defaults::Defaults) -> String {
        if let Some(m) = &d.mesh {
            return m.clone();
        }
        match self.pipelines.as_slice() {
            [p] => crate::names::kube_name(&p.name.name),
            _ => {
                let root = self.loaded.roots.first().copied().unwrap_or(FileId(0));
                let name = &self.loaded.sources.get(root).name;
                let stem =
                    std::path::Path::new(name).file_stem().map_or("mesh".into(), |s| s.to_string_lossy().into_owned());
                // A file name may hold anything; the mesh name must be a DNS label.
                let cleaned: String = crate::names::kube_name(&stem)
                    .chars()
                    .map(|ch| if ch.is_ascii_lowercase() || ch.is_ascii_digit() { ch } else { '-' })
                    .collect();
                let cleaned = cleaned.trim_matches('-');
                if cleaned.is_empty() {
                    "mesh".to_string()
                } else {
                    cleaned.chars().take(40).collect()
                }
            }
        }
    }

    fn clusters(&mut self) -> Vec<ir::Cluster> {
        let pulsars = self.pulsars.clone();
        pulsars.iter().filter_map(|p| defaults::cluster(self, p)).collect()
    }

    fn topic(&mut self, i: usize, d: &defaults::Defaults) -> Option<ir::Topic> {
        let t = self.topics[i];
        let schema = self.schema_of(&t.ty);
        let compat = match &t.compat {
            None => ir::Compat::Full,
            Some(id) => match ir::Compat::ALL.iter().find(|(n, _)| *n == id.name) {
                Some((_, c)) => *c,
                None => {
                    let names: Vec<&str> = ir::Compat::ALL.iter().map(|(n, _)| *n).collect();
                    let mut diag = Diagnostic::new(
                        "E0204",
                        format!("`{}` is not a compatibility strategy", id.name),
                        id.span,
                        "unknown strategy",
                    );
                    diag = match suggest(&id.name, names.iter().copied()) {
                        Some(s) => diag.help(format!("did you mean `{s}`?")),
                        None => diag.note(format!("strategies: {}", names.join(", "))),
                    };
                    self.diags.push(diag);
                    ir::Compat::Full
                }
            },
        };
        let history: Vec<Option<crate::schema::Schema>> =
            t.history.as_ref().map(|(h, _)| h.iter().map(|ty| self.schema_of(ty)).collect()).unwrap_or_default();
        let mut fields = values::Fields::new(t.body.as_ref(), format!("topic `{}`", t.name.name), &mut self.diags);
        let name_item = fields.take("name");
        let pattern_item = fields.take("pattern");
        let tenant_item = fields.take("tenant");
        let ns_item = fields.take("namespace");
        fields.finish(&mut self.diags);
        let mut r = self.reader();
        let tenant = tenant_item.and_then(|i| r.string(&i.value)).unwrap_or_else(|| d.tenant.clone());
        let namespace = ns_item.and_then(|i| r.string(&i.value)).unwrap_or_else(|| d.namespace.clone());
        let (full_name, pattern, name_span) = match (name_item, pattern_item) {
            (Some(a), Some(b)) => {
                self.diags.push(
                    Diagnostic::new("E0205", "a topic has either a `name` or a `pattern`", b.key.span, "second one")
                        .label(a.key.span, "first one"),
                );
                return None;
            }
            (Some(item), None) => (self.reader().string(&item.value)?, false, item.value.span),
            (None, Some(item)) => (self.reader().string(&item.value)?, true, item.value.span),
            (None, None) => (t.name.name.clone(), false, t.name.span),
        };
        for seg in [&tenant, &namespace] {
            if !crate::names::is_pulsar_segment(seg) {
                self.diags.push(Diagnostic::new(
                    "E0301",
                    format!("`{seg}` is not a valid Pulsar tenant or namespace name"),
                    t.name.span,
                    "used for this topic",
                ));
                return None;
            }
        }
        if let Some(why) = crate::names::topic_name_error(&full_name) {
            self.diags.push(Diagnostic::new("E0301", format!("invalid topic name `{full_name}`"), name_span, why));
            return None;
        }
        let full_name = crate::names::qualify_topic(&full_name, &tenant, &namespace);
        let schema = schema?;
        let history: Vec<crate::schema::Schema> = history.into_iter().collect::<Option<_>>()?;
        if let Some((_, hspan)) = &t.history {
            let versions: Vec<&crate::schema::Schema> = history.iter().chain(std::iter::once(&schema)).collect();
            if let Err((i, e)) = crate::schema::compat::evolution(&versions, compat, self.opts.schema_rules) {
                let name = |s: &crate::schema::Schema| s.display();
                let path = if e.path.is_empty() { String::new() } else { format!("{}: ", e.path) };
                self.diags.push(
                    Diagnostic::new(
                        "E0508",
                        format!(
                            "topic `{}`: {} is not a legal next version after {} under compat {}: {path}{}",
                            t.name.name,
                            name(versions[i]),
                            name(versions[i - 1]),
                            compat.name(),
                            e.message
                        ),
                        if i == versions.len() - 1 { t.ty.span } else { *hspan },
                        "incompatible evolution",
                    )
                    .label(*hspan, "earlier versions, oldest first"),
                );
            }
        }
        Some(ir::Topic {
            name: t.name.name.clone(),
            full_name,
            schema,
            compat,
            history,
            external: t.external.is_some(),
            pattern,
            span: t.name.span,
        })
    }

    fn warn_unused(&mut self) {
        let mut unused: Vec<(Span, String, &str)> = Vec::new();
        for (name, (sym, span)) in &self.names {
            if self.used.contains(sym) {
                continue;
            }
            let what = match sym {
                Sym::Pulsar(_) => "pulsar cluster",
                Sym::Schema(_) => "schema",
                Sym::Topic(_) => "topic",
                Sym::Let(_) => "`let` value",
                Sym::Connector(_) => "connector",
                Sym::Module(_) => "import",
                Sym::Component(i) if self.templates.contains(i) => "template",
                Sym::Component(_) | Sym::Pipeline(_) => continue,
            };
            unused.push((*span, name.clone(), what));
        }
        for (span, name, what) in unused {
            let (code, help) = if what == "import" {
                ("W0102", "remove the `use`")
            } else {
                ("W0101", "remove it, or use it; prefix nothing: mesh has no `_` convention")
            };
            let mut d = Diagnostic::new(code, format!("{what} `{name}` is never used"), span, "never used");
            d = if code == "W0102" { d.help(help) } else { d.help("remove the declaration if it is no longer needed") };
            self.diags.push(d);
        }
    }
}
