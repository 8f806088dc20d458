//! Functions, sources and sinks: their runtime, settings, connector
//! configuration, and the operator's admission rules that concern one
//! component on its own.

use super::defaults::Defaults;
use super::values::{quoted_list, type_error, Fields};
use super::{Checker, Sym};
use crate::diag::Diagnostic;
use crate::ir::{self, ComponentKind, Guarantee, LogConfig, Ordering, Resources, Runtime, SecretRef};
use crate::names;
use crate::schema::{Schema, SchemaKind};
use crate::source::Span;
use crate::syntax::ast::{Block, ComponentDecl, ConnectorDecl, Field, Item, TypeKind, Value, ValueKind};
use std::collections::BTreeMap;

/// The operator rejects Function, Source and Sink names longer than this (V01).
pub const MAX_NAME: usize = 43;

/// The operator's intended resource defaults (reference 2.2), written out
/// because its own defaulting has no effect and memory must be set.
pub fn default_resources() -> Resources {
    let q = |cpu: &str, mem: &str| {
        BTreeMap::from([("cpu".to_string(), cpu.to_string()), ("memory".to_string(), mem.to_string())])
    };
    Resources { requests: q("1", "1Gi"), limits: q("1", "1Gi") }
}

/// A component whose head names a `@template` component of the same kind
/// takes the template's runtime, types and settings; its own settings win,
/// key by key. Others are returned as they are.
fn instantiate(c: &mut Checker<'_>, decl: &ComponentDecl, depth: usize) -> Option<ComponentDecl> {
    let Some(Sym::Component(t)) =
        decl.head.is_single().then(|| c.names.get(&decl.head.segments[0].name).map(|(s, _)| *s)).flatten()
    else {
        return Some(decl.clone());
    };
    let base = c.components[t];
    if !c.templates.contains(&t) || base.kind != decl.kind || depth > 16 {
        let why = if depth > 16 {
            "templates instantiate each other in a loop".to_string()
        } else if base.kind != decl.kind {
            format!("`{}` is a {}, not a {}", base.name.name, base.kind.keyword(), decl.kind.keyword())
        } else {
            format!("`{}` is not a template; declare it `@template` to instantiate it", base.name.name)
        };
        c.diags.push(
            Diagnostic::new(
                "E0112",
                format!("cannot instantiate `{}`: {why}", base.name.name),
                decl.head.span,
                "not an instantiable template",
            )
            .label(base.name.span, "declared here"),
        );
        return None;
    }
    c.used.insert(Sym::Component(t));
    if !decl.head_args.is_empty() {
        c.diags.push(Diagnostic::new(
            "E0202",
            "a template instance takes no arguments",
            decl.head.span,
            "the template fixes the runtime",
        ));
        return None;
    }
    let base = instantiate(c, base, depth + 1)?;
    let mut body = base.body.clone().unwrap_or(Block { items: Vec::new(), span: decl.name.span });
    if let Some(own) = &decl.body {
        for item in &own.items {
            body.items.retain(|i| i.key.name != item.key.name);
            body.items.push(item.clone());
        }
    }
    Some(ComponentDecl {
        kind: decl.kind,
        name: decl.name.clone(),
        params: if decl.params.is_empty() { base.params.clone() } else { decl.params.clone() },
        output: decl.output.clone().or(base.output.clone()),
        head: base.head.clone(),
        head_args: base.head_args.clone(),
        body: Some(body),
    })
}

/// Where a source's or sink's code comes from.
enum Connector<'a> {
    Typed(&'a ConnectorDecl),
    Custom { class: String },
}

