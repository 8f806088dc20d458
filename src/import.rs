//! `mesh import`: Function Mesh YAML (Function, Source, Sink, FunctionMesh,
//! ConfigMap, Secret) to one .mesh program that compiles back to the same
//! objects.
//!
//! The importer maps what mesh has syntax for (code, topics, wiring,
//! clusters, scaling, resources, configuration, secrets, and the blocks of
//! `settings`) and carries every other spec field through the component's
//! `passthrough { }` block, which the compiler merges into the emitted spec:
//! nothing is lost, and nothing is guessed. A field the CRD does not have
//! fails the import instead, as it would fail `passthrough`. See
//! docs/import.md for the choices.

use serde_json::{Map, Value};
use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;

mod settings;

/// A problem with the input YAML. YAML files are not .mesh sources, so this is
/// a plain record rather than a source diagnostic.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ImportError {
    pub file: String,
    /// 1-based; best effort for semantic errors (found by searching the text).
    pub line: Option<usize>,
    /// The field, e.g. `spec.input.topics[0]`; empty for whole-document errors.
    pub path: String,
    pub message: String,
}

impl std::fmt::Display for ImportError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.file)?;
        if let Some(l) = self.line {
            write!(f, ":{l}")?;
        }
        if !self.path.is_empty() {
            write!(f, ": {}", self.path)?;
        }
        write!(f, ": {}", self.message)
    }
}

#[derive(Clone, Debug, Default)]
pub struct Imported {
    /// The .mesh program, formatted.
    pub program: String,
    /// `file: Kind name: why` for every document that is not imported.
    pub skipped: Vec<String>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Kind {
    Function,
    Source,
    Sink,
}

/// One Function, Source or Sink (standalone or inside a FunctionMesh).
struct Comp {
    text_idx: usize,
    kind: Kind,
    /// metadata.name (standalone) or spec.name (inside a FunctionMesh).
    kube_name: String,
    spec: Map<String, Value>,
    labels: Option<Value>,
    annotations: Option<Value>,
    /// Where the spec sits, for error paths.
    base: String,
}

struct Doc {
    file: String,
    text_idx: usize,
    value: Value,
}

/// Context for error reporting: the file's text, to find lines in.
struct Errs<'a> {
    inputs: &'a [(String, String)],
    list: Vec<ImportError>,
}

impl Errs<'_> {
    fn push(&mut self, idx: usize, path: &str, message: impl Into<String>) {
        let (file, text) = &self.inputs[idx];
        let line = find_line(text, path);
        self.list.push(ImportError { file: file.clone(), line, path: path.to_string(), message: message.into() });
    }
}

/// The line of the last key of `path` in `text`, searched after the lines of
/// the keys before it: `serde_yaml::Value` keeps no positions.
fn find_line(text: &str, path: &str) -> Option<usize> {
    let keys: Vec<&str> =
        path.split(['.', '[']).filter(|k| !k.is_empty() && !k.ends_with(']')).filter(|k| *k != "spec").collect();
    let lines: Vec<&str> = text.lines().collect();
    let mut from = 0;
    let mut found = None;
    for key in keys {
        let pats = [format!("{key}:"), format!("\"{key}\":"), format!("'{key}':")];
        if let Some(i) = (from..lines.len()).find(|&i| {
            let l = lines[i].trim_start().trim_start_matches("- ");
            pats.iter().any(|p| l.starts_with(p.as_str()))
        }) {
            found = Some(i + 1);
            from = i + 1;
        }
    }
    found
}

/// serde_yaml's value to JSON; non-string keys become their YAML text.
fn yaml_to_json(v: serde_yaml::Value) -> Value {
    use serde_yaml::Value as Y;
    match v {
        Y::Null => Value::Null,
        Y::Bool(b) => Value::Bool(b),
        Y::Number(n) => {
            if let Some(i) = n.as_i64() {
                Value::from(i)
            } else if let Some(u) = n.as_u64() {
                Value::from(u)
            } else {
                n.as_f64().and_then(serde_json::Number::from_f64).map_or(Value::Null, Value::Number)
            }
        }
        Y::String(s) => Value::String(s),
        Y::Sequence(s) => Value::Array(s.into_iter().map(yaml_to_json).collect()),
        Y::Mapping(m) => {
            let mut out = Map::new();
            for (k, v) in m {
                let key = match k {
                    Y::String(s) => s,
                    other => serde_yaml::to_string(&other).unwrap_or_default().trim_end().to_string(),
                };
                out.insert(key, yaml_to_json(v));
            }
            Value::Object(out)
        }
        Y::Tagged(t) => yaml_to_json(t.value),
    }
}

