//! What a project decides about diagnostics: `// mesh:allow(W0xxx)` on the
//! line before a warning silences it there, and `mesh.toml` changes a rule's
//! severity for the whole project:
//!
//! ```toml
//! [rules]
//! W0301 = "error"   # or "warning", or "allow"
//! ```

use crate::diag::{Diagnostic, Severity};
use crate::source::Sources;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    Error,
    Warning,
    Allow,
}

#[derive(Clone, Debug, Default)]
pub struct Policy {
    pub rules: BTreeMap<String, Level>,
    /// Where the settings came from, for messages.
    pub file: Option<PathBuf>,
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct ProjectFile {
    #[serde(default)]
    rules: BTreeMap<String, Level>,
}

pub const FILE_NAME: &str = "mesh.toml";

impl Policy {
    /// The `mesh.toml` in `start` or the nearest directory above it.
    pub fn find(start: &Path) -> Result<Policy, String> {
        let start = std::fs::canonicalize(start).unwrap_or_else(|_| start.to_path_buf());
        let mut dir = if start.is_dir() { Some(start.as_path()) } else { start.parent() };
        while let Some(d) = dir {
            let candidate = d.join(FILE_NAME);
            if candidate.is_file() {
                return Policy::read(&candidate);
            }
            dir = d.parent();
        }
        Ok(Policy::default())
    }

    pub fn read(path: &Path) -> Result<Policy, String> {
        let text = std::fs::read_to_string(path).map_err(|e| format!("cannot read `{}`: {e}", path.display()))?;
        let file: ProjectFile = toml::from_str(&text).map_err(|e| format!("`{}`: {}", path.display(), e.message()))?;
        for (code, level) in &file.rules {
            let Some(info) = crate::codes::lookup(code) else {
                return Err(format!("`{}`: `{code}` is not a mesh diagnostic code", path.display()));
            };
            // Errors stand for programs the operator or the broker would refuse; they cannot be lowered.
            if info.code.starts_with('E') && *level != Level::Error {
                return Err(format!(
                    "`{}`: {code} is an error and cannot be made a warning or allowed",
                    path.display()
                ));
            }
        }
        Ok(Policy {
            rules: file.rules.into_iter().map(|(k, v)| (k.to_ascii_uppercase(), v)).collect(),
            file: Some(path.into()),
        })
    }

    /// Applies suppression comments and severity overrides.
    pub fn apply(&self, sources: &Sources, diags: Vec<Diagnostic>) -> Vec<Diagnostic> {
        diags
            .into_iter()
            .filter_map(|mut d| {
                if d.severity == Severity::Warning && allowed_at(sources, &d) {
                    return None;
                }
                match self.rules.get(d.code) {
                    Some(Level::Allow) => None,
                    Some(Level::Error) => {
                        d.severity = Severity::Error;
                        Some(d)
                    }
                    Some(Level::Warning) | None => Some(d),
                }
            })
            .collect()
    }
}

/// Whether the line before the diagnostic's primary label says `// mesh:allow(CODE)`.
fn allowed_at(sources: &Sources, d: &Diagnostic) -> bool {
    let file = sources.get(d.primary.span.file);
    let line = file.line_index(d.primary.span.start as usize);
    if line == 0 {
        return false;
    }
    let prev = file.text.lines().nth(line - 1).unwrap_or("");
    let Some(rest) = prev.trim().strip_prefix("//").map(str::trim) else { return false };
    let Some(list) = rest.strip_prefix("mesh:allow(").and_then(|r| r.split(')').next()) else { return false };
    list.split(',').any(|c| c.trim().eq_ignore_ascii_case(d.code))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn allow_comment_silences_a_warning_on_the_next_line() {
        let src = "pulsar p { web_service_url = \"http://b:8080\", broker_service_url = \"pulsar://b:6650\" }\n\
                   // mesh:allow(W0101)\nschema Unused = string\nschema Other = string\n";
        let loaded = crate::load::load_text("a.mesh", src);
        let out = crate::compile::compile(&loaded, &Default::default());
        let kept = Policy::default().apply(&loaded.sources, out.diags);
        assert_eq!(kept.len(), 1, "{kept:?}");
        assert!(kept[0].message.contains("Other"));
    }

    #[test]
    fn project_file_changes_severity() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join(FILE_NAME), "[rules]\nW0101 = \"error\"\n").unwrap();
        let policy = Policy::find(dir.path()).unwrap();
        assert_eq!(policy.rules.get("W0101"), Some(&Level::Error));
        std::fs::write(dir.path().join(FILE_NAME), "[rules]\nE0201 = \"allow\"\n").unwrap();
        assert!(Policy::find(dir.path()).unwrap_err().contains("cannot be made a warning"));
        std::fs::write(dir.path().join(FILE_NAME), "[rulez]\n").unwrap();
        assert!(Policy::find(dir.path()).is_err());
    }
}
