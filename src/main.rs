//! The `mesh` command line: parses arguments, calls the library, prints, and
//! chooses the exit code (0 success, 1 the program has errors, 2 usage or I/O).

use clap::{Parser, Subcommand};
use mesh::diag::{self, Diagnostic};
use mesh::load::{self, LoadError, Loaded};
use mesh::policy::Policy;
use mesh::render::{self, Format};
use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;

mod cluster_cmd;

#[derive(Parser)]
#[command(name = "mesh", version, about = "Compile typed Pulsar pipelines to Function Mesh bundles", long_about = None)]
#[command(
    after_help = "Examples:\n  mesh compile shop.mesh            print the bundle as YAML\n  mesh check pipelines/             check every .mesh file, as CI does\n  mesh diff shop.mesh               what applying would change in the cluster\n  mesh apply shop.mesh --wait       apply to the cluster and wait until ready\n  mesh explain E0201                explain a diagnostic code\n\nExit codes: 0 success, 1 the program has errors, 2 usage or I/O error, 3 cluster error."
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Compile pipelines to a Function Mesh bundle
    #[command(
        after_help = "Examples:\n  mesh compile shop.mesh                  YAML on stdout\n  mesh compile shop.mesh --mesh           one FunctionMesh object\n  mesh compile shop.mesh -o deploy/       one file per object + kustomization.yaml\n  mesh compile shop.mesh --format json    a v1 List as JSON\n  mesh compile shop.mesh --profile prod   with the `prod` profile's defaults"
    )]
    Compile {
        /// The .mesh files of one program
        #[arg(required = true)]
        files: Vec<PathBuf>,
        #[command(flatten)]
        bundle: BundleArgs,
        /// Write one file per object, plus kustomization.yaml, into DIR
        #[arg(short = 'o', long = "output", value_name = "DIR")]
        output: Option<PathBuf>,
        /// Output format
        #[arg(long, value_enum, default_value = "yaml")]
        format: Format,
    },
    /// Check pipelines without writing anything
    #[command(
        after_help = "Examples:\n  mesh check shop.mesh\n  mesh check pipelines/ --format json\n  mesh check shop.mesh --deny-warnings\n  mesh check shop.mesh --schema-rules strict\n  mesh check shop.mesh --baseline deployed/bundle.yaml"
    )]
    Check {
        /// Files or directories (searched for *.mesh)
        #[arg(required = true)]
        paths: Vec<PathBuf>,
        /// How diagnostics are printed
        #[arg(long, value_enum, default_value = "human")]
        format: CheckFormat,
        /// Treat warnings as errors
        #[arg(long)]
        deny_warnings: bool,
        /// Apply the settings of a `profile` block over `defaults`
        #[arg(long)]
        profile: Option<String>,
        /// How Avro and JSON schemas are compared: as Pulsar's broker does, or
        /// strictly (Java's SchemaCompatibility: what is safe to decode)
        #[arg(long, value_enum, default_value = "broker")]
        schema_rules: SchemaRules,
        /// The deployed version to compare topic schemas with: a .mesh file or
        /// a bundle that mesh compiled
        #[arg(long, value_name = "OLD")]
        baseline: Option<PathBuf>,
    },
    /// Turn Function Mesh YAML into a .mesh program
    #[command(
        after_help = "Examples:\n  mesh import deploy/ -o pipeline.mesh\n  mesh import function.yaml configmap.yaml"
    )]
    Import {
        /// YAML files or directories (searched for *.yaml, *.yml)
        #[arg(required = true)]
        paths: Vec<PathBuf>,
        /// Write the program to this file instead of stdout
        #[arg(short = 'o', long = "output", value_name = "OUT")]
        output: Option<PathBuf>,
    },
    /// Format .mesh files in the canonical layout
    #[command(
        after_help = "Examples:\n  mesh fmt shop.mesh              rewrite the file in place\n  mesh fmt pipelines/ --check     print a diff and exit 1 when a file is not formatted"
    )]
    Fmt {
        /// Files or directories (searched for *.mesh)
        #[arg(required = true)]
        paths: Vec<PathBuf>,
        /// Write nothing; print a diff and exit 1 when a file is not formatted
        #[arg(long)]
        check: bool,
    },
    /// Draw the pipeline as a graph
    #[command(
        after_help = "Examples:\n  mesh graph shop.mesh | dot -Tpng > shop.png\n  mesh graph shop.mesh --format mermaid\n  mesh graph shop.mesh --format svg > shop.svg"
    )]
    Graph {
        /// The .mesh files of one program
        #[arg(required = true)]
        files: Vec<PathBuf>,
        /// Output format
        #[arg(long, value_enum, default_value = "dot")]
        format: mesh::graph::GraphFormat,
    },
    /// Print a shell completion script
    #[command(
        after_help = "Examples:\n  mesh completions bash > /etc/bash_completion.d/mesh\n  mesh completions zsh > \"${fpath[1]}/_mesh\"\n  mesh completions fish > ~/.config/fish/completions/mesh.fish"
    )]
    Completions {
        /// The shell
        shell: clap_complete::Shell,
    },
    /// Apply a pipeline to a cluster with server-side apply, pruning what it no longer declares
    #[command(
        after_help = "Examples:\n  mesh apply shop.mesh                      apply, asking before anything is deleted\n  mesh apply shop.mesh --yes --wait         confirm deletions (CI) and wait until ready\n  mesh apply shop.mesh --dry-run            print the plan and diffs, change nothing\n  mesh apply shop.mesh --watch              keep the cluster matching until Ctrl-C\n  mesh apply shop.mesh --target workloads   for clusters without the Function Mesh operator\n\nExit codes: 0 applied, 1 the program has errors or deletions were not confirmed, 2 usage or I/O error,\n3 cluster error (unreachable, refused, conflict, timeout)."
    )]
    Apply {
        /// The .mesh files of one program
        #[arg(required = true)]
        files: Vec<PathBuf>,
        #[command(flatten)]
        bundle: BundleArgs,
        #[command(flatten)]
        cluster: ClusterArgs,
        /// Print what would change (server-side dry run) and change nothing
        #[arg(long)]
        dry_run: bool,
        /// Delete objects the pipeline no longer declares without asking
        #[arg(short = 'y', long)]
        yes: bool,
        /// Never delete anything, even objects the pipeline no longer declares
        #[arg(long)]
        no_prune: bool,
        /// Wait until every component is ready
        #[arg(long)]
        wait: bool,
        /// How long --wait waits (e.g. 90s, 5m, 1h)
        #[arg(long, default_value = "5m", value_parser = parse_duration)]
        timeout: std::time::Duration,
        /// Take over fields that another field manager owns instead of failing
        #[arg(long)]
        force_conflicts: bool,
        /// Create the namespace when it does not exist
        #[arg(long)]
        create_namespace: bool,
        /// After applying, keep the cluster matching the pipeline until interrupted
        #[arg(long)]
        watch: bool,
        /// How often --watch compares the cluster with the pipeline
        #[arg(long, default_value = "5s", value_parser = parse_duration)]
        interval: std::time::Duration,
        /// With --watch, serve /healthz and /metrics on this address (e.g. 127.0.0.1:8080)
        #[arg(long, value_name = "ADDR")]
        listen: Option<std::net::SocketAddr>,
    },
    /// Show what `mesh apply` would change, as a diff per object
    #[command(
        after_help = "Examples:\n  mesh diff shop.mesh\n  mesh diff shop.mesh --exit-code    exit 1 when anything would change (CI drift check)\n\nExit codes: 0 no changes (or changes without --exit-code), 1 changes with --exit-code or program errors,\n2 usage or I/O error, 3 cluster error."
    )]
    Diff {
        /// The .mesh files of one program
        #[arg(required = true)]
        files: Vec<PathBuf>,
        #[command(flatten)]
        bundle: BundleArgs,
        #[command(flatten)]
        cluster: ClusterArgs,
        /// Exit 1 when anything would change
        #[arg(long)]
        exit_code: bool,
        /// Leave out deletions of objects the pipeline no longer declares
        #[arg(long)]
        no_prune: bool,
    },
    /// Run the sync controller in a cluster (`mesh controller --bundle FILE`, the same as
    /// `mesh controller run`), or print the manifests that do
    #[command(
        args_conflicts_with_subcommands = true,
        subcommand_negates_reqs = true,
        after_help = "Examples:\n  mesh controller manifests shop.mesh --image registry.example.com/mesh:0.1.0 | kubectl apply -f -\n  mesh controller --bundle /etc/mesh/bundle.yaml\n  mesh controller run --bundle /etc/mesh/bundle.yaml --mesh-name shop"
    )]
    Controller {
        #[command(subcommand)]
        command: Option<ControllerCommand>,
        #[command(flatten)]
        run: RunArgs,
    },
    /// Explain a diagnostic code
    #[command(after_help = "Example:\n  mesh explain E0201")]
    Explain {
        /// A code such as E0201 or W0101
        code: String,
    },
}