pub fn import(inputs: &[(String, String)]) -> Result<Imported, Vec<ImportError>> {
    let mut errs = Errs { inputs, list: Vec::new() };
    let mut skipped = Vec::new();
    let mut docs = Vec::new();
    for (idx, (file, text)) in inputs.iter().enumerate() {
        for de in serde_yaml::Deserializer::from_str(text) {
            match <serde_yaml::Value as serde::Deserialize>::deserialize(de) {
                Ok(v) => docs.push(Doc { file: file.clone(), text_idx: idx, value: yaml_to_json(v) }),
                Err(e) => {
                    errs.list.push(ImportError {
                        file: file.clone(),
                        line: e.location().map(|l| l.line()),
                        path: String::new(),
                        message: format!("YAML syntax error: {e}"),
                    });
                    // The rest of the stream cannot be trusted after a syntax error.
                    break;
                }
            }
        }
    }

    let mut comps = Vec::new();
    let mut config_maps: BTreeMap<String, (usize, Map<String, Value>)> = BTreeMap::new();
    let mut mesh_name: Option<String> = None;
    let mut k8s_namespaces = BTreeSet::new();
    for doc in docs {
        let Value::Object(mut obj) = doc.value else {
            if !doc.value.is_null() {
                skipped.push(format!("{}: a document that is not a mapping", doc.file));
            }
            continue;
        };
        let kind = obj.get("kind").and_then(Value::as_str).unwrap_or("").to_string();
        let name = obj.pointer("/metadata/name").and_then(Value::as_str).map(str::to_string);
        let api = obj.get("apiVersion").and_then(Value::as_str).unwrap_or("").to_string();
        let ours = api.starts_with("compute.functionmesh.io/");
        let label = format!(
            "{}: {} {}",
            doc.file,
            if kind.is_empty() { "(no kind)" } else { &kind },
            name.as_deref().unwrap_or("(unnamed)")
        );
        let comp_kind = match (ours, kind.as_str()) {
            (true, "Function") => Some(Kind::Function),
            (true, "Source") => Some(Kind::Source),
            (true, "Sink") => Some(Kind::Sink),
            _ => None,
        };
        if comp_kind.is_some() || (ours && kind == "FunctionMesh") {
            // Kubernetes reads a null field as unset; mesh has no null, so it is left out, visibly.
            let mut nulls = Vec::new();
            strip_nulls(&mut obj, "", &mut nulls);
            skipped.extend(nulls.iter().map(|p| format!("{label}: {p}: null, left unset")));
        }
        if (comp_kind.is_some() || (ours && kind == "FunctionMesh")) && name.is_none() {
            errs.push(doc.text_idx, "metadata.name", format!("a {kind} needs `metadata.name`"));
            continue;
        }
        let name = name.unwrap_or_default();
        if let Some(ns) = obj.pointer("/metadata/namespace").and_then(Value::as_str) {
            if comp_kind.is_some() || kind == "FunctionMesh" {
                k8s_namespaces.insert(ns.to_string());
            }
        }
        let meta_field = |k: &str| obj.pointer(&format!("/metadata/{k}")).cloned();
        match (comp_kind, kind.as_str()) {
            (Some(k), _) => {
                let Some(spec) = spec_of(&mut errs, doc.text_idx, &obj, "spec") else { continue };
                comps.push(Comp {
                    text_idx: doc.text_idx,
                    kind: k,
                    kube_name: name,
                    spec,
                    labels: meta_field("labels"),
                    annotations: meta_field("annotations"),
                    base: "spec".into(),
                });
            }
            (None, "FunctionMesh") if ours => {
                if mesh_name.as_ref().is_some_and(|m| *m != name) {
                    errs.push(doc.text_idx, "metadata.name", "only one FunctionMesh can be imported into one program");
                    continue;
                }
                mesh_name = Some(name);
                let Some(spec) = spec_of(&mut errs, doc.text_idx, &obj, "spec") else { continue };
                for (key, k) in [("functions", Kind::Function), ("sources", Kind::Source), ("sinks", Kind::Sink)] {
                    let Some(list) = spec.get(key) else { continue };
                    let Some(list) = list.as_array() else {
                        errs.push(doc.text_idx, &format!("spec.{key}"), "expected a list");
                        continue;
                    };
                    for (i, item) in list.iter().enumerate() {
                        let base = format!("spec.{key}[{i}]");
                        let Some(m) = item.as_object() else {
                            errs.push(doc.text_idx, &base, "expected a mapping");
                            continue;
                        };
                        let Some(n) = m.get("name").and_then(Value::as_str) else {
                            errs.push(doc.text_idx, &format!("{base}.name"), "missing required field `name`");
                            continue;
                        };
                        comps.push(Comp {
                            text_idx: doc.text_idx,
                            kind: k,
                            kube_name: n.to_string(),
                            spec: m.clone(),
                            labels: None,
                            annotations: None,
                            base,
                        });
                    }
                }
            }
            (None, "ConfigMap") if api == "v1" => {
                let data = obj.get("data").and_then(Value::as_object).cloned().unwrap_or_default();
                config_maps.insert(name, (doc.text_idx, data));
            }
            (None, "Secret") if api == "v1" => {
                skipped.push(format!("{label}: a Secret is referenced by name; mesh never writes Secret values"))
            }
            _ => skipped.push(format!("{label}: not a Function Mesh kind")),
        }
    }
    if !errs.list.is_empty() {
        return Err(errs.list);
    }
    let program = Builder {
        errs: &mut errs,
        comps,
        config_maps: &config_maps,
        mesh_name,
        k8s_namespaces: &k8s_namespaces,
        skipped: &mut skipped,
    }
    .build();
    if !errs.list.is_empty() {
        return Err(errs.list);
    }
    match crate::fmt::format_source(&program) {
        Ok(program) => Ok(Imported { program, skipped }),
        Err(d) => Err(vec![ImportError {
            file: inputs.first().map(|i| i.0.clone()).unwrap_or_default(),
            line: None,
            path: String::new(),
            message: format!(
                "internal error: the generated program does not parse ({}):\n{program}",
                d.first().map(|d| d.message.clone()).unwrap_or_default()
            ),
        }]),
    }
}

fn join_path(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_string()
    } else {
        format!("{path}.{key}")
    }
}

/// Removes the fields whose value is `null`, recording their paths. A `null`
/// inside a list is not a field and stays (the import reports it).
fn strip_nulls(m: &mut Map<String, Value>, path: &str, found: &mut Vec<String>) {
    m.retain(|k, v| {
        if v.is_null() {
            found.push(join_path(path, k));
        }
        !v.is_null()
    });
    for (k, v) in m.iter_mut() {
        strip_nulls_in(v, &join_path(path, k), found);
    }
}

fn strip_nulls_in(v: &mut Value, path: &str, found: &mut Vec<String>) {
    match v {
        Value::Object(m) => strip_nulls(m, path, found),
        Value::Array(a) => {
            for (i, x) in a.iter_mut().enumerate() {
                strip_nulls_in(x, &format!("{path}[{i}]"), found);
            }
        }
        _ => {}
    }
}

/// The path of the first value mesh cannot write (see `value`).
fn unwritable(v: &Value, path: &str) -> Option<String> {
    match v {
        Value::Array(a) => a.iter().enumerate().find_map(|(i, x)| unwritable(x, &format!("{path}[{i}]"))),
        Value::Object(m) => m.iter().find_map(|(k, x)| unwritable(x, &join_path(path, k))),
        _ => value(v).is_none().then(|| path.to_string()),
    }
}

fn spec_of(errs: &mut Errs<'_>, idx: usize, obj: &Map<String, Value>, key: &str) -> Option<Map<String, Value>> {
    match obj.get(key) {
        Some(Value::Object(m)) => Some(m.clone()),
        Some(_) => {
            errs.push(idx, key, "expected a mapping");
            None
        }
        None => {
            errs.push(idx, key, format!("missing required field `{key}`"));
            None
        }
    }
}

/// A topic and what the imported components do with it.
#[derive(Default)]
struct TopicInfo {
    ident: String,
    pattern: bool,
    /// Type classes of data written to or read from it.
    classes: BTreeSet<String>,
    written: bool,
    read: bool,
}

const PRIMITIVES: &[(&str, &str)] = &[
    ("[B", "bytes"),
    ("java.lang.String", "string"),
    ("java.lang.Boolean", "boolean"),
    ("java.lang.Byte", "int8"),
    ("java.lang.Short", "int16"),
    ("java.lang.Integer", "int32"),
    ("java.lang.Long", "int64"),
    ("java.lang.Float", "float"),
    ("java.lang.Double", "double"),
    ("java.util.Date", "date"),
    ("java.sql.Time", "time"),
    ("java.sql.Timestamp", "timestamp"),
    ("java.time.Instant", "instant"),
    ("java.time.LocalDate", "local_date"),
    ("java.time.LocalTime", "local_time"),
    ("java.time.LocalDateTime", "local_date_time"),
];

fn primitive_of(class: &str) -> Option<&'static str> {
    PRIMITIVES.iter().find(|(c, _)| *c == class).map(|(_, n)| *n)
}

