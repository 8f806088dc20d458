//! The `defaults` block (with the selected profile laid over it) and `pulsar`
//! blocks. Where the program is silent, the operator's own defaults apply and
//! are written out, so the bundle shows what will run.

use super::values::Fields;
use super::{Checker, Sym};
use crate::diag::Diagnostic;
use crate::ir::{self, Auth, Tls};
use crate::syntax::ast::{Block, Item, PulsarDecl, ValueKind};
use std::collections::BTreeMap;

/// Operator defaults (function-mesh reference, 2.2).
pub const DEFAULT_TENANT: &str = "public";
pub const DEFAULT_NAMESPACE: &str = "default";
pub const DEFAULT_CLUSTER_NAME: &str = "kubernetes";

#[derive(Clone, Debug)]
pub struct Defaults {
    /// The `pulsar` block components use unless they name another.
    pub cluster: Option<usize>,
    pub tenant: String,
    pub namespace: String,
    pub cluster_name: String,
    pub kube_namespace: Option<String>,
    pub mesh: Option<String>,
    /// Settings every component inherits unless it sets them itself:
    /// `resources`, `replicas`, `guarantee`, `image`, `pod`, `log`, `labels`, `annotations`.
    pub inherited: BTreeMap<&'static str, Item>,
}

/// Keys of `defaults` that components inherit as if they had written them.
pub const INHERITED: &[&str] = &[
    "resources",
    "replicas",
    "guarantee",
    "java_image",
    "python_image",
    "go_image",
    "connector_image",
    "pod",
    "log",
    "labels",
    "annotations",
];

pub fn read(c: &mut Checker<'_>) -> Option<Defaults> {
    let mut merged = merged_block(c)?;
    if let Some(b) = merged.as_mut() {
        c.substitute_lets(b);
    }
    let mut f = Fields::new(merged.as_ref(), "`defaults`", &mut c.diags);
    let cluster_item = f.take("cluster").cloned();
    let tenant = f.take("tenant").cloned();
    let namespace = f.take("namespace").cloned();
    let cluster_name = f.take("cluster_name").cloned();
    let kube_ns = f.take("kubernetes_namespace").cloned();
    let mesh = f.take("mesh").cloned();
    let mut inherited = BTreeMap::new();
    for key in INHERITED {
        if let Some(item) = f.take(key) {
            inherited.insert(*key, item.clone());
        }
    }
    f.finish(&mut c.diags);

    let mut r = c.reader();
    let tenant = tenant.and_then(|i| r.string(&i.value)).unwrap_or_else(|| DEFAULT_TENANT.into());
    let namespace = namespace.and_then(|i| r.string(&i.value)).unwrap_or_else(|| DEFAULT_NAMESPACE.into());
    let cluster_name = cluster_name.and_then(|i| r.string(&i.value)).unwrap_or_else(|| DEFAULT_CLUSTER_NAME.into());
    let kube_namespace = kube_ns.as_ref().and_then(|i| r.string(&i.value));
    let mesh_name = mesh.as_ref().and_then(|i| r.string(&i.value));
    if let (Some(ns), Some(item)) = (&kube_namespace, &kube_ns) {
        if !crate::names::is_dns_label(ns) {
            c.diags.push(Diagnostic::new(
                "E0402",
                format!("`{ns}` is not a valid Kubernetes namespace"),
                item.value.span,
                "lower-case letters, digits and `-`, at most 63",
            ));
        }
    }
    if let (Some(m), Some(item)) = (&mesh_name, &mesh) {
        if !crate::names::is_dns_label(m) {
            c.diags.push(Diagnostic::new(
                "E0402",
                format!("`{m}` is not a valid FunctionMesh name"),
                item.value.span,
                "lower-case letters, digits and `-`, at most 63",
            ));
        }
    }
    for (what, value) in [("tenant", &tenant), ("namespace", &namespace)] {
        if !crate::names::is_pulsar_segment(value) {
            let Some(span) = merged.as_ref().and_then(|b| b.get(what)).map(|i| i.value.span) else { continue };
            c.diags.push(Diagnostic::new(
                "E0301",
                format!("`{value}` is not a valid Pulsar {what} name"),
                span,
                "letters, digits and `-_=:.` only",
            ));
        }
    }
    let cluster = match &cluster_item {
        Some(item) => match &item.value.kind {
            ValueKind::Path(p) if p.is_single() => {
                match c.lookup(&p.segments[0], "a pulsar cluster", |s| matches!(s, Sym::Pulsar(_))) {
                    Some(Sym::Pulsar(i)) => Some(i),
                    _ => None,
                }
            }
            _ => {
                c.diags.push(
                    Diagnostic::new(
                        "E0202",
                        "expected the name of a `pulsar` block",
                        item.value.span,
                        "expected a name",
                    )
                    .help("write `cluster = prod` for `pulsar prod { ... }`"),
                );
                None
            }
        },
        None if c.pulsars.len() == 1 => {
            c.used.insert(Sym::Pulsar(0));
            Some(0)
        }
        None => None,
    };
    Some(Defaults { cluster, tenant, namespace, cluster_name, kube_namespace, mesh: mesh_name, inherited })
}

