//! The cluster commands of the command line: `apply`, `diff` and
//! `controller`. They print, ask and choose exit codes; the work is in
//! `mesh::cluster`.

use mesh::cluster::controller::{self, Desired};
use mesh::cluster::plan::{plan, Op, Topology};
use mesh::cluster::{self as cluster, apply, diff, wait, Access, ClusterError, Target};
use mesh::emit::Object;
use mesh::ir::Program;
use serde_json::Value;
use std::io::{BufRead, IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, SystemTime};

/// A compiled program ready for a cluster.
pub struct Compiled {
    pub program: Program,
    pub objects: Vec<Object>,
}

impl Compiled {
    fn values(&self) -> Vec<Value> {
        self.objects.iter().map(|o| o.value.clone()).collect()
    }

    fn desired(&self) -> Desired {
        Desired {
            mesh_name: self.program.mesh_name.clone(),
            objects: self.values(),
            topology: Topology::from_program(&self.program),
        }
    }
}

pub struct ApplyRequest {
    pub access: Access,
    pub dry_run: bool,
    pub yes: bool,
    pub prune: bool,
    pub wait: Option<Duration>,
    pub force_conflicts: bool,
    pub create_namespace: bool,
    pub watch: Option<(Duration, Option<std::net::SocketAddr>)>,
}

const CLUSTER_ERROR: u8 = 3;

fn runtime() -> Result<tokio::runtime::Runtime, ClusterError> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| ClusterError(format!("cannot start the async runtime: {e}")))
}

/// Runs a cluster operation; a [`ClusterError`] is printed and exits 3.
fn block_on<F: std::future::Future<Output = Result<ExitCode, ClusterError>>>(f: impl FnOnce() -> F) -> ExitCode {
    let result = runtime().and_then(|rt| rt.block_on(f()));
    match result {
        Ok(code) => code,
        Err(e) => {
            let mut err = std::io::stderr().lock();
            for (i, line) in e.0.lines().enumerate() {
                let _ = if i == 0 { writeln!(err, "error: {line}") } else { writeln!(err, "  {line}") };
            }
            ExitCode::from(CLUSTER_ERROR)
        }
    }
}

fn color_stdout() -> bool {
    std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty()) && std::io::stdout().is_terminal()
}

fn out(line: &str) {
    let mut o = std::io::stdout().lock();
    let _ = writeln!(o, "{line}");
    let _ = o.flush();
}

async fn connect(access: &Access, program: &Program) -> Result<Target, ClusterError> {
    let connection = cluster::connect(access).await?;
    let namespace = cluster::choose_namespace(
        access.namespace.as_deref(),
        program.kube_namespace.as_deref(),
        &connection.namespace,
    );
    Ok(connection.target(namespace))
}

/// Prints the diffs of a plan and its summary; true when anything would change.
async fn print_diff(target: &Target, p: &mesh::cluster::plan::Plan, force: bool) -> Result<bool, ClusterError> {
    let diffs = diff::diff(target, p, force, 8).await?;
    let color = color_stdout();
    let mut changed = false;
    for d in diffs.iter().filter(|d| d.op != Op::Unchanged) {
        changed = true;
        out(&format!(
            "{} {}",
            d.name,
            match d.op {
                Op::Create => "would be created",
                Op::Update => "would be updated",
                _ => "would be deleted",
            }
        ));
        let text = if color { diff::colorize(&d.text) } else { d.text.clone() };
        out(text.trim_end());
    }
    out(&diff::summary(p, &diffs));
    Ok(changed)
}

/// `-n` naming another namespace than the program's own is a usage error:
/// the objects would land where the program does not say.
fn namespace_conflict(access: &Access, program: &Program) -> Option<ExitCode> {
    let (Some(flag), Some(own)) = (access.namespace.as_deref(), program.kube_namespace.as_deref()) else {
        return None;
    };
    (flag != own).then(|| {
        eprintln!(
            "error: -n {flag} contradicts the program's kubernetes_namespace `{own}`; drop -n or change the program"
        );
        ExitCode::from(2)
    })
}

pub fn diff(compiled: Compiled, access: &Access, exit_code: bool, prune: bool) -> ExitCode {
    if let Some(code) = namespace_conflict(access, &compiled.program) {
        return code;
    }
    block_on(|| async move {
        let target = connect(access, &compiled.program).await?;
        let objects = compiled.values();
        cluster::preflight(&target, &cluster::kinds_of(&objects), false).await?;
        let topology = Topology::from_program(&compiled.program);
        let p = plan(&target, &compiled.program.mesh_name, &objects, &topology, prune).await?;
        let changed = print_diff(&target, &p, false).await?;
        Ok(if changed && exit_code { ExitCode::from(1) } else { ExitCode::SUCCESS })
    })
}