/// What bundle a command compiles.
#[derive(clap::Args, Clone, Debug)]
struct BundleArgs {
    /// `crd`: Function Mesh resources; `workloads`: what the operator would
    /// create, for clusters without it
    #[arg(long, value_enum, default_value = "crd")]
    target: mesh::compile::Target,
    /// Emit one FunctionMesh holding every component
    #[arg(long)]
    mesh: bool,
    /// Apply the settings of a `profile` block over `defaults`
    #[arg(long)]
    profile: Option<String>,
}

/// How a cluster command reaches the cluster.
#[derive(clap::Args, Clone, Debug)]
struct ClusterArgs {
    /// The kubeconfig context to use (default: the current context)
    #[arg(long)]
    context: Option<String>,
    /// The namespace of every object (default: the program's, else the context's)
    #[arg(short = 'n', long)]
    namespace: Option<String>,
    /// Give up on a request to the API server after this long
    #[arg(long, default_value = "30s", value_parser = parse_duration)]
    request_timeout: std::time::Duration,
}

impl BundleArgs {
    fn options(&self) -> mesh::compile::Options {
        mesh::compile::Options {
            profile: self.profile.clone(),
            mesh: self.mesh,
            target: self.target,
            ..Default::default()
        }
    }
}

impl ClusterArgs {
    fn access(&self) -> mesh::cluster::Access {
        mesh::cluster::Access {
            context: self.context.clone(),
            namespace: self.namespace.clone(),
            request_timeout: Some(self.request_timeout),
        }
    }
}