/// `defaults` with the selected profile's settings laid over it, key by key.
fn merged_block(c: &mut Checker<'_>) -> Option<Option<Block>> {
    let Some(name) = c.opts.profile.clone() else { return Some(c.defaults.cloned()) };
    let Some(profile) = c.profiles.get(&name).copied() else {
        let names: Vec<&str> = c.profiles.keys().map(String::as_str).collect();
        let root = c.loaded.roots.first().copied().unwrap_or(crate::source::FileId(0));
        let span = c.defaults.map_or(crate::source::Span::new(root, 0, 0), |b| b.span);
        let mut d = Diagnostic::new(
            "E0108",
            format!("there is no profile `{name}`"),
            span,
            "`--profile` names a `profile` block",
        );
        d = match super::values::suggest(&name, names.iter().copied()) {
            Some(s) => d.help(format!("did you mean `{s}`?")),
            None if names.is_empty() => d.note("the program declares no profiles"),
            None => d.note(format!("profiles: {}", names.join(", "))),
        };
        c.diags.push(d);
        return None;
    };
    let mut block = c.defaults.cloned().unwrap_or(Block { items: Vec::new(), span: profile.body.span });
    for item in &profile.body.items {
        block.items.retain(|i| i.key.name != item.key.name);
        block.items.push(item.clone());
    }
    Some(Some(block))
}

pub fn cluster(c: &mut Checker<'_>, p: &PulsarDecl) -> Option<ir::Cluster> {
    let mut body = p.body.clone();
    c.substitute_lets(&mut body);
    let mut f = Fields::new(Some(&body), format!("pulsar `{}`", p.name.name), &mut c.diags);
    let web = f.take("web_service_url");
    let broker = f.take("broker_service_url");
    let config_map = f.take("config_map");
    let auth = f.take("auth");
    let cleanup_auth = f.take("cleanup_auth");
    let tls = f.take("tls");
    f.finish(&mut c.diags);
    let mut missing = Vec::new();
    if web.is_none() {
        missing.push("web_service_url");
    }
    if broker.is_none() {
        missing.push("broker_service_url");
    }
    if !missing.is_empty() {
        c.diags.push(
            Diagnostic::new(
                "E0203",
                format!("pulsar `{}` is missing {}", p.name.name, super::values::quoted_list(&missing)),
                p.name.span,
                "incomplete cluster",
            )
            .help("components read both URLs from the cluster's ConfigMap: `web_service_url = \"http://...:8080\"`, `broker_service_url = \"pulsar://...:6650\"`"),
        );
    }
    let mut r = c.reader();
    let web_service_url = web.and_then(|i| r.string(&i.value));
    let broker_service_url = broker.and_then(|i| r.string(&i.value));
    let config_map_name = match config_map {
        Some(i) => r.string(&i.value)?,
        None => crate::names::kube_name(&p.name.name),
    };
    if !crate::names::is_dns_subdomain(&config_map_name) {
        c.diags.push(Diagnostic::new(
            "E0402",
            format!("`{config_map_name}` is not a valid ConfigMap name"),
            config_map.map_or(p.name.span, |i| i.value.span),
            "lower-case letters, digits, `-` and `.` only",
        ));
    }
    for (item, schemes) in [(web, &["http://", "https://"][..]), (broker, &["pulsar://", "pulsar+ssl://"][..])] {
        if let (Some(item), Some(ValueKind::Str(s))) = (item, item.map(|i| &i.value.kind)) {
            if !schemes.iter().any(|sch| s.starts_with(sch)) {
                c.diags.push(Diagnostic::new(
                    "E0204",
                    format!("`{s}` does not start with {}", super::values::quoted_list(schemes)),
                    item.value.span,
                    "unexpected URL scheme",
                ));
            }
        }
    }
    let auth = auth.and_then(|i| read_auth(c, i, true));
    let cleanup_auth = cleanup_auth.and_then(|i| read_auth(c, i, false));
    let tls = tls.and_then(|i| read_tls(c, i));
    Some(ir::Cluster {
        name: p.name.name.clone(),
        config_map: config_map_name,
        web_service_url: web_service_url?,
        broker_service_url: broker_service_url?,
        auth,
        cleanup_auth,
        tls,
        span: p.name.span,
    })
}