/// Asks on the terminal; false when stdin is not one.
fn confirm(question: &str) -> bool {
    if !std::io::stdin().is_terminal() {
        return false;
    }
    eprint!("{question} [y/N] ");
    let _ = std::io::stderr().flush();
    let mut answer = String::new();
    let _ = std::io::stdin().lock().read_line(&mut answer);
    matches!(answer.trim(), "y" | "Y" | "yes" | "Yes")
}

pub fn apply(
    compiled: Compiled,
    request: ApplyRequest,
    files: Vec<PathBuf>,
    reload: impl FnMut() -> Result<Compiled, String> + Send + 'static,
) -> ExitCode {
    if let Some(code) = namespace_conflict(&request.access, &compiled.program) {
        return code;
    }
    block_on(|| async move {
        let target = connect(&request.access, &compiled.program).await?;
        let objects = compiled.values();
        cluster::preflight(&target, &cluster::kinds_of(&objects), request.create_namespace && !request.dry_run).await?;
        let topology = Topology::from_program(&compiled.program);
        let mesh_name = compiled.program.mesh_name.clone();
        let p = plan(&target, &mesh_name, &objects, &topology, request.prune).await?;
        if request.dry_run {
            print_diff(&target, &p, request.force_conflicts).await?;
            return Ok(ExitCode::SUCCESS);
        }
        let deletions = p.deletions().count();
        let mut confirmed = request.yes;
        if deletions > 0 && !request.yes {
            eprint!("{}", p.table());
            let plural = |one: &'static str, many: &'static str| if deletions == 1 { one } else { many };
            let question =
                format!("{deletions} object{} no longer declared will be deleted. Continue?", plural("", "s"));
            confirmed = confirm(&question);
            if !confirmed {
                eprintln!(
                    "error: nothing was changed: {deletions} object{} would be deleted; pass --yes to confirm, or \
                     --no-prune to keep {}",
                    plural("", "s"),
                    plural("it", "them")
                );
                return Ok(ExitCode::from(1));
            }
        }
        let report = |line: &str| out(line);
        apply::execute(
            &target,
            &p,
            apply::ApplyOptions { force_conflicts: request.force_conflicts, ..Default::default() },
            &report,
        )
        .await?;
        out(&p.summary(true));
        if let Some(timeout) = request.wait {
            wait_ready(&target, &objects, timeout).await?;
        }
        if let Some((interval, listen)) = request.watch {
            let source = watch_source(files, reload);
            let opts = controller::Options {
                interval,
                listen,
                // Later deletions are pruned only when the user agreed to pruning up front.
                prune: request.prune && confirmed,
                apply: apply::ApplyOptions { force_conflicts: request.force_conflicts, ..Default::default() },
                max_backoff: Duration::from_secs(300),
            };
            controller::run(target, source, opts).await?;
        }
        Ok(ExitCode::SUCCESS)
    })
}

/// Waits with one progress line per component on a terminal, and one log
/// line per change elsewhere.
async fn wait_ready(target: &Target, objects: &[Value], timeout: Duration) -> Result<(), ClusterError> {
    let components = wait::components(objects);
    if components.is_empty() {
        return Ok(());
    }
    let poll = Duration::from_millis(if timeout < Duration::from_secs(10) { 200 } else { 1000 });
    if std::io::stderr().is_terminal() {
        let bars = indicatif::MultiProgress::new();
        let style = indicatif::ProgressStyle::with_template("{spinner} {prefix:<40} {msg}")
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_spinner());
        let by_label: std::collections::BTreeMap<String, indicatif::ProgressBar> = components
            .iter()
            .map(|c| {
                let bar = bars.add(indicatif::ProgressBar::new_spinner());
                bar.set_style(style.clone());
                bar.set_prefix(c.label.clone());
                bar.set_message("pending");
                bar.enable_steady_tick(Duration::from_millis(120));
                (c.label.clone(), bar)
            })
            .collect();
        let show = |label: &str, state: &str| {
            if let Some(bar) = by_label.get(label) {
                if state == "ready" {
                    bar.finish_with_message("ready");
                } else {
                    bar.set_message(state.to_string());
                }
            }
        };
        let result = wait::wait(target, &components, timeout, poll, &show).await;
        for bar in by_label.values() {
            bar.finish();
        }
        result
    } else {
        let show = |label: &str, state: &str| eprintln!("{label}: {state}");
        wait::wait(target, &components, timeout, poll, &show).await
    }
}