fn class_of(schema: &str) -> &'static str {
    PRIMITIVES.iter().find(|(_, n)| *n == schema).map_or("[B", |(c, _)| *c)
}

/// Short topic names as Pulsar qualifies them.
pub fn qualify_topic(t: &str) -> String {
    if t.contains("://") {
        t.to_string()
    } else if t.matches('/').count() == 2 {
        format!("persistent://{t}")
    } else {
        format!("persistent://public/default/{t}")
    }
}

fn is_ident(s: &str) -> bool {
    let mut c = s.chars();
    c.next().is_some_and(|f| f.is_ascii_alphabetic() || f == '_') && c.all(|ch| ch.is_ascii_alphanumeric() || ch == '_')
}

/// Words that cannot be written as bare names: the declaration keywords and
/// words with a meaning of their own in values and heads.
const OTHER_KEYWORDS: &[&str] = &[
    "compat", "history", "external", "record", "enum", "fixed", "true", "false", "void", "go", "java", "python",
    "generic",
];

fn is_keyword(s: &str) -> bool {
    crate::syntax::parser::DECL_KEYWORDS.contains(&s) || OTHER_KEYWORDS.contains(&s)
}

/// A declaration name from arbitrary text, unique among `used`.
fn ident(raw: &str, used: &mut BTreeSet<String>) -> String {
    let mut s: String =
        raw.chars().map(|c| if c.is_ascii_alphanumeric() { c.to_ascii_lowercase() } else { '_' }).collect();
    while s.contains("__") {
        s = s.replace("__", "_");
    }
    let mut s = s.trim_matches('_').to_string();
    if s.is_empty() || !s.starts_with(|c: char| c.is_ascii_alphabetic()) {
        s = format!("t_{s}");
    }
    if is_keyword(s.as_str()) {
        s.push('_');
    }
    let mut out = s.clone();
    let mut n = 2;
    while used.contains(&out) {
        out = format!("{s}_{n}");
        n += 1;
    }
    used.insert(out.clone());
    out
}

fn key(k: &str) -> String {
    if is_ident(k) && !is_keyword(k) {
        k.to_string()
    } else {
        crate::fmt::quote(k)
    }
}

/// A JSON value in mesh syntax; `None` for `null`, which mesh cannot write.
fn value(v: &Value) -> Option<String> {
    value_with(v, &key)
}

/// A JSON value in mesh syntax, with keys written by `key`.
fn value_with(v: &Value, key: &dyn Fn(&str) -> String) -> Option<String> {
    Some(match v {
        Value::Null => return None,
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => {
            if n.is_f64() {
                let f = n.as_f64()?;
                // Debug keeps the `.0` that tells a float from an integer.
                let s = format!("{f:?}");
                if s.contains('e') || s.contains("inf") || s.contains("NaN") {
                    return None;
                }
                s
            } else {
                // mesh integers are 64-bit signed.
                n.as_i64()?.to_string()
            }
        }
        Value::String(s) => crate::fmt::quote(s),
        Value::Array(a) => {
            format!("[{}]", a.iter().map(|x| value_with(x, key)).collect::<Option<Vec<_>>>()?.join(", "))
        }
        Value::Object(m) => {
            let items = m
                .iter()
                .map(|(k, v)| Some(format!("{} = {}", key(k), value_with(v, key)?)))
                .collect::<Option<Vec<_>>>()?;
            format!("{{ {} }}", items.join(", "))
        }
    })
}

fn take_str(m: &mut Map<String, Value>, k: &str) -> Option<String> {
    if let Some(Value::String(s)) = m.get(k) {
        let s = s.clone();
        m.remove(k);
        Some(s)
    } else {
        None
    }
}

/// Drops maps left empty by the mapping, so passthrough holds only what remains.
fn prune(m: &mut Map<String, Value>, consumed: &[&str]) {
    for k in consumed {
        if m.get(*k).and_then(Value::as_object).is_some_and(Map::is_empty) {
            m.remove(*k);
        }
    }
}

struct Cluster {
    ident: String,
    /// The mapped `auth`, `cleanup_auth` and `tls` settings (mesh text), and
    /// the spec.pulsar fields they consume.
    settings: Vec<String>,
    consumed: Vec<&'static str>,
}

struct Builder<'e, 'a> {
    errs: &'e mut Errs<'a>,
    comps: Vec<Comp>,
    config_maps: &'e BTreeMap<String, (usize, Map<String, Value>)>,
    mesh_name: Option<String>,
    k8s_namespaces: &'e BTreeSet<String>,
    skipped: &'e mut Vec<String>,
}