/// `env_secret` is only possible for the main credentials: the operator has
/// no Secret-imported form for cleanup credentials.
fn read_auth(c: &mut Checker<'_>, item: &Item, env_secret_allowed: bool) -> Option<Auth> {
    let v = &item.value;
    match &v.kind {
        ValueKind::Ctor { path, body } if path.joined() == "oauth2" => {
            let mut f = Fields::new(Some(body), "`oauth2`", &mut c.diags);
            let issuer = f.take("issuer_url");
            let audience = f.take("audience");
            let key = f.take("key");
            let scope = f.take("scope");
            f.finish(&mut c.diags);
            let mut r = c.reader();
            let issuer_url = issuer.and_then(|i| r.string(&i.value));
            let audience_s = audience.and_then(|i| r.string(&i.value));
            let key_ref = key.and_then(|i| r.secret(&i.value));
            let scope = scope.and_then(|i| r.string(&i.value));
            if issuer.is_none() || audience.is_none() || key.is_none() {
                let missing: Vec<&str> =
                    [("issuer_url", issuer.is_none()), ("audience", audience.is_none()), ("key", key.is_none())]
                        .iter()
                        .filter(|(_, m)| *m)
                        .map(|(k, _)| *k)
                        .collect();
                c.diags.push(
                    Diagnostic::new("E0203", format!("`oauth2` is missing {}", super::values::quoted_list(&missing)), path.span, "incomplete")
                        .help("write `oauth2 { issuer_url = \"...\", audience = \"...\", key = secret(\"name\", \"auth.json\") }`"),
                );
                return None;
            }
            Some(Auth::OAuth2 { issuer_url: issuer_url?, audience: audience_s?, scope, key: key_ref? })
        }
        ValueKind::Ctor { path, body } if path.joined() == "plugin" => {
            let mut f = Fields::new(Some(body), "`plugin`", &mut c.diags);
            let class = f.take("class");
            let params = f.take("params");
            f.finish(&mut c.diags);
            let (Some(class), Some(params)) = (class, params) else {
                c.diags.push(
                    Diagnostic::new("E0203", "`plugin` needs `class` and `params`", path.span, "incomplete")
                        .help("write `plugin { class = \"org.apache.pulsar.client.impl.auth.AuthenticationToken\", params = \"file:///etc/token\" }`"),
                );
                return None;
            };
            let mut r = c.reader();
            Some(Auth::Generic { plugin: r.string(&class.value)?, params: r.string(&params.value)? })
        }
        ValueKind::Call { callee, args }
            if callee.joined() == "env_secret" && args.len() == 1 && env_secret_allowed =>
        {
            Some(Auth::Secret(c.reader().string(&args[0])?))
        }
        _ => {
            let forms = if env_secret_allowed {
                "write `oauth2 { ... }`, `plugin { class = ..., params = ... }`, or `env_secret(\"secret-name\")`"
            } else {
                "cleanup credentials are `oauth2 { ... }` or `plugin { class = ..., params = ... }`"
            };
            c.diags.push(
                Diagnostic::new(
                    "E0202",
                    format!("expected an authentication method, found {}", v.kind.describe()),
                    v.span,
                    "not an authentication method",
                )
                .note(forms),
            );
            None
        }
    }
}

fn read_tls(c: &mut Checker<'_>, item: &Item) -> Option<Tls> {
    let v = &item.value;
    match &v.kind {
        ValueKind::Map(body) => {
            let mut f = Fields::new(Some(body), "`tls`", &mut c.diags);
            let enabled = f.take("enabled");
            let insecure = f.take("allow_insecure");
            let hostname = f.take("hostname_verification");
            let ca = f.take("ca");
            f.finish(&mut c.diags);
            let mut r = c.reader();
            Some(Tls::Config {
                enabled: enabled.and_then(|i| r.bool(&i.value)).unwrap_or(true),
                allow_insecure: insecure.and_then(|i| r.bool(&i.value)).unwrap_or(false),
                hostname_verification: hostname.and_then(|i| r.bool(&i.value)).unwrap_or(false),
                ca: match ca {
                    Some(i) => Some(r.secret(&i.value)?),
                    None => None,
                },
            })
        }
        ValueKind::Call { callee, args } if callee.joined() == "env_secret" && args.len() == 1 => {
            Some(Tls::Secret(c.reader().string(&args[0])?))
        }
        _ => {
            c.diags.push(
                Diagnostic::new("E0202", format!("expected TLS settings, found {}", v.kind.describe()), v.span, "not TLS settings")
                    .note("write `tls { enabled = true, ca = secret(\"name\", \"ca.crt\") }` or `env_secret(\"secret-name\")`"),
            );
            None
        }
    }
}
