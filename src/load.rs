//! Reading a program: the files named on the command line, every file they
//! `use`, and the stdlib modules they import, each parsed once.

use crate::diag::Diagnostic;
use crate::source::{FileId, Sources, Span};
use crate::syntax::ast::{DeclKind, File, UseDecl};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

#[derive(Default)]
pub struct Loaded {
    pub sources: Sources,
    pub files: Vec<File>,
    /// The files named on the command line.
    pub roots: Vec<FileId>,
    /// Stdlib module path (`io::kafka`) to its file.
    pub stdlib: BTreeMap<String, FileId>,
    /// The file each `use "..."` declaration reached, by the span of its path.
    pub file_uses: BTreeMap<Span, FileId>,
    pub diags: Vec<Diagnostic>,
}

impl Loaded {
    pub fn file(&self, id: FileId) -> &File {
        &self.files[id.0 as usize]
    }
}

/// A failure to read input at all: exit code 2, not a program error.
#[derive(Debug)]
pub struct LoadError(pub String);

impl std::fmt::Display for LoadError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// Files larger than this are refused as input rather than parsed.
pub const MAX_FILE_BYTES: u64 = 64 * 1024 * 1024;

pub fn read_source(path: &Path) -> Result<String, LoadError> {
    let meta = std::fs::metadata(path)
        .map_err(|e| LoadError(format!("cannot read `{}`: {}", path.display(), io_reason(&e))))?;
    if meta.is_dir() {
        return Err(LoadError(format!("`{}` is a directory, not a .mesh file", path.display())));
    }
    if meta.len() > MAX_FILE_BYTES {
        return Err(LoadError(format!("`{}` is larger than {} MiB", path.display(), MAX_FILE_BYTES / (1024 * 1024))));
    }
    let bytes =
        std::fs::read(path).map_err(|e| LoadError(format!("cannot read `{}`: {}", path.display(), io_reason(&e))))?;
    String::from_utf8(bytes).map_err(|e| {
        LoadError(format!(
            "`{}` is not valid UTF-8 (invalid byte at offset {})",
            path.display(),
            e.utf8_error().valid_up_to()
        ))
    })
}

pub fn io_reason(e: &std::io::Error) -> String {
    match e.kind() {
        std::io::ErrorKind::NotFound => "no such file".into(),
        std::io::ErrorKind::PermissionDenied => "permission denied".into(),
        _ => e.to_string(),
    }
}

#[derive(Default)]
struct Loader {
    loaded: Loaded,
    by_path: BTreeMap<PathBuf, FileId>,
    paths: BTreeMap<FileId, PathBuf>,
}

/// Loads the named files and everything they use. Program errors (a `use`
/// of a missing file, a cycle, an unknown stdlib module) are diagnostics; only
/// an unreadable root file is a `LoadError`.
pub fn load(paths: &[PathBuf]) -> Result<Loaded, LoadError> {
    let mut l = Loader::default();
    for path in paths {
        let text = read_source(path)?;
        let key = canonical(path);
        if let Some(&id) = l.by_path.get(&key) {
            if !l.loaded.roots.contains(&id) {
                l.loaded.roots.push(id);
            }
            continue;
        }
        let id = l.add(path.display().to_string(), text);
        l.by_path.insert(key, id);
        l.paths.insert(id, path.to_path_buf());
        l.loaded.roots.push(id);
    }
    let roots = l.loaded.roots.clone();
    let mut stack = Vec::new();
    for root in roots {
        l.visit(root, &mut stack);
    }
    Ok(l.loaded)
}

/// Loads a program from text, as if it were a file called `name` (tests, benchmarks).
pub fn load_text(name: &str, text: &str) -> Loaded {
    let mut l = Loader::default();
    let id = l.add(name.to_string(), text.to_string());
    l.paths.insert(id, PathBuf::from(name));
    l.loaded.roots.push(id);
    l.visit(id, &mut Vec::new());
    l.loaded
}

type Parsed = (crate::syntax::ast::File, Vec<Diagnostic>);

/// Stdlib modules parsed so far in this process, by text and file id: checking many programs
/// (`mesh check DIR`) parses each module once per id it gets, not once per program. Spans carry the
/// file id, so the id is part of the key.
fn parse_stdlib(id: FileId, text: &'static str) -> Parsed {
    static CACHE: std::sync::OnceLock<std::sync::Mutex<BTreeMap<(usize, FileId), Parsed>>> = std::sync::OnceLock::new();
    let key = (text.as_ptr() as usize, id);
    let cache = CACHE.get_or_init(Default::default);
    if let Some(hit) = cache.lock().ok().and_then(|c| c.get(&key).cloned()) {
        return hit;
    }
    let parsed = crate::syntax::parse_file(id, text);
    if let Ok(mut c) = cache.lock() {
        c.insert(key, parsed.clone());
    }
    parsed
}