impl<'e, 'a> Builder<'e, 'a> {
    fn build(mut self) -> String {
        let mut used = BTreeSet::new();
        let mut out = String::from("// Imported from Function Mesh YAML by `mesh import`.\n\n");

        // Validate shapes first: every later step may then assume them.
        let comps = std::mem::take(&mut self.comps);
        let comps: Vec<Comp> = comps.into_iter().filter(|c| self.validate(c)).collect();

        // Clusters, one per pulsarConfig.
        let mut clusters: BTreeMap<String, Cluster> = BTreeMap::new();
        for c in &comps {
            let pulsar = c.spec.get("pulsar").and_then(Value::as_object).cloned().unwrap_or_default();
            let Some(cm) = pulsar.get("pulsarConfig").and_then(Value::as_str) else { continue };
            if let Some(existing) = clusters.get(cm) {
                let (settings, _) = cluster_settings(&pulsar);
                if settings != existing.settings {
                    self.errs.push(
                        c.text_idx,
                        &format!("{}.pulsar", c.base),
                        format!("components sharing pulsarConfig `{cm}` use different authentication or TLS settings; mesh has one setting per cluster"),
                    );
                }
                continue;
            }
            let (settings, consumed) = cluster_settings(&pulsar);
            clusters.insert(cm.to_string(), Cluster { ident: ident(cm, &mut used), settings, consumed });
        }
        let mut used_cms = BTreeSet::new();
        for (cm, cl) in &clusters {
            let _ = writeln!(out, "pulsar {} {{", cl.ident);
            let _ = writeln!(out, "  config_map = {}", crate::fmt::quote(cm));
            match self.config_maps.get(cm) {
                Some((_, data)) => {
                    used_cms.insert(cm.clone());
                    for (k, mk) in [("webServiceURL", "web_service_url"), ("brokerServiceURL", "broker_service_url")] {
                        let v = data.get(k).and_then(Value::as_str).unwrap_or("");
                        let _ = writeln!(out, "  {mk} = {}", crate::fmt::quote(v));
                    }
                }
                None => {
                    // Not among the inputs: placeholders that compile, to be filled in.
                    let _ = writeln!(out, "  // ConfigMap `{cm}` was not among the imported files: fill in its URLs.");
                    let _ = writeln!(out, "  web_service_url = \"http://localhost:8080\"");
                    let _ = writeln!(out, "  broker_service_url = \"pulsar://localhost:6650\"");
                }
            }
            for s in &cl.settings {
                let _ = writeln!(out, "  {s}");
            }
            out.push_str("}\n\n");
        }
        for (name, (idx, _)) in self.config_maps {
            if !used_cms.contains(name) {
                self.skipped.push(format!(
                    "{}: ConfigMap {name}: not the pulsarConfig of an imported component",
                    self.errs.inputs[*idx].0
                ));
            }
        }

        // Topics.
        let mut topics: BTreeMap<String, TopicInfo> = BTreeMap::new();
        for c in &comps {
            let (ins, pattern, out_t) = io_of(c);
            let in_class = c.spec.pointer("/input/typeClassName").and_then(Value::as_str).unwrap_or("[B").to_string();
            let out_class = c.spec.pointer("/output/typeClassName").and_then(Value::as_str).unwrap_or("[B").to_string();
            for t in &ins {
                let e = topics.entry(t.clone()).or_default();
                e.read = true;
                e.classes.insert(in_class.clone());
            }
            if let Some(p) = &pattern {
                let e = topics.entry(p.clone()).or_default();
                e.read = true;
                e.pattern = true;
                e.classes.insert(in_class.clone());
            }
            if let Some(t) = &out_t {
                let e = topics.entry(t.clone()).or_default();
                e.written = true;
                e.classes.insert(out_class.clone());
            }
            for k in ["logTopic", "deadLetterTopic"] {
                if let Some(t) = c.spec.get(k).and_then(Value::as_str) {
                    topics.entry(qualify_topic(t)).or_default();
                }
            }
            if c.kind == Kind::Function {
                if let Some(t) = settings::window_late_topic(&c.spec, &window_class(c)) {
                    topics.entry(qualify_topic(&t)).or_default();
                }
            }
        }
        // A topic's schema: the primitive every use agrees on, else bytes (the
        // components then keep their class through passthrough).
        let mut schema: BTreeMap<String, &'static str> = topics
            .iter()
            .map(|(t, i)| {
                let prims: BTreeSet<_> = i.classes.iter().map(|c| primitive_of(c)).collect();
                let s = match prims.iter().next() {
                    Some(Some(p)) if prims.len() == 1 => *p,
                    None => "string",
                    _ => "bytes",
                };
                (t.clone(), s)
            })
            .collect();
        // A function reads one schema: topics read together must agree.
        loop {
            let mut changed = false;
            for c in &comps {
                let (ins, pattern, _) = io_of(c);
                let all: Vec<String> = ins.into_iter().chain(pattern).collect();
                let kinds: BTreeSet<_> = all.iter().map(|t| schema[t]).collect();
                if kinds.len() > 1 {
                    for t in &all {
                        changed |= schema.insert(t.clone(), "bytes") != Some("bytes");
                    }
                }
            }
            if !changed {
                break;
            }
        }
        for (t, info) in topics.iter_mut() {
            let last = t.rsplit('/').next().unwrap_or(t);
            info.ident = ident(last, &mut used);
            let external = !(info.written && info.read);
            let block = if info.pattern {
                format!("{{ pattern = {} }}", crate::fmt::quote(t))
            } else {
                format!("{{ name = {} }}", crate::fmt::quote(t))
            };
            let _ = writeln!(
                out,
                "topic {} : {}{} {block}",
                info.ident,
                schema[t],
                if external || info.pattern { " external" } else { "" }
            );
        }
        out.push('\n');

        // Defaults: what every component shares.
        let comp_settings: Vec<CompOut> =
            comps.iter().map(|c| self.component(c, &topics, &schema, &clusters, &mut used)).collect();
        let mut defaults = Vec::new();
        if let Some(m) = &self.mesh_name {
            defaults.push(format!("mesh = {}", crate::fmt::quote(m)));
        }
        if self.k8s_namespaces.len() == 1 {
            if let Some(ns) = self.k8s_namespaces.iter().next() {
                defaults.push(format!("kubernetes_namespace = {}", crate::fmt::quote(ns)));
            }
        }
        let mut factored: Vec<BTreeSet<&str>> = vec![BTreeSet::new(); comp_settings.len()];
        for k in ["tenant", "namespace", "cluster_name", "resources"] {
            let vals: BTreeSet<Option<&String>> = comp_settings.iter().map(|c| c.shared.get(k)).collect();
            if let (1, Some(Some(v))) = (vals.len(), vals.iter().next()) {
                defaults.push(format!("{k} = {v}"));
                factored.iter_mut().for_each(|f| {
                    f.insert(k);
                });
            }
        }
        for cat in ["java_image", "python_image", "go_image", "connector_image"] {
            let members: Vec<usize> = (0..comp_settings.len()).filter(|&i| comp_settings[i].image_key == cat).collect();
            let vals: BTreeSet<Option<&String>> =
                members.iter().map(|&i| comp_settings[i].shared.get("image")).collect();
            if let (1, Some(Some(v))) = (vals.len(), vals.iter().next()) {
                defaults.push(format!("{cat} = {v}"));
                for i in members {
                    factored[i].insert("image");
                }
            }
        }
        if !defaults.is_empty() {
            out.push_str("defaults {\n");
            for d in &defaults {
                let _ = writeln!(out, "  {d}");
            }
            out.push_str("}\n\n");
        }
        for (c, f) in comp_settings.iter().zip(&factored) {
            out.push_str(&c.head);
            out.push_str(" {\n");
            for k in ["tenant", "namespace", "cluster_name", "resources", "image"] {
                if let Some(v) = c.shared.get(k).filter(|_| !f.contains(k)) {
                    let _ = writeln!(out, "  {k} = {v}");
                }
            }
            for s in &c.settings {
                let _ = writeln!(out, "  {s}");
            }
            out.push_str("}\n\n");
        }

        // Pipeline: each component between what it reads and what it writes.
        let chains: Vec<String> = comps
            .iter()
            .zip(&comp_settings)
            .filter_map(|(c, o)| {
                let (ins, pattern, out_t) = io_of(c);
                let ins: Vec<&str> = ins.iter().chain(pattern.iter()).map(|t| topics[t].ident.as_str()).collect();
                let mut chain = match ins.len() {
                    0 => String::new(),
                    1 => format!("{} -> ", ins[0]),
                    _ => format!("[{}] -> ", ins.join(", ")),
                };
                chain.push_str(&o.ident);
                if let Some(t) = out_t {
                    let _ = write!(chain, " -> {}", topics[&t].ident);
                }
                (chain.contains("->")).then_some(chain)
            })
            .collect();
        if !chains.is_empty() {
            let pname = ident(self.mesh_name.as_deref().unwrap_or("imported"), &mut used);
            let _ = writeln!(out, "pipeline {pname} {{");
            for ch in chains {
                let _ = writeln!(out, "  {ch}");
            }
            out.push_str("}\n");
        }
        out
    }