pub fn build(c: &mut Checker<'_>, i: usize, d: &Defaults, clusters: &[ir::Cluster]) -> Option<ir::Component> {
    let expanded = instantiate(c, c.components[i], 0)?;
    let decl = &expanded;
    let what = format!("{} `{}`", decl.kind.keyword(), decl.name.name);
    // Inherited defaults count as if written in the component, unless it sets them itself.
    let mut body = decl.body.clone().unwrap_or(Block { items: Vec::new(), span: decl.name.span });
    for (key, item) in &d.inherited {
        if body.get(key).is_none() {
            body.items.push(item.clone());
        }
    }
    c.substitute_lets(&mut body);
    let mut f = Fields::new(Some(&body), what.clone(), &mut c.diags);
    let mut ok = true;

    let kube_name = match f.take("name") {
        Some(item) => c.reader().string(&item.value)?,
        None => names::kube_name(&decl.name.name),
    };
    let name_span = body.get("name").map_or(decl.name.span, |i| i.value.span);
    if !names::is_dns_label(&kube_name) || !kube_name.starts_with(|ch: char| ch.is_ascii_lowercase()) {
        c.diags.push(
            Diagnostic::new(
                "E0402",
                format!("`{kube_name}` is not a valid name for a Kubernetes object"),
                name_span,
                "invalid name",
            )
            .help("names start with a letter and use lower-case letters, digits and `-` (mesh turns `_` into `-`)"),
        );
        ok = false;
    } else if kube_name.len() > MAX_NAME {
        c.diags.push(
            Diagnostic::new(
                "E0401",
                format!(
                    "the name `{kube_name}` is {} characters long; the operator allows at most {MAX_NAME}",
                    kube_name.len()
                ),
                name_span,
                "name too long",
            )
            .help("choose a shorter name, or set `name = \"...\"` in the component"),
        );
        ok = false;
    }
    let pulsar_name = match f.take("pulsar_name") {
        Some(item) => c.reader().string(&item.value)?,
        None => kube_name.clone(),
    };

    // Cluster and Pulsar identity.
    let cluster = match f.take("cluster") {
        Some(item) => match &item.value.kind {
            ValueKind::Path(p) if p.is_single() => {
                match c.lookup(&p.segments[0], "a pulsar cluster", |s| matches!(s, Sym::Pulsar(_))) {
                    Some(Sym::Pulsar(ci)) => Some(ci),
                    _ => return None,
                }
            }
            _ => {
                c.diags.push(Diagnostic::new(
                    "E0202",
                    "expected the name of a `pulsar` block",
                    item.value.span,
                    "expected a name",
                ));
                return None;
            }
        },
        None => d.cluster,
    };
    let Some(cluster) = cluster else {
        let mut diag = Diagnostic::new(
            "E0109",
            format!("{what} has no Pulsar cluster"),
            decl.name.span,
            "which cluster does this run against?",
        );
        diag = if c.pulsars.is_empty() {
            diag.help("declare one: `pulsar prod { web_service_url = \"http://...\", broker_service_url = \"pulsar://...\" }`")
        } else {
            diag.help("set `cluster = NAME` in `defaults` or in the component; there is more than one `pulsar` block")
        };
        c.diags.push(diag);
        return None;
    };
    if cluster >= clusters.len() && clusters.len() == c.pulsars.len() {
        return None;
    }
    let mut r = c.reader();
    let tenant = f.take("tenant").and_then(|i| r.string(&i.value)).unwrap_or_else(|| d.tenant.clone());
    let namespace = f.take("namespace").and_then(|i| r.string(&i.value)).unwrap_or_else(|| d.namespace.clone());
    let cluster_name =
        f.take("cluster_name").and_then(|i| r.string(&i.value)).unwrap_or_else(|| d.cluster_name.clone());

    // Runtime and class.
    let (runtime, class_name, connector) = match decl.kind {
        ComponentKind::Function => {
            let (rt, class) = function_runtime(c, decl, &mut f)?;
            (rt, class, None)
        }
        _ => {
            let conn = connector_of(c, decl)?;
            let (rt, class) = connector_runtime(c, &conn, &mut f, decl)?;
            (rt, Some(class), Some(conn))
        }
    };
    let image_key = match (&runtime, decl.kind) {
        (_, ComponentKind::Source | ComponentKind::Sink) => "connector_image",
        (Runtime::Java { .. }, _) => "java_image",
        (Runtime::Python { .. }, _) => "python_image",
        (Runtime::Go { .. }, _) => "go_image",
        (Runtime::Generic { .. }, _) => "image",
    };
    let image = match f.take("image") {
        Some(item) => c.reader().string(&item.value),
        None => f.take(image_key).and_then(|item| c.reader().string(&item.value)),
    };
    // The other runtimes' image defaults are not errors in this component.
    for key in ["java_image", "python_image", "go_image", "connector_image"] {
        if key != image_key {
            let _ = f.take(key);
        }
    }

    // Scaling.
    let replicas_item = f.take("replicas");
    let replicas_span = replicas_item.map(|i| i.value.span);
    let (replicas, min_replicas, max_replicas) = match replicas_item {
        None => (1, 1, None),
        Some(item) => match &c.reader().resolve(&item.value).kind {
            ValueKind::Int(n) => {
                let n = *n;
                if !(1..=i64::from(i32::MAX)).contains(&n) {
                    c.diags.push(
                        Diagnostic::new(
                            "E0403",
                            format!("`replicas = {n}`: a component needs at least one replica"),
                            item.value.span,
                            "invalid replica count",
                        )
                        .note("the operator refuses 0 replicas on creation; scale a running component down instead"),
                    );
                    ok = false;
                }
                (n, 1, None)
            }
            ValueKind::Range(lo, hi) => {
                let (lo, hi) = (*lo, *hi);
                if lo < 1 || hi < lo || hi > i64::from(i32::MAX) {
                    c.diags.push(
                        Diagnostic::new(
                            "E0403",
                            format!("`{lo}..{hi}` is not a valid replica range"),
                            item.value.span,
                            "invalid range",
                        )
                        .help("write `min..max` with 1 <= min <= max, e.g. `1..4`"),
                    );
                    ok = false;
                }
                (lo, lo, Some(hi))
            }
            other => {
                let desc = other.describe();
                c.diags.push(Diagnostic::new(
                    "E0202",
                    format!("expected a replica count or a range like `1..4`, found {desc}"),
                    item.value.span,
                    "expected a count or range",
                ));
                ok = false;
                (1, 1, None)
            }
        },
    };
    let precise = f.take("precise_parallelism").and_then(|i| c.reader().bool(&i.value)).unwrap_or(false);

    // Processing.
    let guarantee_item = f.take("guarantee");
    let guarantee = match guarantee_item {
        Some(item) => {
            let names: Vec<&'static str> = Guarantee::ALL.iter().map(|(n, _)| *n).collect();
            let w = c.reader().word(&item.value, &names)?;
            Guarantee::ALL.iter().find(|(n, _)| *n == w).map_or(Guarantee::AtleastOnce, |(_, g)| *g)
        }
        None => Guarantee::AtleastOnce,
    };
    let reads = decl.kind != ComponentKind::Source;
    let writes = decl.kind != ComponentKind::Sink;
    let is_fn = decl.kind == ComponentKind::Function;

    let mut comp = ir::Component {
        kind: decl.kind,
        name: decl.name.name.clone(),
        kube_name,
        pulsar_name,
        span: decl.name.span,
        cluster,
        tenant,
        namespace,
        cluster_name,
        runtime,
        class_name,
        image,
        inputs: Vec::new(),
        output: None,
        input_schema: None,
        output_schema: None,
        replicas,
        min_replicas,
        max_replicas,
        show_precise_parallelism: precise,
        guarantee,
        auto_ack: true,
        max_retries: None,
        dead_letter: None,
        timeout_ms: None,
        negative_ack_redelivery_delay_ms: None,
        subscription_name: None,
        subscription_position: None,
        ordering: Ordering::Unordered,
        skip_to_latest: false,
        cleanup_subscription: false,
        forward_source_message_property: true,
        max_pending_async_requests: if is_fn { Some(1000) } else { None },
        log_topic: None,
        log_agent: None,
        log: LogConfig::default(),
        config: None,
        secrets: BTreeMap::new(),
        window: None,
        state: None,
        resources: default_resources(),
        producer: None,
        serde_in: None,
        serde_out: None,
        batch_source: None,
        runtime_flags: None,
        pod: None,
        volume_mounts: None,
        labels: BTreeMap::new(),
        annotations: BTreeMap::new(),
        passthrough: None,
    };

    let mut spans: BTreeMap<&'static str, Span> = BTreeMap::new();
    if let Some(sp) = replicas_span {
        spans.insert("replicas", sp);
    }
    if reads {
        if let Some(item) = f.take("auto_ack") {
            comp.auto_ack = c.reader().bool(&item.value).unwrap_or(true);
        }
        if let Some(item) = f.take("max_retries") {
            spans.insert("max_retries", item.key.span);
            comp.max_retries = c.reader().int(&item.value, 0, i64::from(i32::MAX));
        }
        if let Some(item) = f.take("dead_letter") {
            spans.insert("dead_letter", item.key.span);
            comp.dead_letter = topic_ref(c, &item.value);
            ok &= comp.dead_letter.is_some();
        }
        if let Some(item) = f.take("timeout") {
            spans.insert("timeout", item.key.span);
            comp.timeout_ms = c.reader().duration_ms(&item.value).filter(|ms| check_i32_ms(c, *ms, item));
        }
        if let Some(item) = f.take("subscription") {
            comp.subscription_name = c.reader().string(&item.value);
        }
        if let Some(item) = f.take("position") {
            comp.subscription_position = c.reader().word(&item.value, &["earliest", "latest"]).map(String::from);
        }
        if let Some(item) = f.take("cleanup_subscription") {
            comp.cleanup_subscription = c.reader().bool(&item.value).unwrap_or(false);
        }
        let retain = f.take("retain_ordering");
        let retain_key = f.take("retain_key_ordering");
        let retain_v = retain.and_then(|i| c.reader().bool(&i.value)).unwrap_or(false);
        let retain_key_v = retain_key.and_then(|i| c.reader().bool(&i.value)).unwrap_or(false);
        if retain_v && retain_key_v {
            let (a, b) = (retain.map(|i| i.key.span), retain_key.map(|i| i.key.span));
            if let (Some(a), Some(b)) = (a, b) {
                c.diags.push(
                    Diagnostic::new(
                        "E0407",
                        "`retain_ordering` and `retain_key_ordering` exclude each other",
                        b,
                        "key ordering",
                    )
                    .label(a, "ordering per partition")
                    .note("the operator rejects both together: a subscription is either Failover or Key_Shared"),
                );
                ok = false;
            }
        }
        comp.ordering = if retain_v {
            Ordering::Retain
        } else if retain_key_v {
            spans.insert("retain_key_ordering", retain_key.map_or(decl.name.span, |i| i.key.span));
            Ordering::RetainKey
        } else {
            Ordering::Unordered
        };
        if let Some(item) = f.take("consumer") {
            ok &= consumer(c, item, &mut comp);
        }
    }
    if decl.kind == ComponentKind::Sink {
        if let Some(item) = f.take("negative_ack_redelivery_delay") {
            comp.negative_ack_redelivery_delay_ms =
                c.reader().duration_ms(&item.value).filter(|ms| check_i32_ms(c, *ms, item));
        }
    }
    if writes {
        if let Some(item) = f.take("forward_properties") {
            comp.forward_source_message_property = c.reader().bool(&item.value).unwrap_or(true);
        }
        if let Some(item) = f.take("producer") {
            comp.producer = producer(c, item);
            ok &= comp.producer.is_some();
        }
    }
    if is_fn {
        if let Some(item) = f.take("max_pending_async_requests") {
            comp.max_pending_async_requests = c.reader().int(&item.value, 0, i64::from(i32::MAX));
        }
        if let Some(item) = f.take("skip_to_latest") {
            comp.skip_to_latest = c.reader().bool(&item.value).unwrap_or(false);
        }
        if let Some(item) = f.take("window") {
            comp.window = window(c, item);
            ok &= comp.window.is_some();
        }
        if let Some(item) = f.take("config") {
            comp.config =
                c.reader().json_block(&item.value, "`config` is a block of settings").map(serde_json::Value::Object);
            ok &= comp.config.is_some();
        }
    }
    if let Some(item) = f.take("state") {
        spans.insert("state", item.key.span);
        comp.state = state(c, item);
        ok &= comp.state.is_some();
    }
    if decl.kind == ComponentKind::Source {
        if let Some(item) = f.take("batch") {
            comp.batch_source = batch(c, item);
            ok &= comp.batch_source.is_some();
        }
    }

    // Logging.
    if let Some(item) = f.take("log_topic") {
        comp.log_topic = topic_ref(c, &item.value);
        ok &= comp.log_topic.is_some();
    }
    if let Some(item) = f.take("log_agent") {
        comp.log_agent = c.reader().word(&item.value, &["runtime", "sidecar"]).map(String::from);
    }
    if let Some(item) = f.take("log") {
        match log_config(c, item) {
            Some(l) => comp.log = l,
            None => ok = false,
        }
    }

    // Secrets, resources, pod.
    if let Some(item) = f.take("secrets") {
        ok &= secrets(c, item, &mut comp.secrets);
    }
    if let Some(item) = f.take("resources") {
        match resources(c, item) {
            Some(res) => comp.resources = res,
            None => ok = false,
        }
    }
    if let Some(item) = f.take("runtime_flags") {
        comp.runtime_flags = c.reader().string(&item.value);
    }
    if let Some(item) = f.take("labels") {
        comp.labels = c.reader().string_map(&item.value).unwrap_or_default();
    }
    if let Some(item) = f.take("annotations") {
        comp.annotations = c.reader().string_map(&item.value).unwrap_or_default();
    }
    if let Some(item) = f.take("serde") {
        let mut sf =
            block_fields(c, item, "`serde` is a block: `serde { input = \"com.example.InSerDe\" }`", "`serde`")?;
        let input = if reads { sf.take("input") } else { None };
        let output = if writes { sf.take("output") } else { None };
        sf.finish(&mut c.diags);
        let mut r = c.reader();
        comp.serde_in = input.and_then(|i| r.string(&i.value));
        comp.serde_out = output.and_then(|i| r.string(&i.value));
    }
    if let Some(item) = f.take("passthrough") {
        match c.reader().json_block(&item.value, "`passthrough` is a block of spec fields") {
            Some(m) => {
                ok &= super::passthrough::check(c, decl.kind, &item.value, &m);
                comp.passthrough = Some(m);
            }
            None => ok = false,
        }
    }
    if let Some(item) = f.take("pod") {
        match super::pod::pod_policy(c, item) {
            Some((pod, mounts)) => {
                comp.pod = Some(pod);
                comp.volume_mounts = mounts;
            }
            None => ok = false,
        }
    }

    // Schemas a function declares; sources and sinks get theirs from the connector.
    if is_fn {
        match decl.params.as_slice() {
            [p] => comp.input_schema = c.schema_of(p),
            [] => {
                c.diags.push(
                    Diagnostic::new(
                        "E0501",
                        format!("function `{}` declares no input type", decl.name.name),
                        decl.name.span,
                        "missing input type",
                    )
                    .help(format!("write `function {}(string) -> ...` with the schema it reads", decl.name.name)),
                );
                ok = false;
            }
            [_, extra, ..] => {
                c.diags.push(
                    Diagnostic::new("E0501", "a function has one input type", extra.span, "second input type")
                        .note("a Pulsar function reads every input topic with the same type; wire several topics to it in a pipeline"),
                );
                ok = false;
            }
        }
        comp.output_schema = match &decl.output {
            Some(t) if matches!(&t.kind, TypeKind::Named(p) if p.joined() == "void") => None,
            Some(t) => c.schema_of(t),
            None => None,
        };
    }
    if let Some(conn) = &connector {
        ok &= connector_config(c, conn, &mut f, &mut comp, decl);
    }
    f.finish(&mut c.diags);
    ok &= operator_rules(c, &comp, &spans, decl);
    ok.then_some(comp)
}