#[derive(Subcommand)]
enum ControllerCommand {
    /// Print the ServiceAccount, Role, RoleBinding, bundle ConfigMap and Deployment that run the controller
    #[command(
        after_help = "Examples:\n  mesh controller manifests shop.mesh --image registry.example.com/mesh:0.1.0 | kubectl apply -f -\n  mesh controller manifests shop.mesh -n pipelines --target workloads\n  mesh controller manifests -n pipelines       set up once; CI then updates the bundle:\n  mesh compile shop.mesh > bundle.yaml && kubectl -n pipelines create configmap mesh-controller-bundle \\\n      --from-file=bundle.yaml --dry-run=client -o yaml | kubectl apply -f -"
    )]
    Manifests {
        /// The .mesh files of one program; without them the controller is set up for any
        /// pipeline and reads its bundle from the ConfigMap `mesh-controller-bundle`
        files: Vec<PathBuf>,
        #[command(flatten)]
        bundle: BundleArgs,
        /// The namespace to run in (default: the program's, else `default`)
        #[arg(short = 'n', long)]
        namespace: Option<String>,
        /// The container image with the mesh binary
        #[arg(long, default_value = concat!("mesh:", env!("CARGO_PKG_VERSION")))]
        image: String,
    },
    /// Keep a compiled bundle in place (what the Deployment runs)
    #[command(
        after_help = "Example:\n  mesh controller run --bundle /etc/mesh/bundle.yaml --topology /etc/mesh/topology.json --mesh-name shop"
    )]
    Run(RunArgs),
}