fn canonical(path: &Path) -> PathBuf {
    std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf())
}

impl Loader {
    fn add(&mut self, name: String, text: String) -> FileId {
        let id = self.loaded.sources.add(name, text, false);
        let parsed = crate::syntax::parse_file(id, &self.loaded.sources.get(id).text);
        self.push(parsed);
        id
    }

    fn push(&mut self, (file, diags): Parsed) {
        self.loaded.files.push(file);
        self.loaded.diags.extend(diags);
    }

    /// Depth-first over `use` declarations; `stack` holds the files being
    /// visited, to report cycles.
    fn visit(&mut self, id: FileId, stack: &mut Vec<FileId>) {
        if stack.contains(&id) {
            return;
        }
        stack.push(id);
        let uses: Vec<UseDecl> = self.loaded.files[id.0 as usize]
            .decls
            .iter()
            .filter_map(|d| match &d.kind {
                DeclKind::Use(u) => Some(u.clone()),
                _ => None,
            })
            .collect();
        let is_stdlib = self.loaded.sources.get(id).is_stdlib;
        for u in uses {
            match u {
                UseDecl::File { path, span } => {
                    if is_stdlib {
                        continue;
                    }
                    self.use_file(id, &path, span, stack);
                }
                UseDecl::Module { path, items } => {
                    let segments: Vec<&str> = path.segments.iter().map(|s| s.name.as_str()).collect();
                    if segments.first() != Some(&"std") {
                        continue; // reported by the checker, which knows every name
                    }
                    let base = segments[1..].join("::");
                    if items.is_empty() {
                        self.use_module(&base, path.span);
                    } else {
                        for item in &items {
                            let module =
                                if base.is_empty() { item.name.clone() } else { format!("{base}::{}", item.name) };
                            self.use_module(&module, item.span);
                        }
                    }
                }
            }
        }
        stack.pop();
    }

    fn use_file(&mut self, from: FileId, rel: &str, span: Span, stack: &mut Vec<FileId>) {
        let base = self.paths.get(&from).and_then(|p| p.parent().map(Path::to_path_buf)).unwrap_or_default();
        // `./x.mesh` would otherwise show as `dir/./x.mesh` in messages.
        let path: PathBuf = base.join(rel).components().filter(|c| *c != std::path::Component::CurDir).collect();
        let key = canonical(&path);
        if let Some(&existing) = self.by_path.get(&key) {
            self.loaded.file_uses.insert(span, existing);
            if let Some(pos) = stack.iter().position(|f| *f == existing) {
                let cycle: Vec<String> = stack[pos..]
                    .iter()
                    .map(|f| self.loaded.sources.get(*f).name.clone())
                    .chain(std::iter::once(self.loaded.sources.get(existing).name.clone()))
                    .collect();
                self.loaded.diags.push(
                    Diagnostic::new("E0103", "`use` cycle between files", span, "this `use` closes the cycle")
                        .note(format!("cycle: {}", cycle.join(" -> ")))
                        .help("move the shared declarations into a file that both use"),
                );
            }
            return;
        }
        if path.extension().is_none_or(|e| e != "mesh") {
            self.loaded.diags.push(Diagnostic::new(
                "E0104",
                format!("`{rel}` is not a .mesh file"),
                span,
                "`use` takes the path of another .mesh file",
            ));
            return;
        }
        match read_source(&path) {
            Ok(text) => {
                let id = self.add(path.display().to_string(), text);
                self.by_path.insert(key, id);
                self.paths.insert(id, path);
                self.loaded.file_uses.insert(span, id);
                self.visit(id, stack);
            }
            Err(e) => self.loaded.diags.push(
                Diagnostic::new("E0104", format!("cannot use `{rel}`"), span, e.0)
                    .note("paths in `use` are relative to the file that contains the `use`"),
            ),
        }
    }

    fn use_module(&mut self, module: &str, span: Span) {
        if self.loaded.stdlib.contains_key(module) {
            return;
        }
        match crate::stdlib::module(module) {
            Some(text) => {
                let id = self.loaded.sources.add(crate::stdlib::file_name(module), text.to_string(), true);
                self.push(parse_stdlib(id, text));
                self.loaded.stdlib.insert(module.to_string(), id);
            }
            None => {
                let names: Vec<&str> = crate::stdlib::MODULES.iter().map(|(p, _)| *p).collect();
                let mut d = Diagnostic::new(
                    "E0105",
                    format!("there is no stdlib module `std::{module}`"),
                    span,
                    "unknown module",
                );
                if let Some(s) = crate::check::values::suggest(module, names.iter().copied()) {
                    d = d.help(format!("did you mean `std::{s}`?"));
                } else {
                    d = d.note(format!(
                        "stdlib modules: {}",
                        names.iter().map(|n| format!("std::{n}")).collect::<Vec<_>>().join(", ")
                    ));
                }
                self.loaded.diags.push(d);
            }
        }
    }
}