/// The settings of a nested block (`window { ... }`), or an E0202 saying
/// `message` when the value is not a block.
pub(super) fn block_fields<'b>(c: &mut Checker<'_>, item: &'b Item, message: &str, what: &str) -> Option<Fields<'b>> {
    let ValueKind::Map(block) = &item.value.kind else {
        c.diags.push(Diagnostic::new("E0202", message, item.value.span, "expected `{ ... }`"));
        return None;
    };
    Some(Fields::new(Some(block), what, &mut c.diags))
}

fn check_i32_ms(c: &mut Checker<'_>, ms: i64, item: &Item) -> bool {
    if ms > i64::from(i32::MAX) {
        c.diags.push(Diagnostic::new(
            "E0206",
            "the duration is too long for this setting (at most about 24 days)",
            item.value.span,
            "too long",
        ));
        return false;
    }
    true
}

/// A topic named by a setting (`dead_letter = rejected`).
pub(super) fn topic_ref(c: &mut Checker<'_>, v: &Value) -> Option<usize> {
    match &v.kind {
        ValueKind::Path(p) if p.is_single() => {
            match c.lookup(&p.segments[0], "a topic", |s| matches!(s, Sym::Topic(_)))? {
                Sym::Topic(t) => Some(t),
                _ => None,
            }
        }
        _ => {
            c.diags.push(
                Diagnostic::new(
                    "E0202",
                    format!("expected a topic name, found {}", v.kind.describe()),
                    v.span,
                    "expected a declared topic",
                )
                .help("declare the topic (`topic dlq : bytes`) and refer to it by name"),
            );
            None
        }
    }
}

fn function_runtime(
    c: &mut Checker<'_>,
    decl: &ComponentDecl,
    f: &mut Fields<'_>,
) -> Option<(Runtime, Option<String>)> {
    let head = decl.head.joined();
    let arg = |c: &mut Checker<'_>, what: &str| -> Option<String> {
        match decl.head_args.as_slice() {
            [v] => c.reader().string(v),
            _ => {
                c.diags.push(
                    Diagnostic::new(
                        "E0202",
                        format!("`{head}` takes one argument: the {what}"),
                        decl.head.span,
                        "wrong number of arguments",
                    )
                    .help(format!("write `{head}(\"...\")`")),
                );
                None
            }
        }
    };
    match head.as_str() {
        "java" => {
            let class = arg(c, "function class")?;
            let (jar, location) = package(c, f, "jar", &decl.name.name, "jar")?;
            let extra = f.take("extra_dependencies_dir").and_then(|i| c.reader().string(&i.value));
            let opts = f.take("java_opts").and_then(|i| c.reader().strings(&i.value)).unwrap_or_default();
            Some((Runtime::Java { jar, location, extra_dependencies_dir: extra, java_opts: opts }, Some(class)))
        }
        "python" => {
            let class = arg(c, "function class (`module.Class`)")?;
            let (py, location) = package(c, f, "py", &decl.name.name, "py")?;
            Some((Runtime::Python { py, location }, Some(class)))
        }
        "go" => {
            if !decl.head_args.is_empty() {
                c.diags.push(Diagnostic::new(
                    "E0202",
                    "`go` takes no argument",
                    decl.head.span,
                    "a Go function has no class name",
                ));
                return None;
            }
            let (go, location) = package(c, f, "go", &decl.name.name, "")?;
            Some((Runtime::Go { go, location }, None))
        }
        "generic" => {
            let language = arg(c, "language (`nodejs`, `python`, `executable` or `wasm`)")?;
            let (file, location) = package(c, f, "function_file", &decl.name.name, "")?;
            let class = f.take("class").and_then(|i| c.reader().string(&i.value));
            Some((Runtime::Generic { function_file: file, language, location }, class))
        }
        _ => {
            let mut d = Diagnostic::new(
                "E0110",
                format!("`{head}` is not a function runtime"),
                decl.head.span,
                "unknown runtime",
            )
            .note("functions run with `java(\"Class\")`, `python(\"module.Class\")`, `go` or `generic(\"language\")`");
            if let Some(s) = super::values::suggest(&head, ["java", "python", "go", "generic"]) {
                d = d.help(format!("did you mean `{s}`?"));
            }
            c.diags.push(d);
            None
        }
    }
}

