//! The `mesh` command line: parses arguments, calls the library, prints, and
//! chooses the exit code (0 success, 1 the program has errors, 2 usage or I/O).

use clap::{Parser, Subcommand};
use mesh::diag::{self, Diagnostic};
use mesh::load::{self, LoadError, Loaded};
use mesh::render::{self, Format};
use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Parser)]
#[command(name = "mesh", version, about = "Compile typed Pulsar pipelines to Function Mesh bundles", long_about = None)]
#[command(
    after_help = "Examples:\n  mesh compile shop.mesh            print the bundle as YAML\n  mesh check pipelines/             check every .mesh file, as CI does\n  mesh explain E0201                explain a diagnostic code"
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
        /// Emit one FunctionMesh holding every component
        #[arg(long)]
        mesh: bool,
        /// Write one file per object, plus kustomization.yaml, into DIR
        #[arg(short = 'o', long = "output", value_name = "DIR")]
        output: Option<PathBuf>,
        /// Output format
        #[arg(long, value_enum, default_value = "yaml")]
        format: Format,
        /// Apply the settings of a `profile` block over `defaults`
        #[arg(long)]
        profile: Option<String>,
    },
    /// Check pipelines without writing anything
    #[command(
        after_help = "Examples:\n  mesh check shop.mesh\n  mesh check pipelines/ --format json\n  mesh check shop.mesh --deny-warnings"
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
    },
    /// Explain a diagnostic code
    #[command(after_help = "Example:\n  mesh explain E0201")]
    Explain {
        /// A code such as E0201 or W0101
        code: String,
    },
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
enum CheckFormat {
    Human,
    Json,
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
        Command::Compile { files, mesh, output, format, profile } => {
            let loaded = load::load(&files)?;
            let out = mesh::compile::compile(&loaded, &mesh::compile::Options { profile, mesh });
            print_diags(&loaded, &out.diags);
            let Some(objects) = out.objects else { return Ok(ExitCode::from(1)) };
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
        Command::Check { paths, format, deny_warnings, profile } => {
            let files = mesh_files(&paths)?;
            let mut any_error = false;
            let mut reports = Vec::new();
            for file in &files {
                let loaded = load::load(std::slice::from_ref(file))?;
                let out =
                    mesh::compile::compile(&loaded, &mesh::compile::Options { profile: profile.clone(), mesh: false });
                let (errors, warnings) = diag::summary(&out.diags);
                any_error |= errors > 0 || (deny_warnings && warnings > 0);
                match format {
                    CheckFormat::Human => print_diags(&loaded, &out.diags),
                    CheckFormat::Json => reports.push(mesh::report::json_diagnostics(&loaded.sources, &out.diags)),
                }
            }
            if format == CheckFormat::Json {
                let all: Vec<serde_json::Value> = reports.into_iter().flatten().collect();
                let errors = all.iter().filter(|d| d["severity"] == "error").count();
                let doc = serde_json::json!({ "diagnostics": all, "errors": errors, "warnings": all.len() - errors });
                println!("{}", serde_json::to_string_pretty(&doc).unwrap_or_default());
            }
            Ok(if any_error { ExitCode::from(1) } else { ExitCode::SUCCESS })
        }
        Command::Explain { code } => match mesh::codes::lookup(&code) {
            Some(info) => {
                println!("{}: {}\n\n{}", info.code, info.title, info.explanation);
                Ok(ExitCode::SUCCESS)
            }
            None => Err(LoadError(format!("`{code}` is not a mesh diagnostic code; codes look like E0201 or W0101"))),
        },
    }
}

/// The .mesh files named directly or found under the given directories, sorted.
fn mesh_files(paths: &[PathBuf]) -> Result<Vec<PathBuf>, LoadError> {
    let mut out = Vec::new();
    for p in paths {
        if p.is_dir() {
            let mut stack = vec![p.clone()];
            while let Some(dir) = stack.pop() {
                let entries = std::fs::read_dir(&dir)
                    .map_err(|e| LoadError(format!("cannot read `{}`: {}", dir.display(), load::io_reason(&e))))?;
                for entry in entries.flatten() {
                    let path = entry.path();
                    if path.is_dir() {
                        stack.push(path);
                    } else if path.extension().is_some_and(|e| e == "mesh") {
                        out.push(path);
                    }
                }
            }
        } else {
            out.push(p.clone());
        }
    }
    out.sort();
    out.dedup();
    if out.is_empty() {
        return Err(LoadError("no .mesh files found".into()));
    }
    Ok(out)
}