/// Under --watch: the program again whenever one of its files changes.
fn watch_source(
    files: Vec<PathBuf>,
    mut reload: impl FnMut() -> Result<Compiled, String> + Send + 'static,
) -> controller::Source {
    let stamp = move || -> Vec<Option<SystemTime>> {
        files.iter().map(|f| std::fs::metadata(f).and_then(|m| m.modified()).ok()).collect()
    };
    let mut last: Option<Vec<Option<SystemTime>>> = None;
    Box::new(move || {
        let now = stamp();
        if last.as_ref() == Some(&now) {
            return Ok(None);
        }
        last = Some(now);
        reload().map(|c| Some(c.desired()))
    })
}

/// What a ConfigMap may hold in all (the API server refuses more).
const CONFIG_MAP_LIMIT: usize = 1024 * 1024;

/// The controller's manifests, or why they cannot be made.
pub fn manifests(compiled: Option<&Compiled>, namespace: Option<&str>, image: &str) -> Result<String, String> {
    let program_namespace = compiled.and_then(|c| c.program.kube_namespace.as_deref());
    let namespace = namespace.or(program_namespace).unwrap_or("default");
    let objects = match compiled {
        Some(c) => {
            let bundle_yaml = mesh::render::render(&c.objects, mesh::render::Format::Yaml);
            if bundle_yaml.len() >= CONFIG_MAP_LIMIT {
                return Err(format!(
                    "the bundle is {} KiB, more than the 1 MiB a ConfigMap can hold; split the pipeline, or run \
                     `mesh controller manifests` without FILE and give the controller a bundle some other way",
                    bundle_yaml.len() / 1024
                ));
            }
            let topology = Topology::from_program(&c.program);
            let values = c.values();
            let spec = controller::BundleSpec {
                mesh_name: &c.program.mesh_name,
                bundle_yaml: &bundle_yaml,
                topology: &topology,
                objects: &values,
            };
            controller::manifests(namespace, image, Some(&spec))
        }
        None => {
            eprintln!(
                "note: no pipeline given; the controller reads its bundle from the ConfigMap `{}` (key bundle.yaml), \
                 which you create from `mesh compile` output",
                controller::DEFAULT_BUNDLE_CONFIG_MAP
            );
            controller::manifests(namespace, image, None)
        }
    };
    let objects: Vec<Object> = objects.into_iter().map(Object::new).collect();
    Ok(mesh::render::render(&objects, mesh::render::Format::Yaml))
}

pub fn controller(
    bundle: PathBuf,
    topology: Option<PathBuf>,
    mesh_name: Option<String>,
    access: &Access,
    opts: controller::Options,
) -> ExitCode {
    block_on(|| async move {
        let connection = cluster::connect(access).await?;
        let namespace = access.namespace.clone().unwrap_or_else(|| connection.namespace.clone());
        let target = connection.target(namespace);
        let source = bundle_source(bundle, topology, mesh_name);
        controller::run(target, source, opts).await?;
        Ok(ExitCode::SUCCESS)
    })
}

/// The bundle file (and topology), re-read when the mounted ConfigMap changes.
fn bundle_source(bundle: PathBuf, topology: Option<PathBuf>, mesh_name: Option<String>) -> controller::Source {
    let mut last: Option<(String, String)> = None;
    let mut last_error: Option<String> = None;
    let read =
        |path: &PathBuf| std::fs::read_to_string(path).map_err(|e| format!("cannot read {}: {e}", path.display()));
    Box::new(move || {
        let files = read(&bundle).and_then(|text| match &topology {
            Some(t) => read(t).map(|order| (text, order)),
            None => Ok((text, String::new())),
        });
        let (text, order) = match files {
            Ok(f) => {
                last_error = None;
                f
            }
            // Reported once, not at every check, until it changes.
            Err(e) if last_error.as_ref() == Some(&e) => return Ok(None),
            Err(e) => {
                last_error = Some(e.clone());
                return Err(e);
            }
        };
        if last.as_ref() == Some(&(text.clone(), order.clone())) {
            return Ok(None);
        }
        // A broken bundle is reported once, not at every check, until it changes again.
        last = Some((text.clone(), order.clone()));
        let objects = mesh::render::parse_bundle(&text).map_err(|e| format!("{}: {e}", bundle.display()))?;
        let topology: Topology = if order.is_empty() {
            Topology::default()
        } else {
            serde_json::from_str(&order).map_err(|e| {
                let path = topology.as_ref().map(|t| t.display().to_string()).unwrap_or_default();
                format!("{path} is not an apply order written by `mesh controller manifests`: {e}")
            })?
        };
        let mesh_name = match &mesh_name {
            Some(n) => n.clone(),
            None => controller::mesh_name_of(&objects).map_err(|e| format!("{}: {e}", bundle.display()))?,
        };
        Ok(Some(Desired { mesh_name, objects, topology }))
    })
}