/// The file a runtime runs and where it is downloaded from. `key = "path"`
/// names a file in the image; a package name or URL there is downloaded to a
/// file named after it. `location = "..."` names the download explicitly.
fn package(
    c: &mut Checker<'_>,
    f: &mut Fields<'_>,
    key: &'static str,
    component: &str,
    ext: &str,
) -> Option<(String, Option<String>)> {
    let item = f.take(key);
    let loc_item = f.take("location");
    let mut r = c.reader();
    let given = item.and_then(|i| r.string(&i.value));
    let location = loc_item.and_then(|i| r.string(&i.value));
    let Some(given) = given else {
        let span = item.map_or_else(|| f_span(c, component), |i| i.value.span);
        if item.is_none() {
            c.diags.push(
                Diagnostic::new("E0203", format!("`{key}` is required: the file to run"), span, format!("missing `{key}`"))
                    .help(format!("write `{key} = \"/pulsar/examples/app.{}\"` or a package name such as `\"function://tenant/ns/name@1.0\"`", if ext.is_empty() { "bin" } else { ext })),
            );
        }
        return None;
    };
    let (file, location) = if names::is_package_location(&given) {
        if location.is_some() {
            c.diags.push(Diagnostic::new(
                "E0205",
                format!("`{key}` is already a download location; `location` says it twice"),
                loc_item.map_or(f_span(c, component), |i| i.key.span),
                "second location",
            ));
            return None;
        }
        (file_name_of(&given, ext), Some(given))
    } else {
        if given.is_empty() {
            c.diags.push(Diagnostic::new(
                "E0404",
                format!("`{key}` cannot be empty"),
                item.map_or(f_span(c, component), |i| i.value.span),
                "empty path",
            ));
            return None;
        }
        (given, location)
    };
    if let Some(loc) = &location {
        if let Some(why) = names::package_location_error(loc) {
            let span = loc_item.or(item).map_or(f_span(c, component), |i| i.value.span);
            c.diags.push(Diagnostic::new(
                "E0410",
                format!("`{loc}` is not a package location the operator accepts"),
                span,
                why,
            ));
            return None;
        }
        if !loc.starts_with(|ch: char| ch.is_ascii_lowercase())
            || loc.to_ascii_lowercase()
                != loc[..loc.find("://").unwrap_or(0)].to_ascii_lowercase() + &loc[loc.find("://").unwrap_or(0)..]
        {
            // The controller only recognises lower-case schemes (reference 3.4).
            let span = loc_item.or(item).map_or(f_span(c, component), |i| i.value.span);
            c.diags.push(Diagnostic::new(
                "E0410",
                format!("write the scheme of `{loc}` in lower case"),
                span,
                "the controller only recognises lower-case schemes",
            ));
            return None;
        }
    }
    Some((file, location))
}

fn f_span(c: &Checker<'_>, component: &str) -> Span {
    c.names.get(component).map_or(Span::new(crate::source::FileId(0), 0, 0), |(_, s)| *s)
}

/// `function://t/ns/enrich@1.4` becomes `enrich.jar`; a URL keeps its file name.
fn file_name_of(location: &str, ext: &str) -> String {
    let path = location.split("://").nth(1).unwrap_or(location);
    let path = path.split(['?', '#']).next().unwrap_or(path);
    let last = path.rsplit('/').next().unwrap_or(path);
    if location.starts_with("http") {
        return last.to_string();
    }
    let name = last.split('@').next().unwrap_or(last);
    if ext.is_empty() || name.contains('.') {
        name.to_string()
    } else {
        format!("{name}.{ext}")
    }
}

fn connector_of<'a>(c: &mut Checker<'a>, decl: &ComponentDecl) -> Option<Connector<'a>> {
    let kind = decl.kind.keyword();
    let segs = &decl.head.segments;
    if segs.len() == 1 && segs[0].name == "connector" {
        return match decl.head_args.as_slice() {
            [v] => Some(Connector::Custom { class: c.reader().string(v)? }),
            _ => {
                c.diags.push(
                    Diagnostic::new(
                        "E0202",
                        "`connector` takes one argument: the connector class",
                        decl.head.span,
                        "wrong number of arguments",
                    )
                    .help("write `connector(\"com.example.MySource\") { jar = \"...\", config { ... } }`"),
                );
                None
            }
        };
    }
    if !decl.head_args.is_empty() {
        c.diags.push(Diagnostic::new(
            "E0202",
            format!("`{}` takes no arguments", decl.head.joined()),
            decl.head.span,
            "unexpected arguments",
        ));
        return None;
    }
    let found = match segs.as_slice() {
        [module, conn] => match c.lookup(module, "a module", |s| matches!(s, Sym::Module(_)))? {
            Sym::Module(m) => {
                let module = &c.modules[m];
                match module.connectors.get(&conn.name) {
                    Some(cd) => Some(*cd),
                    None => {
                        let names: Vec<&str> = module.connectors.keys().map(String::as_str).collect();
                        let mut d = Diagnostic::new(
                            "E0102",
                            format!("`std::{}` has no connector `{}`", module.path, conn.name),
                            conn.span,
                            "unknown connector",
                        )
                        .note(format!("it declares: {}", names.join(", ")));
                        if let Some(s) = super::values::suggest(&conn.name, names.iter().copied()) {
                            d = d.help(format!("did you mean `{}::{s}`?", module.alias));
                        }
                        c.diags.push(d);
                        None
                    }
                }
            }
            _ => None,
        },
        [single] => match c.lookup(single, "a connector", |s| matches!(s, Sym::Connector(_)))? {
            Sym::Connector(i) => Some(c.connectors[i]),
            _ => None,
        },
        _ => {
            c.diags.push(Diagnostic::new(
                "E0102",
                format!("unknown connector `{}`", decl.head.joined()),
                decl.head.span,
                "unknown connector",
            ));
            None
        }
    }?;
    let is_source = found.produces.is_some();
    let is_sink = found.accepts.is_some();
    let fits = match decl.kind {
        ComponentKind::Source => is_source || (!is_sink && found.name.name == "source"),
        _ => is_sink || (!is_source && found.name.name == "sink"),
    };
    if !fits {
        c.diags.push(
            Diagnostic::new(
                "E0111",
                format!("`{}` is not a {kind} connector", decl.head.joined()),
                decl.head.span,
                format!("not a {kind}"),
            )
            .label(found.name.span, "declared here"),
        );
        return None;
    }
    Some(Connector::Typed(found))
}

fn connector_runtime(
    c: &mut Checker<'_>,
    conn: &Connector<'_>,
    f: &mut Fields<'_>,
    decl: &ComponentDecl,
) -> Option<(Runtime, String)> {
    let (class, default_jar) = match conn {
        Connector::Custom { class } => (class.clone(), None),
        Connector::Typed(cd) => {
            let mut cf = Fields::new(Some(&cd.settings), format!("connector `{}`", cd.name.name), &mut c.diags);
            let class = cf.take("class").and_then(|i| c.reader().string(&i.value));
            let archive = cf.take("archive").and_then(|i| c.reader().string(&i.value));
            let _ = cf.take("builtin");
            let _ = cf.take("type_class");
            cf.finish(&mut c.diags);
            let Some(class) = class else {
                c.diags.push(Diagnostic::new(
                    "E0203",
                    format!("connector `{}` has no `class`", cd.name.name),
                    cd.name.span,
                    "missing `class`",
                ));
                return None;
            };
            (class, archive)
        }
    };
    let item = f.take("jar");
    let loc_item = f.take("location");
    let mut r = c.reader();
    let jar = item.and_then(|i| r.string(&i.value)).or(default_jar);
    let location = loc_item.and_then(|i| r.string(&i.value));
    let Some(jar) = jar else {
        c.diags.push(
            Diagnostic::new("E0203", "a custom connector needs `jar`: the connector archive", decl.name.span, "missing `jar`")
                .help("write `jar = \"connectors/my-connector.nar\"` (a path in the image), optionally with `location = \"sink://tenant/ns/name\"`"),
        );
        return None;
    };
    let (jar, location) = if names::is_package_location(&jar) && location.is_none() {
        (file_name_of(&jar, "nar"), Some(jar))
    } else {
        (jar, location)
    };
    if let Some(loc) = &location {
        if let Some(why) = names::package_location_error(loc) {
            let span = loc_item.or(item).map_or(decl.name.span, |i| i.value.span);
            c.diags.push(Diagnostic::new(
                "E0410",
                format!("`{loc}` is not a package location the operator accepts"),
                span,
                why,
            ));
            return None;
        }
    }
    let extra_dependencies_dir = f.take("extra_dependencies_dir").and_then(|i| c.reader().string(&i.value));
    Some((Runtime::Java { jar, location, extra_dependencies_dir, java_opts: Vec::new() }, class))
}