    /// Checks the types of the fields the importer reads.
    fn validate(&mut self, c: &Comp) -> bool {
        let mut ok = true;
        let b = &c.base;
        let mut check = |path: &str, v: Option<&Value>, want: &str, good: bool| {
            if v.is_some() && !good {
                self.errs.push(c.text_idx, &format!("{b}.{path}"), format!("expected {want}"));
                ok = false;
            }
        };
        for k in ["className", "image", "tenant", "namespace", "clusterName", "logTopic", "deadLetterTopic"] {
            let v = c.spec.get(k);
            check(k, v, "a string", v.is_some_and(Value::is_string));
        }
        for k in ["replicas", "minReplicas", "maxReplicas", "maxMessageRetry", "timeout"] {
            let v = c.spec.get(k);
            check(k, v, "an integer", v.is_some_and(|v| v.as_i64().is_some()));
        }
        for k in ["input", "output", "pulsar", "java", "python", "golang", "genericRuntime", "resources", "secretsMap"]
        {
            let v = c.spec.get(k);
            check(k, v, "a mapping", v.is_some_and(Value::is_object));
        }
        let topics = c.spec.pointer("/input/topics");
        check(
            "input.topics",
            topics,
            "a list of topic names",
            topics.and_then(Value::as_array).is_some_and(|a| a.iter().all(Value::is_string)),
        );
        if let Some(Some(a)) = topics.map(Value::as_array) {
            for (i, t) in a.iter().enumerate() {
                check(&format!("input.topics[{i}]"), Some(t), "a string", t.is_string());
            }
        }
        for p in ["/input/topicPattern", "/input/typeClassName", "/output/topic", "/output/typeClassName"] {
            let v = c.spec.pointer(p);
            check(&p[1..].replace('/', "."), v, "a string", v.is_some_and(Value::is_string));
        }
        if !ok {
            return false;
        }
        let mut missing_paths: Vec<&str> = Vec::new();
        let mut missing = |path: &'static str| missing_paths.push(path);
        if c.spec.pointer("/pulsar/pulsarConfig").and_then(Value::as_str).is_none() {
            missing("pulsar.pulsarConfig");
        }
        match c.kind {
            Kind::Source if c.spec.pointer("/output/topic").is_none() => missing("output.topic"),
            Kind::Sink
                if c.spec.pointer("/input/topics").is_none() && c.spec.pointer("/input/topicPattern").is_none() =>
            {
                missing("input.topics")
            }
            _ => {}
        }
        let runtimes =
            ["java", "python", "golang", "genericRuntime"].iter().filter(|k| c.spec.contains_key(**k)).count();
        // Sources and sinks run on Java only.
        if runtimes == 0 || (c.kind != Kind::Function && !c.spec.contains_key("java")) {
            missing("java");
        }
        let needs_class = c.kind != Kind::Function || c.spec.contains_key("java") || c.spec.contains_key("python");
        if needs_class && c.spec.get("className").is_none() {
            missing("className");
        }
        for path in &missing_paths {
            self.errs.push(c.text_idx, &format!("{b}.{path}"), format!("missing required field `{path}`"));
        }
        missing_paths.is_empty()
    }

