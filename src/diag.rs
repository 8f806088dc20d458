//! Diagnostics: one type for every stage, collected as values and rendered once
//! at the edge (codespan for people, JSON for machines).

use crate::codes;
use crate::source::{Sources, Span};
use codespan_reporting::diagnostic as cs;
use codespan_reporting::term;

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Severity {
    Error,
    Warning,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct Label {
    pub span: Span,
    pub message: String,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Diagnostic {
    pub code: &'static str,
    pub severity: Severity,
    pub message: String,
    pub primary: Label,
    pub secondary: Vec<Label>,
    pub notes: Vec<String>,
    pub help: Option<String>,
}

impl Diagnostic {
    /// A diagnostic whose severity follows its code (`E…` error, `W…` warning).
    pub fn new(code: &'static str, message: impl Into<String>, span: Span, label: impl Into<String>) -> Diagnostic {
        debug_assert!(codes::lookup(code).is_some(), "unregistered diagnostic code {code}");
        let severity = if code.starts_with('W') { Severity::Warning } else { Severity::Error };
        Diagnostic {
            code,
            severity,
            message: message.into(),
            primary: Label { span, message: label.into() },
            secondary: Vec::new(),
            notes: Vec::new(),
            help: None,
        }
    }

    pub fn label(mut self, span: Span, message: impl Into<String>) -> Diagnostic {
        self.secondary.push(Label { span, message: message.into() });
        self
    }

    pub fn note(mut self, note: impl Into<String>) -> Diagnostic {
        self.notes.push(note.into());
        self
    }

    pub fn help(mut self, help: impl Into<String>) -> Diagnostic {
        self.help = Some(help.into());
        self
    }

    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }

    fn to_codespan(&self) -> cs::Diagnostic<crate::source::FileId> {
        let severity = match self.severity {
            Severity::Error => cs::Severity::Error,
            Severity::Warning => cs::Severity::Warning,
        };
        let mut labels = vec![cs::Label::primary(self.primary.span.file, self.primary.span.range())
            .with_message(self.primary.message.clone())];
        for l in &self.secondary {
            labels.push(cs::Label::secondary(l.span.file, l.span.range()).with_message(l.message.clone()));
        }
        let mut notes = self.notes.clone();
        if let Some(help) = &self.help {
            notes.push(format!("help: {help}"));
        }
        cs::Diagnostic::new(severity)
            .with_code(self.code)
            .with_message(self.message.clone())
            .with_labels(labels)
            .with_notes(notes)
    }
}

/// Sorts diagnostics into a stable order: by file, position, then code.
pub fn sort(diags: &mut [Diagnostic]) {
    diags.sort_by(|a, b| (a.primary.span, a.code, &a.message).cmp(&(b.primary.span, b.code, &b.message)));
}

/// Renders diagnostics for a person. `color` adds ANSI colours.
pub fn render_human(sources: &Sources, diags: &[Diagnostic], color: bool) -> String {
    use codespan_reporting::term::termcolor::{Buffer, WriteColor};
    let config = term::Config::default();
    let mut buffer = if color { Buffer::ansi() } else { Buffer::no_color() };
    for d in diags {
        // A rendering failure can only come from a span outside its file, which
        // would be a bug; fall back to the one-line form rather than lose it.
        if term::emit_to_write_style(&mut buffer, &config, sources, &d.to_codespan()).is_err() {
            let _ = std::io::Write::write_fmt(
                &mut buffer,
                format_args!("{}[{}]: {}\n", d.severity.as_str(), d.code, d.message),
            );
        }
    }
    let _ = buffer.reset();
    String::from_utf8_lossy(buffer.as_slice()).into_owned()
}

/// Counts of errors and warnings, as printed after a run.
pub fn summary(diags: &[Diagnostic]) -> (usize, usize) {
    let errors = diags.iter().filter(|d| d.is_error()).count();
    (errors, diags.len() - errors)
}