/// Settings a connector's own configuration may not use in the flat form,
/// because they configure the component.
const COMPONENT_KEYS: &[&str] = &[
    "name",
    "pulsar_name",
    "cluster",
    "tenant",
    "namespace",
    "cluster_name",
    "image",
    "replicas",
    "guarantee",
    "resources",
    "pod",
    "labels",
    "annotations",
    "secrets",
    "log",
    "log_topic",
    "log_agent",
    "config",
    "value",
    "jar",
    "location",
];

/// Reads the connector configuration (a `config { }` block, or for typed
/// connectors the remaining settings) into `comp.config` and `comp.secrets`,
/// and the schema it produces or accepts.
fn connector_config(
    c: &mut Checker<'_>,
    conn: &Connector<'_>,
    f: &mut Fields<'_>,
    comp: &mut ir::Component,
    decl: &ComponentDecl,
) -> bool {
    let value_item = if decl.kind == ComponentKind::Source { f.take("value") } else { None };
    let explicit = f.take("config");
    let mut ok = true;
    match conn {
        Connector::Custom { .. } => {
            if decl.kind == ComponentKind::Source {
                let Some(v) = value_item else {
                    c.diags.push(
                        Diagnostic::new(
                            "E0203",
                            "a custom source must say what it writes: `value = SCHEMA`",
                            decl.name.span,
                            "missing `value`",
                        )
                        .help("e.g. `value = bytes` or `value = Order`"),
                    );
                    return false;
                };
                comp.output_schema = schema_value(c, &v.value);
                ok &= comp.output_schema.is_some();
            } else {
                comp.input_schema = None; // taken from the topic it reads
            }
            let config = match explicit {
                Some(item) => c.reader().json(&item.value),
                None => Some(serde_json::json!({})),
            };
            ok &= config.is_some();
            comp.config = config;
        }
        Connector::Typed(cd) => {
            let fields = cd.config.as_deref().unwrap_or(&[]);
            let items: Vec<&Item> = match explicit {
                Some(item) => match &item.value.kind {
                    ValueKind::Map(b) => b.items.iter().collect(),
                    _ => {
                        c.diags.push(Diagnostic::new(
                            "E0202",
                            "`config` is a block of settings",
                            item.value.span,
                            "expected `{ ... }`",
                        ));
                        return false;
                    }
                },
                None => f.rest(),
            };
            let mut config = serde_json::Map::new();
            let what = format!("the `{}` configuration", decl.head.joined());
            for item in &items {
                let Some(field) = fields.iter().find(|fl| fl.name.name == item.key.name) else {
                    let mut d = Diagnostic::new(
                        "E0201",
                        format!("unknown setting `{}` in {what}", item.key.name),
                        item.key.span,
                        "unknown setting",
                    )
                    .label(cd.name.span, "connector declared here");
                    let cands = fields.iter().map(|fl| fl.name.name.as_str()).chain(COMPONENT_KEYS.iter().copied());
                    if let Some(s) = super::values::suggest(&item.key.name, cands) {
                        d = d.help(format!("did you mean `{s}`?"));
                    }
                    c.diags.push(d);
                    ok = false;
                    continue;
                };
                let key = wire_key(c, field);
                if is_sensitive(field) {
                    match &c.reader().resolve(&item.value).kind {
                        ValueKind::Call { callee, args } if callee.joined() == "secret" => {
                            if let Some(s) = c.reader().secret_args(item.value.span, args) {
                                comp.secrets.insert(key, s);
                            }
                        }
                        _ => {
                            c.diags.push(
                                Diagnostic::new(
                                    "E0209",
                                    format!("`{}` is sensitive and cannot be written as a literal", item.key.name),
                                    item.value.span,
                                    "a secret value would be written into the bundle",
                                )
                                .label(field.name.span, "declared sensitive here")
                                .help(format!("write `{} = secret(\"secret-name\", \"key\")`", item.key.name)),
                            );
                            ok = false;
                        }
                    }
                    continue;
                }
                match config_value(c, field, &item.value) {
                    Some(v) => {
                        config.insert(key, v);
                    }
                    None => ok = false,
                }
            }
            let missing: Vec<&str> = fields
                .iter()
                .filter(|fl| is_required(fl) && !items.iter().any(|i| i.key.name == fl.name.name))
                .map(|fl| fl.name.name.as_str())
                .collect();
            if !missing.is_empty() {
                c.diags.push(
                    Diagnostic::new(
                        "E0203",
                        format!(
                            "{} is missing required setting{} {}",
                            decl.name.name,
                            if missing.len() > 1 { "s" } else { "" },
                            quoted_list(&missing)
                        ),
                        decl.head.span,
                        format!("`{}` requires {}", decl.head.joined(), quoted_list(&missing)),
                    )
                    .label(cd.name.span, "connector declared here"),
                );
                ok = false;
            }
            comp.config = Some(serde_json::Value::Object(config));
            let type_class = cd.settings.get("type_class").and_then(|i| c.reader().string(&i.value));
            if decl.kind == ComponentKind::Source {
                let declared = cd.produces.as_ref().and_then(|(tys, _)| tys.first()).and_then(|t| io_schema(c, t));
                let produced = match value_item {
                    Some(v) => {
                        let value = schema_value(c, &v.value);
                        // A connector of raw bytes can carry any encoding; others fix the schema kind.
                        if let (Some(val), Some(decl_schema)) = (&value, &declared) {
                            if !crate::schema::compat::is_bytes(decl_schema)
                                && val.kind_name() != decl_schema.kind_name()
                            {
                                c.diags.push(
                                    Diagnostic::new(
                                        "E0503",
                                        format!(
                                            "`{}` produces {} records; `value` cannot make them {}",
                                            decl.head.joined(),
                                            decl_schema.display(),
                                            val.display()
                                        ),
                                        v.value.span,
                                        format!("{} is {}", val.display(), val.kind_name()),
                                    )
                                    .label(
                                        cd.produces.as_ref().map_or(cd.name.span, |(_, s)| *s),
                                        "what the connector produces",
                                    ),
                                );
                                ok = false;
                            }
                        }
                        value
                    }
                    None => declared,
                };
                // The record class is the connector's, whatever schema it declares.
                comp.output_schema = produced.map(|mut s| {
                    if type_class.is_some() {
                        s.class_name = type_class.clone();
                    }
                    s
                });
                ok &= comp.output_schema.is_some();
            } else {
                if let Some((tys, span)) = &cd.accepts {
                    let kinds = tys.iter().map(accepted_kind).collect();
                    c.accepts.insert(decl.name.name.clone(), (kinds, *span));
                }
            }
            if let (ComponentKind::Sink, Some(tc)) = (decl.kind, type_class) {
                // The sink's input schema is the topic's; only the class comes from the connector.
                comp.input_schema = Some(Schema { kind: SchemaKind::AutoConsume, name: None, class_name: Some(tc) });
            }
        }
    }
    ok
}

/// The schema a connector's `produces:` names. A bare format (`json`,
/// `avro`) means records of that format whose fields the connector decides.
fn io_schema(c: &mut Checker<'_>, t: &crate::syntax::ast::TypeExpr) -> Option<Schema> {
    let any = |kind| Some(Schema { kind, name: None, class_name: None });
    match &t.kind {
        TypeKind::Named(p) => match p.joined().as_str() {
            "avro" => any(SchemaKind::Avro { schema: serde_json::Value::Null }),
            "json" => any(SchemaKind::Json { schema: serde_json::Value::Null }),
            "protobuf" => any(SchemaKind::Protobuf { file: String::new(), message: String::new() }),
            "protobuf_native" => any(SchemaKind::ProtobufNative { file: String::new(), message: String::new() }),
            _ => c.schema_of(t),
        },
        TypeKind::Generic { name, args } if name.name == "key_value" && args.len() >= 2 => {
            let key = io_schema(c, &args[0])?;
            let value = io_schema(c, &args[1])?;
            let separated =
                matches!(args.get(2).map(|a| &a.kind), Some(TypeKind::Named(p)) if p.joined() == "separated");
            any(SchemaKind::KeyValue { key: Box::new(key), value: Box::new(value), separated })
        }
        _ => c.schema_of(t),
    }
}