    fn component(
        &mut self,
        c: &Comp,
        topics: &BTreeMap<String, TopicInfo>,
        schema: &BTreeMap<String, &'static str>,
        clusters: &BTreeMap<String, Cluster>,
        used: &mut BTreeSet<String>,
    ) -> CompOut {
        let mut spec = c.spec.clone();
        let mut settings = Vec::new();
        let mut shared = BTreeMap::new();
        let name = ident(&c.kube_name, used);
        if name.replace('_', "-") != c.kube_name {
            settings.push(format!("name = {}", crate::fmt::quote(&c.kube_name)));
        }
        // spec.name: the kube name inside a FunctionMesh; the Pulsar name otherwise.
        if let Some(n) = take_str(&mut spec, "name") {
            if n != c.kube_name {
                if self.mesh_name.is_some() {
                    spec.insert("name".into(), Value::String(n));
                } else {
                    settings.push(format!("pulsar_name = {}", crate::fmt::quote(&n)));
                }
            }
        }
        for (k, v) in [("labels", &c.labels), ("annotations", &c.annotations)] {
            if let Some(v) = v.as_ref().and_then(value) {
                settings.push(format!("{k} = {v}"));
            }
        }
        let class = take_str(&mut spec, "className");
        let eo = spec.get("processingGuarantee").and_then(Value::as_str) == Some("effectively_once");

        // Cluster.
        if let Some(pulsar) = spec.get_mut("pulsar").and_then(Value::as_object_mut) {
            if let Some(cl) = pulsar.get("pulsarConfig").and_then(Value::as_str).and_then(|cm| clusters.get(cm)) {
                if clusters.len() > 1 {
                    settings.push(format!("cluster = {}", cl.ident));
                }
                pulsar.remove("pulsarConfig");
                for k in &cl.consumed {
                    pulsar.remove(*k);
                }
            }
        }
        prune(&mut spec, &["pulsar"]);

        for (k, mk) in [("tenant", "tenant"), ("namespace", "namespace"), ("clusterName", "cluster_name")] {
            if let Some(v) = take_str(&mut spec, k) {
                shared.insert(mk, crate::fmt::quote(&v));
            }
        }
        if let Some(v) = take_str(&mut spec, "image") {
            shared.insert("image", crate::fmt::quote(&v));
        }

        // Replicas: mesh writes `replicas = N` as minReplicas 1, a range as
        // minReplicas = replicas; anything else stays in passthrough. Without
        // `replicas`, the operator starts `minReplicas` of them.
        let min_given = spec.get("minReplicas").and_then(Value::as_i64);
        let replicas = spec.get("replicas").and_then(Value::as_i64).or(min_given).unwrap_or(1);
        let min = min_given.unwrap_or(1);
        let max = spec.get("maxReplicas").and_then(Value::as_i64);
        let mut range = false;
        if replicas >= 1 {
            spec.remove("replicas");
            match max {
                Some(m) if m >= replicas && min == replicas => {
                    settings.push(format!("replicas = {replicas}..{m}"));
                    spec.remove("maxReplicas");
                    spec.remove("minReplicas");
                    range = true;
                }
                _ => {
                    settings.push(format!("replicas = {replicas}"));
                    if min == 1 {
                        spec.remove("minReplicas");
                    }
                }
            }
        }

        if let Some(g) = spec.get("processingGuarantee").and_then(Value::as_str) {
            if ["atleast_once", "atmost_once", "effectively_once", "manual"].contains(&g) {
                settings.push(format!("guarantee = {g}"));
                spec.remove("processingGuarantee");
            }
        }
        if let Some(r) = resources(&mut spec) {
            shared.insert("resources", r);
        }

        // Code.
        let mut image_key = "connector_image";
        let runtime_key = ["java", "python", "golang", "genericRuntime"].into_iter().find(|k| spec.contains_key(*k));
        let head_runtime = if let Some(java) = spec.get_mut("java").and_then(Value::as_object_mut) {
            if c.kind == Kind::Function {
                image_key = "java_image";
            }
            code(java, "jar", "jarLocation", "jar", &mut settings);
            if let Some(d) = take_str(java, "extraDependenciesDir") {
                settings.push(format!("extra_dependencies_dir = {}", crate::fmt::quote(&d)));
            }
            // mesh writes `javaOpts` for Java functions, and leaves an empty list out.
            let opts = java.get("javaOpts").and_then(Value::as_array).filter(|a| !a.is_empty());
            if let Some(opts) = opts.filter(|a| c.kind == Kind::Function && a.iter().all(Value::is_string)) {
                settings.push(format!("java_opts = {}", value(&Value::Array(opts.clone())).unwrap_or_default()));
                java.remove("javaOpts");
            }
            format!("java({})", crate::fmt::quote(class.as_deref().unwrap_or("")))
        } else if let Some(py) = spec.get_mut("python").and_then(Value::as_object_mut) {
            image_key = "python_image";
            code(py, "py", "pyLocation", "py", &mut settings);
            format!("python({})", crate::fmt::quote(class.as_deref().unwrap_or("")))
        } else if let Some(go) = spec.get_mut("golang").and_then(Value::as_object_mut) {
            image_key = "go_image";
            code(go, "go", "goLocation", "go", &mut settings);
            "go".to_string()
        } else if let Some(g) = spec.get_mut("genericRuntime").and_then(Value::as_object_mut) {
            image_key = "";
            code(g, "functionFile", "functionFileLocation", "function_file", &mut settings);
            if let Some(cl) = &class {
                settings.push(format!("class = {}", crate::fmt::quote(cl)));
            }
            format!("generic({})", crate::fmt::quote(&take_str(g, "language").unwrap_or_default()))
        } else {
            String::new()
        };
        let go = runtime_key == Some("golang");
        if let (true, Some(cl)) = (go, &class) {
            // A Go function has no class in mesh; a className given anyway is kept as written.
            spec.insert("className".into(), Value::String(cl.clone()));
        }
        if let Some(rt) = runtime_key.filter(|k| *k != "genericRuntime") {
            settings.extend(settings::log(&mut spec, rt));
        }
        prune(&mut spec, &["java", "python", "golang", "genericRuntime"]);

        // Wiring: topics through the pipeline, classes kept where the topic's schema has another.
        let (ins, pattern, out_t) = io_of(c);
        let in_schema = ins.iter().chain(pattern.iter()).next().map_or("bytes", |t| schema[t]);
        let out_schema = out_t.as_ref().map(|t| schema[t]);
        if let Some(input) = spec.get_mut("input").and_then(Value::as_object_mut) {
            input.remove("topics");
            input.remove("topicPattern");
            let cls = input.get("typeClassName").and_then(Value::as_str).unwrap_or("[B");
            if cls == class_of(in_schema) {
                input.remove("typeClassName");
            }
        }
        if let Some(output) = spec.get_mut("output").and_then(Value::as_object_mut) {
            output.remove("topic");
            let cls = output.get("typeClassName").and_then(Value::as_str).unwrap_or("[B");
            if out_schema.is_some_and(|s| cls == class_of(s)) {
                output.remove("typeClassName");
            }
        }
        if c.kind != Kind::Source {
            let inputs: Vec<(String, bool)> =
                ins.iter().map(|t| (t.clone(), false)).chain(pattern.iter().map(|p| (p.clone(), true))).collect();
            settings.extend(settings::consumer(&mut spec, &inputs));
        }
        let writes = c.kind != Kind::Sink && out_t.is_some();
        if writes {
            settings.extend(settings::producer(&mut spec));
        }
        settings.extend(settings::serde(&mut spec, &ins, writes));
        prune(&mut spec, &["input", "output"]);

        if let Some(b) = spec.get("autoAck").and_then(Value::as_bool) {
            if c.kind != Kind::Source {
                settings.push(format!("auto_ack = {b}"));
                spec.remove("autoAck");
            }
        }
        if let Some(b) = spec.get("forwardSourceMessageProperty").and_then(Value::as_bool) {
            if c.kind != Kind::Sink {
                settings.push(format!("forward_properties = {b}"));
                spec.remove("forwardSourceMessageProperty");
            }
        }
        if c.kind != Kind::Source {
            // mesh refuses retries and a timeout with effectively_once (E0405); they stay as written.
            let retries = spec.get("maxMessageRetry").and_then(Value::as_i64).filter(|n| (0..=I32).contains(n));
            let retries = retries.filter(|n| !eo || *n == 0);
            if let Some(n) = retries {
                settings.push(format!("max_retries = {n}"));
                spec.remove("maxMessageRetry");
            }
            // mesh needs retries for a dead letter topic (E0406); otherwise it stays as written.
            if retries.unwrap_or(0) > 0 {
                if let Some(t) = take_str(&mut spec, "deadLetterTopic") {
                    settings.push(format!("dead_letter = {}", topics[&qualify_topic(&t)].ident));
                }
            }
            if let Some(ms) = spec.get("timeout").and_then(Value::as_i64).filter(|n| *n > 0 && *n <= I32 && !eo) {
                settings.push(format!("timeout = {}", settings::duration(ms)));
                spec.remove("timeout");
            }
            if let Some(s) = take_str(&mut spec, "subscriptionName") {
                settings.push(format!("subscription = {}", crate::fmt::quote(&s)));
            }
            if let Some(p) = spec.get("subscriptionPosition").and_then(Value::as_str) {
                if p == "earliest" || p == "latest" {
                    settings.push(format!("position = {p}"));
                    spec.remove("subscriptionPosition");
                }
            }
            // mesh writes these flags only when true; `false` stays as written.
            let ordering = ["retainOrdering", "retainKeyOrdering"].map(|k| spec.get(k) == Some(&Value::Bool(true)));
            let mut flags = vec![("cleanupSubscription", "cleanup_subscription")];
            // The two orderings exclude each other (E0407); key ordering excludes effectively_once (E0405).
            if !(ordering[0] && ordering[1]) {
                flags.push(("retainOrdering", "retain_ordering"));
                if !(eo && c.kind == Kind::Function) {
                    flags.push(("retainKeyOrdering", "retain_key_ordering"));
                }
            }
            if c.kind == Kind::Function {
                flags.push(("skipToLatest", "skip_to_latest"));
            }
            for (k, mk) in flags {
                if spec.get(k) == Some(&Value::Bool(true)) {
                    settings.push(format!("{mk} = true"));
                    spec.remove(k);
                }
            }
        }
        if spec.get("showPreciseParallelism") == Some(&Value::Bool(true)) {
            settings.push("precise_parallelism = true".into());
            spec.remove("showPreciseParallelism");
        }
        if c.kind == Kind::Function {
            if let Some(n) =
                spec.get("maxPendingAsyncRequests").and_then(Value::as_i64).filter(|n| (0..=I32).contains(n))
            {
                settings.push(format!("max_pending_async_requests = {n}"));
                spec.remove("maxPendingAsyncRequests");
            }
        }
        if c.kind == Kind::Sink {
            let delay = spec.get("negativeAckRedeliveryDelayMs").and_then(Value::as_i64);
            if let Some(ms) = delay.filter(|n| (0..=I32).contains(n)) {
                settings.push(format!("negative_ack_redelivery_delay = {}", settings::duration(ms)));
                spec.remove("negativeAckRedeliveryDelayMs");
            }
        }
        if let Some(f) = take_str(&mut spec, "runtimeFlags") {
            settings.push(format!("runtime_flags = {}", crate::fmt::quote(&f)));
        }
        let agent = spec.get("logTopicAgent").and_then(Value::as_str).filter(|a| *a == "runtime" || *a == "sidecar");
        let agent = agent.map(str::to_string);
        if let Some(t) = take_str(&mut spec, "logTopic") {
            settings.push(format!("log_topic = {}", topics[&qualify_topic(&t)].ident));
        }
        if let Some(a) = agent {
            settings.push(format!("log_agent = {a}"));
            spec.remove("logTopicAgent");
        }
        let config_key = match c.kind {
            Kind::Function => "funcConfig",
            Kind::Source => "sourceConfig",
            Kind::Sink => "sinkConfig",
        };
        if let Some(cfg) = spec.get(config_key).filter(|v| v.is_object()).and_then(value) {
            settings.push(format!("config = {cfg}"));
            spec.remove(config_key);
        }
        if let Some(Value::Object(secrets)) = spec.get("secretsMap") {
            let items: Option<Vec<String>> = secrets
                .iter()
                .map(|(k, v)| {
                    let path = v.get("path")?.as_str().filter(|p| crate::names::is_dns_subdomain(p))?;
                    let key_ = v.get("key")?.as_str()?;
                    (v.as_object()?.len() == 2).then(|| {
                        format!("{} = secret({}, {})", key(k), crate::fmt::quote(path), crate::fmt::quote(key_))
                    })
                })
                .collect();
            if let Some(items) = items.filter(|i| !i.is_empty()) {
                settings.push(format!("secrets {{ {} }}", items.join(", ")));
                spec.remove("secretsMap");
            }
        }
        match c.kind {
            Kind::Source => settings.push(format!("value = {}", out_schema.unwrap_or("bytes"))),
            Kind::Sink => {}
            Kind::Function => {}
        }
        if c.kind == Kind::Function {
            let class = window_class(c);
            settings.extend(settings::window(&mut spec, &class, &|t| {
                topics.get(&qualify_topic(t)).map(|i| i.ident.clone())
            }));
        }
        settings.extend(settings::state(&mut spec, go));
        if c.kind == Kind::Source {
            settings.extend(settings::batch(&mut spec));
        }
        settings.extend(settings::pod(&mut spec, range));

        // Everything else, verbatim, if the CRD has it: `passthrough` is checked against the same table.
        let kind = match c.kind {
            Kind::Function => crate::ir::ComponentKind::Function,
            Kind::Source => crate::ir::ComponentKind::Source,
            Kind::Sink => crate::ir::ComponentKind::Sink,
        };
        let findings = crate::check::passthrough::findings(kind, &spec);
        for f in &findings {
            self.errs.push(c.text_idx, &format!("{}.{}", c.base, f.path.join(".")), residual_message(kind, f));
        }
        if !spec.is_empty() && findings.is_empty() {
            let spec = Value::Object(spec);
            match value(&spec) {
                Some(v) => settings.push(format!("passthrough = {v}")),
                None => {
                    let at = unwritable(&spec, &c.base).unwrap_or_else(|| c.base.clone());
                    self.errs.push(
                        c.text_idx,
                        &at,
                        "mesh cannot write this value (a `null` in a list, or a number outside 64-bit integers and plain decimals); remove it or give it a value",
                    )
                }
            }
        }

        let head = match c.kind {
            Kind::Function => {
                let out = out_schema.map(|s| format!(" -> {s}")).unwrap_or_default();
                format!("function {name}({in_schema}){out} = {head_runtime}")
            }
            Kind::Source => {
                format!("source {name} = connector({})", crate::fmt::quote(class.as_deref().unwrap_or("")))
            }
            Kind::Sink => format!("sink {name} = connector({})", crate::fmt::quote(class.as_deref().unwrap_or(""))),
        };
        CompOut { ident: name, head, settings, shared, image_key }
    }
}