/// What the in-cluster controller keeps in place, and how.
#[derive(clap::Args, Clone, Debug)]
struct RunArgs {
    /// The bundle as `mesh compile` prints it
    #[arg(long, value_name = "FILE", required = true)]
    bundle: Option<PathBuf>,
    /// The apply order `mesh controller manifests` writes
    #[arg(long, value_name = "FILE")]
    topology: Option<PathBuf>,
    /// The name of the bundle's inventory (default: the pipeline the bundle's objects belong to)
    #[arg(long)]
    mesh_name: Option<String>,
    #[command(flatten)]
    cluster: ClusterArgs,
    /// How often the cluster is compared with the bundle
    #[arg(long, default_value = "10s", value_parser = parse_duration)]
    interval: std::time::Duration,
    /// Serve /healthz, /readyz and /metrics on this address
    #[arg(long, value_name = "ADDR")]
    listen: Option<std::net::SocketAddr>,
    /// Never delete objects the bundle no longer declares
    #[arg(long)]
    no_prune: bool,
    /// Take over fields that another field manager owns
    #[arg(long)]
    force_conflicts: bool,
}

fn parse_duration(text: &str) -> Result<std::time::Duration, String> {
    mesh::cluster::wait::parse_duration(text)
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
enum SchemaRules {
    Broker,
    Strict,
}

impl From<SchemaRules> for mesh::schema::avro_compat::Rules {
    fn from(r: SchemaRules) -> Self {
        match r {
            SchemaRules::Broker => mesh::schema::avro_compat::Rules::Broker,
            SchemaRules::Strict => mesh::schema::avro_compat::Rules::Strict,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
enum CheckFormat {
    /// Rendered for people (colour only on a terminal; NO_COLOR is respected)
    Human,
    /// One JSON document with every diagnostic and the counts
    Json,
    /// SARIF 2.1.0, for code-scanning services
    Sarif,
    /// GitHub Actions workflow commands (annotations on the pull request)
    Github,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(2)
        }
    }
}

/// Points a diagnostic from a standalone parse (file 0) at the file it came from.
fn retarget(mut d: Diagnostic, file: mesh::source::FileId) -> Diagnostic {
    d.primary.span.file = file;
    for l in &mut d.secondary {
        l.span.file = file;
    }
    d
}

/// Writes to stdout; a closed pipe (`mesh ... | head`) ends the output quietly.
fn print_stdout(text: &str) {
    let mut out = std::io::stdout().lock();
    let _ = out.write_all(text.as_bytes()).and_then(|_| out.write_all(b"\n")).and_then(|_| out.flush());
}

fn color() -> bool {
    std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty()) && std::io::stderr().is_terminal()
}

fn print_diags(loaded: &Loaded, diags: &[Diagnostic]) {
    if diags.is_empty() {
        return;
    }
    let text = diag::render_human(&loaded.sources, diags, color());
    let (errors, warnings) = diag::summary(diags);
    let mut err = std::io::stderr().lock();
    let _ = err.write_all(text.as_bytes());
    let _ = writeln!(err, "{}", summary_line(errors, warnings));
}

fn summary_line(errors: usize, warnings: usize) -> String {
    let plural = |n: usize, w: &str| if n == 1 { format!("1 {w}") } else { format!("{n} {w}s") };
    match (errors, warnings) {
        (0, w) => format!("{} emitted", plural(w, "warning")),
        (e, 0) => format!("{} emitted", plural(e, "error")),
        (e, w) => format!("{} and {} emitted", plural(e, "error"), plural(w, "warning")),
    }
}

fn run(cli: Cli) -> Result<ExitCode, LoadError> {
    match cli.command {
        Command::Apply {
            files,
            bundle,
            cluster,
            dry_run,
            yes,
            no_prune,
            wait,
            timeout,
            force_conflicts,
            create_namespace,
            watch,
            interval,
            listen,
        } => {
            let Some(compiled) = compile_bundle(&files, &bundle)? else { return Ok(ExitCode::from(1)) };
            let request = cluster_cmd::ApplyRequest {
                access: cluster.access(),
                dry_run,
                yes,
                prune: !no_prune,
                wait: wait.then_some(timeout),
                force_conflicts,
                create_namespace,
                watch: watch.then_some((interval, listen)),
            };
            let watched = files.clone();
            Ok(cluster_cmd::apply(compiled, request, watched, move || compile_bundle_quiet(&files, &bundle)))
        }
        Command::Diff { files, bundle, cluster, exit_code, no_prune } => {
            let Some(compiled) = compile_bundle(&files, &bundle)? else { return Ok(ExitCode::from(1)) };
            Ok(cluster_cmd::diff(compiled, &cluster.access(), exit_code, !no_prune))
        }
        Command::Controller {
            command: Some(ControllerCommand::Manifests { files, bundle, namespace, image }), ..
        } => {
            let compiled = if files.is_empty() {
                None
            } else {
                let Some(compiled) = compile_bundle(&files, &bundle)? else { return Ok(ExitCode::from(1)) };
                Some(compiled)
            };
            match cluster_cmd::manifests(compiled.as_ref(), namespace.as_deref(), &image) {
                Ok(text) => {
                    print_stdout(text.trim_end());
                    Ok(ExitCode::SUCCESS)
                }
                Err(e) => {
                    eprintln!("error: {e}");
                    Ok(ExitCode::from(1))
                }
            }
        }
        Command::Controller { command: Some(ControllerCommand::Run(run)), .. } | Command::Controller { run, .. } => {
            let Some(bundle) = run.bundle else {
                return Err(LoadError("`mesh controller` needs --bundle FILE (or a subcommand)".into()));
            };
            // Read once here so a wrong path fails at start, not in the first pass.
            load::read_source(&bundle)?;
            let opts = mesh::cluster::controller::Options {
                interval: run.interval,
                listen: run.listen,
                prune: !run.no_prune,
                apply: mesh::cluster::apply::ApplyOptions {
                    force_conflicts: run.force_conflicts,
                    ..Default::default()
                },
                max_backoff: std::time::Duration::from_secs(300),
            };
            Ok(cluster_cmd::controller(bundle, run.topology, run.mesh_name, &run.cluster.access(), opts))
        }
        Command::Compile { files, bundle, output, format } => {
            let Some(cluster_cmd::Compiled { objects, .. }) = compile_bundle(&files, &bundle)? else {
                return Ok(ExitCode::from(1));
            };
            match output {
                Some(dir) => {
                    render::write_dir(&objects, &dir, format).map_err(|e| {
                        LoadError(format!("cannot write to `{}`: {}", dir.display(), load::io_reason(&e)))
                    })?;
                }
                None => {
                    let text = render::render(&objects, format);
                    let mut stdout = std::io::stdout().lock();
                    if stdout.write_all(text.as_bytes()).and_then(|_| stdout.flush()).is_err() {
                        return Ok(ExitCode::from(2));
                    }
                }
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Check { paths, format, deny_warnings, profile, schema_rules, baseline } => {
            let files = mesh_files(&paths)?;
            let baseline = match &baseline {
                Some(old) => match baseline_records(old, schema_rules.into())? {
                    Some(records) => Some(records),
                    None => return Ok(ExitCode::from(1)),
                },
                None => None,
            };
            let policy =
                Policy::find(paths.first().map_or(std::path::Path::new("."), |p| p.as_path())).map_err(LoadError)?;
            let opts = mesh::compile::Options {
                profile: profile.clone(),
                schema_rules: schema_rules.into(),
                ..Default::default()
            };
            let checked = check_files(&files, &opts, baseline.as_deref(), &policy)?;
            let mut errors = 0;
            let mut warnings = 0;
            for (_, diags) in &checked {
                let (e, w) = diag::summary(diags);
                errors += e;
                warnings += w;
            }
            match format {
                CheckFormat::Human => {
                    let mut err = std::io::stderr().lock();
                    for (loaded, diags) in &checked {
                        let _ = err.write_all(diag::render_human(&loaded.sources, diags, color()).as_bytes());
                    }
                    if errors + warnings > 0 {
                        let _ = writeln!(err, "{}", summary_line(errors, warnings));
                    }
                }
                CheckFormat::Json => {
                    let all: Vec<serde_json::Value> =
                        checked.iter().flat_map(|(l, d)| mesh::report::json_diagnostics(&l.sources, d)).collect();
                    let doc = serde_json::json!({ "diagnostics": all, "errors": errors, "warnings": warnings });
                    print_stdout(&serde_json::to_string_pretty(&doc).unwrap_or_default());
                }
                CheckFormat::Sarif => {
                    let runs: Vec<(&mesh::source::Sources, &[Diagnostic])> =
                        checked.iter().map(|(l, d)| (&l.sources, d.as_slice())).collect();
                    print_stdout(&serde_json::to_string_pretty(&mesh::report::sarif(&runs)).unwrap_or_default());
                }
                CheckFormat::Github => {
                    let mut out = std::io::stdout().lock();
                    for (loaded, diags) in &checked {
                        let _ = out.write_all(mesh::report::github(&loaded.sources, diags).as_bytes());
                    }
                }
            }
            let failed = errors > 0 || (deny_warnings && warnings > 0);
            Ok(if failed { ExitCode::from(1) } else { ExitCode::SUCCESS })
        }
        Command::Import { paths, output } => {
            let mut inputs = Vec::new();
            for file in files_with(&paths, &["yaml", "yml", "json"])? {
                inputs.push((file.display().to_string(), load::read_source(&file)?));
            }
            match mesh::import::import(&inputs) {
                Err(errors) => {
                    for e in &errors {
                        eprintln!("error: {e}");
                    }
                    Ok(ExitCode::from(1))
                }
                Ok(imported) => {
                    for s in &imported.skipped {
                        eprintln!("skipped: {s}");
                    }
                    match output {
                        Some(out) => {
                            let tmp = out.with_extension("mesh-tmp");
                            std::fs::write(&tmp, &imported.program).and_then(|_| std::fs::rename(&tmp, &out)).map_err(
                                |e| {
                                    let _ = std::fs::remove_file(&tmp);
                                    LoadError(format!("cannot write `{}`: {}", out.display(), load::io_reason(&e)))
                                },
                            )?;
                        }
                        None => print_stdout(imported.program.trim_end()),
                    }
                    Ok(ExitCode::SUCCESS)
                }
            }
        }
        Command::Fmt { paths, check } => {
            let mut failed = false;
            for file in mesh_files(&paths)? {
                let text = load::read_source(&file)?;
                match mesh::fmt::format_source(&text) {
                    Err(diags) => {
                        let mut sources = mesh::source::Sources::new();
                        let id = sources.add(file.display().to_string(), text.clone(), false);
                        let diags: Vec<Diagnostic> = diags.into_iter().map(|d| retarget(d, id)).collect();
                        eprint!("{}", diag::render_human(&sources, &diags, color()));
                        failed = true;
                    }
                    Ok(formatted) if formatted == text => {}
                    Ok(formatted) if check => {
                        let diff = similar::TextDiff::from_lines(&text, &formatted);
                        let name = file.display().to_string();
                        print_stdout(
                            diff.unified_diff().header(&name, &format!("{name} (formatted)")).to_string().trim_end(),
                        );
                        failed = true;
                    }
                    Ok(formatted) => {
                        let tmp = file.with_extension("mesh.fmt-tmp");
                        std::fs::write(&tmp, &formatted).and_then(|_| std::fs::rename(&tmp, &file)).map_err(|e| {
                            let _ = std::fs::remove_file(&tmp);
                            LoadError(format!("cannot write `{}`: {}", file.display(), load::io_reason(&e)))
                        })?;
                    }
                }
            }
            Ok(if failed { ExitCode::from(1) } else { ExitCode::SUCCESS })
        }
        Command::Graph { files, format } => {
            let loaded = load::load(&files)?;
            let (program, diags) = mesh::check::check(&loaded, &Default::default());
            let Some(program) = program else {
                print_diags(&loaded, &diags);
                return Ok(ExitCode::from(1));
            };
            print_stdout(mesh::graph::render(&program, &diags, format).trim_end());
            Ok(ExitCode::SUCCESS)
        }
        Command::Completions { shell } => {
            use clap::CommandFactory;
            let mut out = Vec::new();
            clap_complete::generate(shell, &mut Cli::command(), "mesh", &mut out);
            print_stdout(String::from_utf8_lossy(&out).trim_end());
            Ok(ExitCode::SUCCESS)
        }
        Command::Explain { code } => match mesh::codes::lookup(&code) {
            Some(info) => {
                print_stdout(&format!("{}: {}\n\n{}", info.code, info.title, info.explanation));
                Ok(ExitCode::SUCCESS)
            }
            None => Err(LoadError(format!("`{code}` is not a mesh diagnostic code; codes look like E0201 or W0101"))),
        },
    }
}

/// Loads and compiles a program with mesh.toml applied to its diagnostics; the
/// bundle only when no diagnostic is an error (mesh.toml can make a warning one).
fn compile_with_policy(
    files: &[PathBuf],
    args: &BundleArgs,
) -> Result<(Loaded, Vec<Diagnostic>, Option<cluster_cmd::Compiled>), LoadError> {
    if args.mesh && args.target == mesh::compile::Target::Workloads {
        return Err(LoadError("--mesh makes a FunctionMesh, which the workloads target does not use".into()));
    }
    let loaded = load::load(files)?;
    let policy = Policy::find(&files[0]).map_err(LoadError)?;
    let out = mesh::compile::compile(&loaded, &args.options());
    let diags = policy.apply(&loaded.sources, out.diags);
    let compiled = out
        .program
        .zip(out.objects)
        .filter(|_| !diags.iter().any(Diagnostic::is_error))
        .map(|(program, objects)| cluster_cmd::Compiled { program, objects });
    Ok((loaded, diags, compiled))
}

/// Compiles a program, printing its diagnostics; `None` when it has errors.
fn compile_bundle(files: &[PathBuf], args: &BundleArgs) -> Result<Option<cluster_cmd::Compiled>, LoadError> {
    let (loaded, diags, compiled) = compile_with_policy(files, args)?;
    print_diags(&loaded, &diags);
    Ok(compiled)
}

/// The same, for reloads under --watch: errors come back as text.
fn compile_bundle_quiet(files: &[PathBuf], args: &BundleArgs) -> Result<cluster_cmd::Compiled, String> {
    let (loaded, diags, compiled) = compile_with_policy(files, args).map_err(|e| e.0)?;
    compiled.ok_or_else(|| diag::render_human(&loaded.sources, &diags, false))
}

/// A checked program with its diagnostics.
type Checked = (Loaded, Vec<Diagnostic>);

/// Checks every file that is not `use`d by another one of them (those are
/// checked as part of the program that uses them), two or more at a time.
fn check_files(
    files: &[PathBuf],
    opts: &mesh::compile::Options,
    baseline: Option<&[mesh::baseline::TopicRecord]>,
    policy: &Policy,
) -> Result<Vec<Checked>, LoadError> {
    let workers = std::thread::available_parallelism().map_or(2, |n| n.get()).min(files.len()).max(1);
    let chunk = files.len().div_ceil(workers).max(1);
    let results: Vec<Result<Vec<Checked>, LoadError>> = std::thread::scope(|scope| {
        let handles: Vec<_> = files
            .chunks(chunk)
            .map(|part| {
                scope.spawn(move || {
                    part.iter()
                        .map(|file| {
                            let loaded = load::load(std::slice::from_ref(file))?;
                            // Checking needs no objects: stop before the emitter.
                            let (program, mut diags) = mesh::check::check(&loaded, &opts.check_options());
                            if let (Some(old), Some(program)) = (baseline, &program) {
                                diags.extend(mesh::baseline::check(program, old, opts.schema_rules));
                            }
                            let diags = policy.apply(&loaded.sources, diags);
                            Ok((loaded, diags))
                        })
                        .collect()
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().unwrap_or_else(|_| Err(LoadError("internal error while checking".into()))))
            .collect()
    });
    let mut all = Vec::new();
    for r in results {
        all.extend(r?);
    }
    let used: std::collections::BTreeSet<PathBuf> = all
        .iter()
        .flat_map(|(l, _)| l.file_uses.values().map(|id| PathBuf::from(&l.sources.get(*id).name)))
        .filter_map(|p| std::fs::canonicalize(p).ok())
        .collect();
    Ok(files
        .iter()
        .zip(all)
        .filter(|(f, _)| !std::fs::canonicalize(f).is_ok_and(|c| used.contains(&c)))
        .map(|(_, r)| r)
        .collect())
}

/// The topics of the baseline, or `None` when the baseline program itself has
/// errors (they are printed).
fn baseline_records(
    old: &std::path::Path,
    rules: mesh::schema::avro_compat::Rules,
) -> Result<Option<Vec<mesh::baseline::TopicRecord>>, LoadError> {
    if old.extension().is_some_and(|e| e == "mesh") {
        let loaded = load::load(&[old.to_path_buf()])?;
        let opts = mesh::compile::Options { schema_rules: rules, ..Default::default() };
        let out = mesh::compile::compile(&loaded, &opts);
        return match out.program {
            Some(p) => Ok(Some(mesh::baseline::records(&p))),
            None => {
                eprintln!("the baseline `{}` does not compile:", old.display());
                print_diags(&loaded, &out.diags);
                Ok(None)
            }
        };
    }
    let text = load::read_source(old)?;
    mesh::baseline::from_bundle(&text).map(Some).map_err(|e| LoadError(format!("baseline `{}`: {e}", old.display())))
}

/// The .mesh files named directly or found under the given directories, sorted.
fn mesh_files(paths: &[PathBuf]) -> Result<Vec<PathBuf>, LoadError> {
    files_with(paths, &["mesh"])
}

/// Files named directly, or found under directories with one of `extensions`, sorted.
fn files_with(paths: &[PathBuf], extensions: &[&str]) -> Result<Vec<PathBuf>, LoadError> {
    let mut out = Vec::new();
    let wanted = |p: &std::path::Path| p.extension().is_some_and(|e| extensions.iter().any(|x| e == *x));
    // Directories by their real path, so a symlink loop is walked once.
    let mut seen = std::collections::BTreeSet::new();
    // Patterns the shell left alone (quoted, or `**` without globstar) are expanded here.
    let mut expanded = Vec::new();
    for p in paths {
        let text = p.to_string_lossy();
        if p.exists() || !text.contains(['*', '?', '[']) {
            expanded.push(p.clone());
            continue;
        }
        let matches = glob::glob(&text).map_err(|e| LoadError(format!("`{text}` is not a valid pattern: {e}")))?;
        let before = expanded.len();
        expanded.extend(matches.flatten().filter(|m| m.is_dir() || wanted(m)));
        if expanded.len() == before {
            return Err(LoadError(format!("no .{} files match `{text}`", extensions[0])));
        }
    }
    for p in &expanded {
        if p.is_dir() {
            let mut stack = vec![p.clone()];
            while let Some(dir) = stack.pop() {
                if !seen.insert(std::fs::canonicalize(&dir).unwrap_or_else(|_| dir.clone())) {
                    continue;
                }
                let entries = std::fs::read_dir(&dir)
                    .map_err(|e| LoadError(format!("cannot read `{}`: {}", dir.display(), load::io_reason(&e))))?;
                for entry in entries.flatten() {
                    let path = entry.path();
                    if path.is_dir() {
                        stack.push(path);
                    } else if wanted(&path) {
                        out.push(path);
                    }
                }
            }
        } else {
            out.push(p.clone());
        }
    }
    out.sort();
    out.dedup_by_key(|f| std::fs::canonicalize(&*f).unwrap_or_else(|_| f.clone()));
    if out.is_empty() {
        return Err(LoadError(format!("no .{} files found", extensions[0])));
    }
    Ok(out)
}