/// `avro`, `key_value<...>`, `any`: the kind of schema an `accepts` entry names.
fn accepted_kind(t: &crate::syntax::ast::TypeExpr) -> String {
    match &t.kind {
        TypeKind::Named(p) => p.joined(),
        TypeKind::Generic { name, .. } | TypeKind::Call { name, .. } => name.name.clone(),
        _ => String::new(),
    }
}

fn schema_value(c: &mut Checker<'_>, v: &Value) -> Option<Schema> {
    match &v.kind {
        ValueKind::Path(p) => c.schema_of(&crate::syntax::ast::TypeExpr {
            kind: TypeKind::Named(p.clone()),
            optional: false,
            span: v.span,
        }),
        _ => {
            c.diags.push(Diagnostic::new(
                "E0202",
                format!("expected a schema name, found {}", v.kind.describe()),
                v.span,
                "expected a schema",
            ));
            None
        }
    }
}

fn wire_key(c: &mut Checker<'_>, field: &Field) -> String {
    field
        .annotations
        .iter()
        .find(|a| a.name.name == "key")
        .and_then(|a| a.args.first())
        .and_then(|v| c.reader().string(v))
        .unwrap_or_else(|| names::camel_case(&field.name.name))
}

fn is_sensitive(field: &Field) -> bool {
    field.annotations.iter().any(|a| a.name.name == "sensitive")
}

fn is_required(field: &Field) -> bool {
    !field.ty.optional && field.default.is_none()
}

/// A connector setting checked against its declared type.
fn config_value(c: &mut Checker<'_>, field: &Field, v: &Value) -> Option<serde_json::Value> {
    use serde_json::json;
    let mut r = c.reader();
    Some(match &field.ty.kind {
        TypeKind::Named(p) => match p.joined().as_str() {
            "string" => json!(r.string(v)?),
            "int" => json!(r.int(v, i64::from(i32::MIN), i64::from(i32::MAX))?),
            "long" => json!(r.int(v, i64::MIN, i64::MAX)?),
            "boolean" => json!(r.bool(v)?),
            "double" | "float" => match &r.resolve(v).kind {
                ValueKind::Int(i) => json!(*i),
                ValueKind::Float(x, _) => json!(*x),
                _ => {
                    let d = type_error("a number", r.resolve(v)).with_primary_span(v.span);
                    r.error(d);
                    return None;
                }
            },
            _ => r.json(v)?,
        },
        TypeKind::Enum { symbols, .. } => {
            let allowed: Vec<&str> = symbols.iter().map(|s| s.name.as_str()).collect();
            let given = match &r.resolve(v).kind {
                ValueKind::Path(p) if p.is_single() => p.segments[0].name.clone(),
                ValueKind::Str(s) => s.clone(),
                _ => {
                    let d = type_error(&format!("one of {}", quoted_list(&allowed)), r.resolve(v))
                        .with_primary_span(v.span);
                    r.error(d);
                    return None;
                }
            };
            if !allowed.contains(&given.as_str()) {
                let mut d = Diagnostic::new(
                    "E0204",
                    format!("`{given}` is not one of {}", quoted_list(&allowed)),
                    v.span,
                    "not an allowed value",
                )
                .label(field.ty.span, "allowed values declared here");
                if let Some(s) = super::values::suggest(&given, allowed.iter().copied()) {
                    d = d.help(format!("did you mean `{s}`?"));
                }
                c.diags.push(d);
                return None;
            }
            json!(given)
        }
        TypeKind::Generic { name, .. } if name.name == "array" => match &r.resolve(v).kind {
            ValueKind::List(_) => r.json(v)?,
            _ => {
                let d = type_error("a list", r.resolve(v)).with_primary_span(v.span);
                r.error(d);
                return None;
            }
        },
        TypeKind::Generic { name, .. } if name.name == "map" => match &r.resolve(v).kind {
            ValueKind::Map(_) => r.json(v)?,
            _ => {
                let d = type_error("a block", r.resolve(v)).with_primary_span(v.span);
                r.error(d);
                return None;
            }
        },
        _ => r.json(v)?,
    })
}

fn secrets(c: &mut Checker<'_>, item: &Item, out: &mut BTreeMap<String, SecretRef>) -> bool {
    let ValueKind::Map(block) = &item.value.kind else {
        c.diags.push(Diagnostic::new(
            "E0202",
            "`secrets` is a block of `NAME = secret(\"name\", \"key\")`",
            item.value.span,
            "expected `{ ... }`",
        ));
        return false;
    };
    let _ = Fields::new(Some(block), "`secrets`", &mut c.diags);
    let mut ok = true;
    for s in &block.items {
        match c.reader().secret(&s.value) {
            Some(r) => {
                out.insert(s.key.name.clone(), r);
            }
            None => ok = false,
        }
    }
    ok
}

fn resources(c: &mut Checker<'_>, item: &Item) -> Option<Resources> {
    let mut f =
        block_fields(c, item, "`resources` is a block: `resources { cpu = 500m, memory = 1Gi }`", "`resources`")?;
    let requests = f.take("requests");
    let limits = f.take("limits");
    let mut flat = BTreeMap::new();
    for key in ["cpu", "memory", "ephemeral_storage", "storage"] {
        if let Some(i) = f.take(key) {
            let q = c.reader().quantity(&i.value)?;
            flat.insert(key.replace('_', "-"), q);
        }
    }
    f.finish(&mut c.diags);
    let read = |c: &mut Checker<'_>, it: Option<&Item>| -> Option<BTreeMap<String, String>> {
        let Some(it) = it else { return Some(BTreeMap::new()) };
        let ValueKind::Map(b) = &it.value.kind else {
            c.diags.push(Diagnostic::new(
                "E0202",
                format!("`{}` is a block of quantities", it.key.name),
                it.value.span,
                "expected `{ ... }`",
            ));
            return None;
        };
        let mut f = Fields::new(Some(b), format!("`{}`", it.key.name), &mut c.diags);
        let mut m = BTreeMap::new();
        for key in ["cpu", "memory", "ephemeral_storage", "storage"] {
            if let Some(i) = f.take(key) {
                m.insert(key.replace('_', "-"), c.reader().quantity(&i.value)?);
            }
        }
        f.finish(&mut c.diags);
        Some(m)
    };
    let mut req = read(c, requests)?;
    let mut lim = read(c, limits)?;
    // A flat setting is both the request and the limit, unless one is given explicitly.
    for (k, v) in flat {
        req.entry(k.clone()).or_insert_with(|| v.clone());
        lim.entry(k).or_insert(v);
    }
    let res = Resources { requests: req, limits: lim };
    resource_rule(c, &res, item.value.span).then_some(res)
}

/// V22: memory requested and limited, requests within limits.
fn resource_rule(c: &mut Checker<'_>, res: &Resources, span: Span) -> bool {
    let get = |m: &BTreeMap<String, String>, k: &str| m.get(k).and_then(|q| crate::quantity::parse(q)).unwrap_or(0.0);
    let (rm, lm) = (get(&res.requests, "memory"), get(&res.limits, "memory"));
    let mut problems = Vec::new();
    if rm <= 0.0 || lm <= 0.0 {
        problems.push("memory must be requested and limited, and above zero".to_string());
    } else if rm > lm {
        problems.push(format!(
            "the memory request ({}) exceeds the limit ({})",
            res.requests["memory"], res.limits["memory"]
        ));
    }
    let (rc, lc) = (get(&res.requests, "cpu"), get(&res.limits, "cpu"));
    if lc != 0.0 && rc > lc {
        problems.push(format!("the cpu request ({}) exceeds the limit ({})", res.requests["cpu"], res.limits["cpu"]));
    }
    for (k, v) in res.requests.iter().chain(res.limits.iter()) {
        if crate::quantity::parse(v).is_some_and(|x| x < 0.0) {
            problems.push(format!("{k} cannot be negative"));
        }
    }
    for p in &problems {
        c.diags.push(
            Diagnostic::new("E0409", format!("invalid resources: {p}"), span, "the operator would reject these resources")
                .help("write `resources { cpu = 500m, memory = 1Gi }`, or `requests { ... }` and `limits { ... }` with requests <= limits"),
        );
    }
    problems.is_empty()
}