struct CompOut {
    ident: String,
    head: String,
    settings: Vec<String>,
    /// Settings `defaults` may hold when every component agrees.
    shared: BTreeMap<&'static str, String>,
    image_key: &'static str,
}

const I32: i64 = i32::MAX as i64;

/// The class mesh writes into `windowConfig.actualWindowFunctionClassName`:
/// the function's class, which a Go function does not have.
fn window_class(c: &Comp) -> String {
    let go = ["java", "python"].iter().all(|k| !c.spec.contains_key(*k)) && c.spec.contains_key("golang");
    let class = c.spec.get("className").and_then(Value::as_str).filter(|_| !go);
    class.unwrap_or_default().to_string()
}

/// Why a field left for `passthrough` cannot go there.
fn residual_message(kind: crate::ir::ComponentKind, f: &crate::check::passthrough::Finding) -> String {
    use crate::check::passthrough::{kind_name, Problem, J};
    match &f.problem {
        Problem::Unknown { suggestion, owners } => {
            let mut m = format!(
                "not a field of the {} spec: mesh has no syntax for it, and `passthrough` takes only the CRD's fields",
                kind_name(kind)
            );
            if let Some(s) = suggestion {
                let _ = write!(m, " (did you mean `{s}`?)");
            } else if !owners.is_empty() {
                let _ = write!(m, " (only the {} spec has it)", owners.join(" and "));
            }
            m
        }
        Problem::Type { expected: J::Object } => "expected a mapping".to_string(),
        Problem::Type { expected } => format!("expected {}", expected.describe()),
    }
}

/// Inputs, topic pattern and output topic of a component, qualified.
fn io_of(c: &Comp) -> (Vec<String>, Option<String>, Option<String>) {
    let ins = match c.kind {
        Kind::Source => Vec::new(),
        _ => c
            .spec
            .pointer("/input/topics")
            .and_then(Value::as_array)
            .map(|a| {
                let mut v: Vec<String> = Vec::new();
                for t in a.iter().filter_map(Value::as_str).map(qualify_topic) {
                    if !v.contains(&t) {
                        v.push(t);
                    }
                }
                v
            })
            .unwrap_or_default(),
    };
    let pattern = match c.kind {
        Kind::Source => None,
        _ => c.spec.pointer("/input/topicPattern").and_then(Value::as_str).map(str::to_string),
    };
    let out = match c.kind {
        Kind::Sink => None,
        _ => c.spec.pointer("/output/topic").and_then(Value::as_str).map(qualify_topic),
    };
    (ins, pattern, out)
}