fn consumer(c: &mut Checker<'_>, item: &Item, comp: &mut ir::Component) -> bool {
    let Some(mut f) = block_fields(c, item, "`consumer` is a block of settings", "`consumer`") else {
        return false;
    };
    let rq = f.take("receiver_queue_size").and_then(|i| c.reader().int(&i.value, 0, i64::from(i32::MAX)));
    let crypto = match f.take("crypto") {
        Some(i) => match crypto(c, i, false) {
            Some(x) => Some(x),
            None => return false,
        },
        None => None,
    };
    f.finish(&mut c.diags);
    // Applied to every input topic once the pipeline wiring is known.
    comp.inputs.push(ir::Input { topic: usize::MAX, receiver_queue_size: rq, crypto });
    true
}

fn crypto(c: &mut Checker<'_>, item: &Item, producer: bool) -> Option<ir::Crypto> {
    let mut f = block_fields(c, item, "`crypto` is a block of settings", "`crypto`")?;
    let class = f.take("key_reader");
    let config = f.take("key_reader_config");
    let keys = if producer { f.take("encryption_keys") } else { None };
    let action = f.take("failure_action");
    let secrets = f.take("secrets");
    f.finish(&mut c.diags);
    let mut r = c.reader();
    let Some(class_item) = class else {
        c.diags.push(Diagnostic::new(
            "E0203",
            "`crypto` needs `key_reader`: the CryptoKeyReader class",
            item.key.span,
            "missing `key_reader`",
        ));
        return None;
    };
    let key_reader_class = r.string(&class_item.value)?;
    if key_reader_class.is_empty() {
        c.diags.push(Diagnostic::new(
            "E0404",
            "`key_reader` cannot be empty",
            class_item.value.span,
            "empty class name",
        ));
        return None;
    }
    let key_reader_config = match config {
        Some(i) => r.string_map(&i.value)?,
        None => BTreeMap::new(),
    };
    let encryption_keys = match keys {
        Some(i) => r.strings(&i.value)?,
        None => Vec::new(),
    };
    if producer && encryption_keys.is_empty() {
        c.diags.push(Diagnostic::new(
            "E0203",
            "producer `crypto` needs `encryption_keys`",
            item.key.span,
            "no keys to encrypt with",
        ));
        return None;
    }
    let actions: &[&'static str] = if producer { &["FAIL", "SEND"] } else { &["FAIL", "DISCARD", "CONSUME"] };
    let failure_action = match action {
        Some(i) => Some(r.word(&i.value, actions)?.to_string()),
        None => None,
    };
    let mut crypto_secrets = Vec::new();
    if let Some(i) = secrets {
        let ValueKind::List(list) = &i.value.kind else {
            c.diags.push(Diagnostic::new(
                "E0202",
                "`secrets` is a list of `{ secret = secret(...), mount = \"/path\" }`",
                i.value.span,
                "expected a list",
            ));
            return None;
        };
        for entry in list {
            let ValueKind::Map(b) = &entry.kind else {
                c.diags.push(Diagnostic::new(
                    "E0202",
                    "expected `{ secret = secret(\"name\", \"key\"), mount = \"/path\" }`",
                    entry.span,
                    "expected a block",
                ));
                return None;
            };
            let mut ef = Fields::new(Some(b), "a crypto secret", &mut c.diags);
            let s = ef.take("secret");
            let m = ef.take("mount");
            ef.finish(&mut c.diags);
            let mut r = c.reader();
            let Some(s) = s else {
                c.diags.push(Diagnostic::new(
                    "E0203",
                    "a crypto secret needs `secret = secret(\"name\", \"key\")`",
                    entry.span,
                    "missing `secret`",
                ));
                return None;
            };
            let secret = r.secret(&s.value)?;
            let mount_path = match m {
                Some(m) => Some(r.string(&m.value)?),
                None => None,
            };
            crypto_secrets.push(ir::CryptoSecret { secret, mount_path });
        }
    }
    Some(ir::Crypto { key_reader_class, key_reader_config, encryption_keys, failure_action, secrets: crypto_secrets })
}

fn producer(c: &mut Checker<'_>, item: &Item) -> Option<ir::Producer> {
    let mut f = block_fields(c, item, "`producer` is a block of settings", "`producer`")?;
    let mp = f.take("max_pending_messages");
    let mpa = f.take("max_pending_messages_across_partitions");
    let tl = f.take("thread_local");
    let bb = f.take("batch_builder");
    let comp = f.take("compression");
    let cr = f.take("crypto");
    f.finish(&mut c.diags);
    let mut r = c.reader();
    let mut p = ir::Producer {
        max_pending_messages: mp.and_then(|i| r.int(&i.value, 0, i64::from(i32::MAX))),
        max_pending_messages_across_partitions: mpa.and_then(|i| r.int(&i.value, 0, i64::from(i32::MAX))),
        use_thread_local_producers: tl.and_then(|i| r.bool(&i.value)),
        batch_builder: match bb {
            Some(i) => Some(r.word(&i.value, &["DEFAULT", "KEY_BASED"])?.to_string()),
            None => None,
        },
        compression: match comp {
            Some(i) => Some(r.word(&i.value, &["NONE", "LZ4", "ZLIB", "ZSTD", "SNAPPY"])?.to_string()),
            None => None,
        },
        crypto: None,
    };
    if let Some(i) = cr {
        p.crypto = Some(crypto(c, i, true)?);
    }
    Some(p)
}

fn window(c: &mut Checker<'_>, item: &Item) -> Option<ir::Window> {
    let mut f = block_fields(c, item, "`window` is a block: `window { length = 10, slide = 5 }`", "`window`")?;
    let length = f.take("length");
    let slide = f.take("slide");
    let late = f.take("late_data");
    let lag = f.take("max_lag");
    let wm = f.take("watermark_interval");
    let ts = f.take("timestamp_extractor");
    let g = f.take("guarantee");
    f.finish(&mut c.diags);
    let mut w = ir::Window::default();
    // A count is a plain integer, a duration has a unit: `length = 10` or `length = 5m`.
    let count_or_ms = |c: &mut Checker<'_>, it: &Item| -> Option<(Option<i64>, Option<i64>)> {
        match &c.reader().resolve(&it.value).kind {
            ValueKind::Int(n) => {
                if *n <= 0 || *n > i64::from(i32::MAX) {
                    c.diags.push(Diagnostic::new(
                        "E0408",
                        format!("`{}` must be above zero", it.key.name),
                        it.value.span,
                        "invalid window size",
                    ));
                    return None;
                }
                Some((Some(*n), None))
            }
            _ => {
                let ms = c.reader().duration_ms(&it.value)?;
                if ms <= 0 {
                    c.diags.push(Diagnostic::new(
                        "E0408",
                        format!("`{}` must be above zero", it.key.name),
                        it.value.span,
                        "invalid window size",
                    ));
                    return None;
                }
                Some((None, Some(ms)))
            }
        }
    };
    let Some(length) = length else {
        c.diags.push(
            Diagnostic::new(
                "E0408",
                "a window needs a `length`: a message count or a duration",
                item.key.span,
                "missing `length`",
            )
            .help("write `window { length = 100 }` for a count window or `window { length = 5m }` for a time window"),
        );
        return None;
    };
    (w.length_count, w.length_ms) = count_or_ms(c, length)?;
    if let Some(s) = slide {
        (w.slide_count, w.slide_ms) = count_or_ms(c, s)?;
        if w.length_count.is_some() != w.slide_count.is_some() {
            c.diags.push(
                Diagnostic::new(
                    "E0408",
                    "a window's `length` and `slide` must both be counts or both be durations",
                    s.value.span,
                    "mixed kinds",
                )
                .label(length.value.span, "length"),
            );
            return None;
        }
    }
    let mut r = c.reader();
    if let Some(l) = lag {
        w.max_lag_ms = Some(r.duration_ms(&l.value)?);
    }
    if let Some(x) = wm {
        w.watermark_interval_ms = Some(r.duration_ms(&x.value)?);
    }
    if let Some(x) = ts {
        w.timestamp_extractor = Some(r.string(&x.value)?);
    }
    if let Some(x) = g {
        w.guarantee = Some(r.word(&x.value, &["atleast_once", "atmost_once"])?.to_uppercase());
    }
    if w.timestamp_extractor.is_some() {
        for (it, v) in [(lag, w.max_lag_ms), (wm, w.watermark_interval_ms)] {
            if let (Some(it), Some(v)) = (it, v) {
                if v <= 0 {
                    c.diags.push(Diagnostic::new(
                        "E0408",
                        format!("`{}` must be above zero with a timestamp extractor", it.key.name),
                        it.value.span,
                        "invalid",
                    ));
                    return None;
                }
            }
        }
    }
    // A count window without a slide makes the operator's defaulting fail (reference 7.3).
    if w.length_count.is_some()
        && w.slide_count.is_none()
        && (w.max_lag_ms.is_none() || w.watermark_interval_ms.is_none())
    {
        c.diags.push(
            Diagnostic::new("E0408", "a count window needs `slide`", length.value.span, "count window without a slide")
                .note("the operator's admission webhook fails on a count window without a sliding count")
                .help("add `slide = N` (use the length for a tumbling window)"),
        );
        return None;
    }
    if let Some(l) = late {
        w.late_data_topic = topic_ref(c, &l.value);
        w.late_data_topic?;
    }
    Some(w)
}

fn state(c: &mut Checker<'_>, item: &Item) -> Option<ir::State> {
    let mut f = block_fields(c, item, "`state` is a block: `state { service_url = \"bk://...:4181\" }`", "`state`")?;
    let url = f.take("service_url");
    let provider = f.take("provider");
    f.finish(&mut c.diags);
    let mut r = c.reader();
    let service_url = url.and_then(|i| r.string(&i.value)).unwrap_or_default();
    if service_url.is_empty() {
        c.diags.push(
            Diagnostic::new(
                "E0411",
                "state needs `service_url`: the BookKeeper table service",
                item.key.span,
                "no state store",
            )
            .help("write `state { service_url = \"bk://bookie.pulsar.svc:4181\" }`"),
        );
        return None;
    }
    let provider_class = match provider {
        Some(i) => Some(c.reader().string(&i.value)?),
        None => None,
    };
    Some(ir::State { service_url, provider_class })
}

fn batch(c: &mut Checker<'_>, item: &Item) -> Option<(String, Option<serde_json::Value>)> {
    let mut f = block_fields(c, item, "`batch` is a block: `batch { discovery = \"...\" }`", "`batch`")?;
    let disc = f.take("discovery");
    let cfg = f.take("config");
    f.finish(&mut c.diags);
    let Some(disc) = disc else {
        c.diags.push(Diagnostic::new(
            "E0203",
            "`batch` needs `discovery`: the discovery triggerer class",
            item.key.span,
            "missing `discovery`",
        ));
        return None;
    };
    let class = c.reader().string(&disc.value)?;
    let config = match cfg {
        Some(i) => Some(c.reader().json(&i.value)?),
        None => None,
    };
    Some((class, config))
}

fn log_config(c: &mut Checker<'_>, item: &Item) -> Option<LogConfig> {
    let mut f = block_fields(c, item, "`log` is a block: `log { level = debug }`", "`log`")?;
    let level = f.take("level");
    let format = f.take("format");
    let rotate = f.take("rotate");
    let config = f.take("config_map");
    let kind = f.take("java_config_type");
    f.finish(&mut c.diags);
    let mut r = c.reader();
    let mut l = LogConfig::default();
    if let Some(i) = level {
        l.level = Some(
            r.word(&i.value, &["off", "trace", "debug", "info", "warn", "error", "fatal", "all", "panic"])?.into(),
        );
    }
    if let Some(i) = format {
        l.format = Some(r.word(&i.value, &["json", "text"])?.into());
    }
    if let Some(i) = rotate {
        const POLICIES: [(&str, &str); 6] = [
            ("daily", "TimedPolicyWithDaily"),
            ("weekly", "TimedPolicyWithWeekly"),
            ("monthly", "TimedPolicyWithMonthly"),
            ("size_10mb", "SizedPolicyWith10MB"),
            ("size_50mb", "SizedPolicyWith50MB"),
            ("size_100mb", "SizedPolicyWith100MB"),
        ];
        let names: Vec<&'static str> = POLICIES.iter().map(|p| p.0).collect();
        let w = r.word(&i.value, &names)?;
        l.rotate_policy = POLICIES.iter().find(|p| p.0 == w).map(|p| p.1.to_string());
    }
    if let Some(i) = config {
        let ValueKind::Call { callee, args } = &r.resolve(&i.value).kind else {
            c.diags.push(Diagnostic::new(
                "E0202",
                "expected `config_map(\"name\", \"key\")`",
                i.value.span,
                "expected a ConfigMap reference",
            ));
            return None;
        };
        if callee.joined() != "config_map" || args.len() != 2 {
            c.diags.push(Diagnostic::new(
                "E0202",
                "expected `config_map(\"name\", \"key\")`",
                i.value.span,
                "expected a ConfigMap reference",
            ));
            return None;
        }
        l.config_map = Some(SecretRef { name: r.string(&args[0])?, key: r.string(&args[1])? });
    }
    if let Some(i) = kind {
        l.java_config_type = Some(r.word(&i.value, &["xml", "yaml"])?.into());
    }
    Some(l)
}

/// Admission rules of the operator's webhook that concern one component
/// (function-mesh reference 3.2).
fn operator_rules(
    c: &mut Checker<'_>,
    comp: &ir::Component,
    spans: &BTreeMap<&'static str, Span>,
    decl: &ComponentDecl,
) -> bool {
    let mut ok = true;
    let at = |k: &str| spans.get(k).copied().unwrap_or(decl.name.span);
    let eo = comp.guarantee == Guarantee::EffectivelyOnce;
    if eo && comp.kind != ComponentKind::Source {
        if comp.timeout_ms.is_some_and(|t| t != 0) {
            c.diags.push(
                Diagnostic::new(
                    "E0405",
                    "`timeout` cannot be combined with `guarantee = effectively_once`",
                    at("timeout"),
                    "message timeout",
                )
                .note("the operator rejects a message timeout for effectively-once processing"),
            );
            ok = false;
        }
        if comp.max_retries.is_some_and(|r| r > 0) {
            c.diags.push(
                Diagnostic::new(
                    "E0405",
                    "`max_retries` cannot be combined with `guarantee = effectively_once`",
                    at("max_retries"),
                    "retries",
                )
                .note("redelivering a message would break effectively-once processing"),
            );
            ok = false;
        }
        if comp.ordering == Ordering::RetainKey && comp.kind == ComponentKind::Function {
            c.diags.push(Diagnostic::new(
                "E0405",
                "`retain_key_ordering` cannot be combined with `guarantee = effectively_once`",
                at("retain_key_ordering"),
                "key ordering",
            ));
            ok = false;
        }
    }
    if comp.dead_letter.is_some() && comp.max_retries.is_none_or(|r| r <= 0) {
        c.diags.push(
            Diagnostic::new(
                "E0406",
                "a dead-letter topic needs `max_retries` above zero",
                at("dead_letter"),
                "dead letter without retries",
            )
            .help("add `max_retries = 3` (messages go to the dead-letter topic after that many redeliveries)"),
        );
        ok = false;
    }
    if comp.max_replicas.is_some() && comp.pod.as_ref().is_some_and(|p| p.get("vpa").is_some()) {
        c.diags.push(
            Diagnostic::new(
                "E0414",
                "a vertical pod autoscaler cannot be combined with a replica range",
                at("replicas"),
                "replica range: a horizontal autoscaler",
            )
            .note("the operator rejects `pod { vpa }` together with `maxReplicas`: both would resize the same pods")
            .help("use a fixed `replicas = N` with `vpa`, or drop `vpa`"),
        );
        ok = false;
    }
    if let (Some(_), Runtime::Go { .. }) = (&comp.state, &comp.runtime) {
        c.diags.push(
            Diagnostic::new("E0411", "Go functions cannot use `state`", at("state"), "state store")
                .note("the operator supports state for Java and Python functions only"),
        );
        ok = false;
    }
    ok
}