/// The code file: a package location mesh accepts becomes `location`; any
/// other location (the legacy bare `tenant/ns/name`, an empty string) stays
/// in passthrough as written.
fn code(m: &mut Map<String, Value>, file_key: &str, loc_key: &str, mesh_key: &str, settings: &mut Vec<String>) {
    let Some(file) = take_str(m, file_key) else { return };
    settings.push(format!("{mesh_key} = {}", crate::fmt::quote(&file)));
    if let Some(loc) = m.get(loc_key).and_then(Value::as_str) {
        if !loc.is_empty()
            && crate::names::is_package_location(loc)
            && crate::names::package_location_error(loc).is_none()
        {
            settings.push(format!("location = {}", crate::fmt::quote(loc)));
            m.remove(loc_key);
        }
    }
}

/// `resources { requests { ... }, limits { ... } }` for the keys mesh knows.
fn resources(spec: &mut Map<String, Value>) -> Option<String> {
    let res = spec.get_mut("resources")?.as_object_mut()?;
    let mut parts = Vec::new();
    for side in ["requests", "limits"] {
        let Some(m) = res.get_mut(side).and_then(Value::as_object_mut) else { continue };
        let mut items = Vec::new();
        for (k, mk) in
            [("cpu", "cpu"), ("memory", "memory"), ("ephemeral-storage", "ephemeral_storage"), ("storage", "storage")]
        {
            let text = match m.get(k) {
                Some(Value::String(s)) => s.clone(),
                Some(Value::Number(n)) => n.to_string(),
                _ => continue,
            };
            if crate::quantity::parse(&text).is_some() {
                items.push(format!("{mk} = {}", crate::fmt::quote(&text)));
                m.remove(k);
            }
        }
        if !items.is_empty() {
            parts.push(format!("{side} {{ {} }}", items.join(", ")));
        }
    }
    for side in ["requests", "limits"] {
        if res.get(side).and_then(Value::as_object).is_some_and(Map::is_empty) {
            res.remove(side);
        }
    }
    prune(spec, &["resources"]);
    (!parts.is_empty()).then(|| format!("{{ {} }}", parts.join(", ")))
}

/// A cluster's `auth`, `cleanup_auth` and `tls` settings, where complete
/// enough for mesh's syntax; the rest of spec.pulsar stays in passthrough.
fn cluster_settings(p: &Map<String, Value>) -> (Vec<String>, Vec<&'static str>) {
    let q = crate::fmt::quote;
    let s = |v: &Value, k: &str| v.get(k).and_then(Value::as_str).filter(|s| !s.is_empty()).map(str::to_string);
    let auth = |a: &Value| -> Option<String> {
        let obj = a.as_object()?;
        if obj.len() != 1 {
            return None;
        }
        if let Some(o) = a.get("oauth2Config") {
            let known = ["audience", "issuerUrl", "scope", "keySecretName", "keySecretKey"];
            if o.as_object()?.keys().any(|k| !known.contains(&k.as_str())) {
                return None;
            }
            let scope = s(o, "scope").map(|sc| format!(", scope = {}", q(&sc))).unwrap_or_default();
            return Some(format!(
                "oauth2 {{ issuer_url = {}, audience = {}{scope}, key = secret({}, {}) }}",
                q(&s(o, "issuerUrl")?),
                q(&s(o, "audience")?),
                q(&s(o, "keySecretName")?),
                q(&s(o, "keySecretKey")?)
            ));
        }
        let g = a.get("genericAuth")?;
        if g.as_object()?.len() != 2 {
            return None;
        }
        Some(format!(
            "plugin {{ class = {}, params = {} }}",
            q(&s(g, "clientAuthenticationPlugin")?),
            q(&s(g, "clientAuthenticationParameters")?)
        ))
    };
    let mut settings = Vec::new();
    let mut consumed = Vec::new();
    if let Some(a) = p.get("authConfig").and_then(auth) {
        settings.push(format!("auth = {a}"));
        consumed.push("authConfig");
    } else if let Some(name) = p.get("authSecret").and_then(Value::as_str).filter(|s| !s.is_empty()) {
        if !p.contains_key("authConfig") {
            settings.push(format!("auth = env_secret({})", q(name)));
            consumed.push("authSecret");
        }
    }
    if let Some(a) = p.get("cleanupAuthConfig").and_then(auth) {
        settings.push(format!("cleanup_auth = {a}"));
        consumed.push("cleanupAuthConfig");
    }
    if let Some(t) = p.get("tlsConfig").and_then(Value::as_object) {
        let known = ["enabled", "allowInsecure", "hostnameVerification", "certSecretName", "certSecretKey"];
        let bools_ok = ["enabled", "allowInsecure", "hostnameVerification"]
            .iter()
            .all(|k| t.get(*k).is_some_and(Value::is_boolean));
        let ca = match (t.get("certSecretName"), t.get("certSecretKey")) {
            (None, None) => Some(String::new()),
            (Some(Value::String(n)), Some(Value::String(k))) if !n.is_empty() && !k.is_empty() => {
                Some(format!(", ca = secret({}, {})", q(n), q(k)))
            }
            _ => None,
        };
        if let (true, true, Some(ca)) = (t.keys().all(|k| known.contains(&k.as_str())), bools_ok, ca) {
            let b = |k: &str| t.get(k).and_then(Value::as_bool).unwrap_or(false);
            settings.push(format!(
                "tls {{ enabled = {}, allow_insecure = {}, hostname_verification = {}{ca} }}",
                t.get("enabled").and_then(Value::as_bool).unwrap_or(true),
                b("allowInsecure"),
                b("hostnameVerification")
            ));
            consumed.push("tlsConfig");
        }
    } else if let Some(name) = p.get("tlsSecret").and_then(Value::as_str).filter(|s| !s.is_empty()) {
        settings.push(format!("tls = env_secret({})", q(name)));
        consumed.push("tlsSecret");
    }
    (settings, consumed)
}

/// JSON pointers on an object, as `Value::pointer` has them.
trait Pointer {
    fn pointer(&self, p: &str) -> Option<&Value>;
}

impl Pointer for Map<String, Value> {
    fn pointer(&self, p: &str) -> Option<&Value> {
        let p = p.strip_prefix('/')?;
        let (first, rest) = p.split_once('/').map_or((p, None), |(a, b)| (a, Some(b)));
        let v = self.get(first)?;
        match rest {
            Some(r) => v.pointer(&format!("/{r}")),
            None => Some(v),
        }
    }
}
