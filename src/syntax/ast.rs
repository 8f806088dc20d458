//! The untyped syntax tree. Every node carries the span it was parsed from.

use crate::source::{FileId, Span};

#[derive(Clone, Debug, PartialEq)]
pub struct Ident {
    pub name: String,
    pub span: Span,
}

/// `a`, `kafka::source`, `std::io::kafka`.
#[derive(Clone, Debug, PartialEq)]
pub struct Path {
    pub segments: Vec<Ident>,
    pub span: Span,
}

impl Path {
    pub fn is_single(&self) -> bool {
        self.segments.len() == 1
    }
    pub fn last(&self) -> &Ident {
        // A path always has at least one segment: the grammar requires it.
        &self.segments[self.segments.len() - 1]
    }
    pub fn joined(&self) -> String {
        self.segments.iter().map(|s| s.name.as_str()).collect::<Vec<_>>().join("::")
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct File {
    pub id: FileId,
    pub decls: Vec<Decl>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Annotation {
    pub name: Ident,
    pub args: Vec<Value>,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Decl {
    pub annotations: Vec<Annotation>,
    pub kind: DeclKind,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub enum DeclKind {
    Use(UseDecl),
    Pulsar(PulsarDecl),
    Defaults(Block),
    Schema(SchemaDecl),
    Topic(TopicDecl),
    Component(ComponentDecl),
    Pipeline(PipelineDecl),
    Let(LetDecl),
    Profile(ProfileDecl),
    Connector(ConnectorDecl),
}

#[derive(Clone, Debug, PartialEq)]
pub enum UseDecl {
    /// `use "./other.mesh"`
    File { path: String, span: Span },
    /// `use std::io::kafka` or `use std::io::{kafka, elasticsearch}`
    Module { path: Path, items: Vec<Ident> },
}

#[derive(Clone, Debug, PartialEq)]
pub struct PulsarDecl {
    pub name: Ident,
    pub body: Block,
}

#[derive(Clone, Debug, PartialEq)]
pub struct SchemaDecl {
    pub name: Ident,
    pub ty: TypeExpr,
}

#[derive(Clone, Debug, PartialEq)]
pub struct TopicDecl {
    pub name: Ident,
    pub ty: TypeExpr,
    pub compat: Option<Ident>,
    pub history: Option<(Vec<TypeExpr>, Span)>,
    pub external: Option<Span>,
    pub body: Option<Block>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ComponentKind {
    Source,
    Function,
    Sink,
}

impl ComponentKind {
    pub fn keyword(self) -> &'static str {
        match self {
            ComponentKind::Source => "source",
            ComponentKind::Function => "function",
            ComponentKind::Sink => "sink",
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct ComponentDecl {
    pub kind: ComponentKind,
    pub name: Ident,
    /// Input types of a function: `function f(Order) -> ...`.
    pub params: Vec<TypeExpr>,
    /// Output type of a function; `None` when there is no arrow.
    pub output: Option<TypeExpr>,
    /// `java("com.Class")`, `kafka::source`, `connector("com.Class")`.
    pub head: Path,
    pub head_args: Vec<Value>,
    pub body: Option<Block>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct PipelineDecl {
    pub name: Ident,
    pub chains: Vec<Chain>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Chain {
    pub steps: Vec<Endpoint>,
    pub span: Span,
}

/// One step of a chain: a single name or a fan-in / fan-out group `[a, b]`.
#[derive(Clone, Debug, PartialEq)]
pub struct Endpoint {
    pub names: Vec<Path>,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub struct LetDecl {
    pub name: Ident,
    pub value: Value,
}

#[derive(Clone, Debug, PartialEq)]
pub struct ProfileDecl {
    pub name: Ident,
    pub body: Block,
}

/// `connector source { class = "...", produces: bytes, config { ... } }`
#[derive(Clone, Debug, PartialEq)]
pub struct ConnectorDecl {
    pub name: Ident,
    /// Plain settings: `class`, `archive`, `builtin`, `type_class`, ...
    pub settings: Block,
    /// `produces: T` (sources) and `accepts: A | B` (sinks), with the keyword's span.
    pub produces: Option<(Vec<TypeExpr>, Span)>,
    pub accepts: Option<(Vec<TypeExpr>, Span)>,
    /// The typed configuration fields; `None` when the connector has no `config` block.
    pub config: Option<Vec<Field>>,
}

/// `{ key = value, nested { ... } }`
#[derive(Clone, Debug, PartialEq)]
pub struct Block {
    pub items: Vec<Item>,
    pub span: Span,
}

impl Block {
    pub fn get(&self, key: &str) -> Option<&Item> {
        self.items.iter().find(|i| i.key.name == key)
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct Item {
    /// The key; quoted keys (`"mongodb.hosts" = ...`) keep their text unquoted.
    pub key: Ident,
    pub quoted_key: bool,
    pub value: Value,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Value {
    pub kind: ValueKind,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub enum ValueKind {
    Str(String),
    Int(i64),
    /// The text is kept so that `1.10` stays `1.10` where a quantity is meant.
    Float(f64, String),
    Bool(bool),
    /// A number with a unit (`30s`, `500m`, `1Gi`); `number` is the text before the unit.
    Unit {
        number: String,
        unit: String,
    },
    Range(i64, i64),
    List(Vec<Value>),
    Map(Block),
    Call {
        callee: Path,
        args: Vec<Value>,
    },
    Ctor {
        path: Path,
        body: Block,
    },
    Path(Path),
}

impl ValueKind {
    /// What the value is, in words, for "expected X, found Y" messages.
    pub fn describe(&self) -> &'static str {
        match self {
            ValueKind::Str(_) => "a string",
            ValueKind::Int(_) => "an integer",
            ValueKind::Float(..) => "a number",
            ValueKind::Bool(_) => "a boolean",
            ValueKind::Unit { unit, .. } => match unit.as_str() {
                "ms" | "s" | "h" | "d" => "a duration",
                "m" => "a duration or quantity",
                _ => "a quantity",
            },
            ValueKind::Range(..) => "a range",
            ValueKind::List(_) => "a list",
            ValueKind::Map(_) => "a block",
            ValueKind::Call { .. } => "a call",
            ValueKind::Ctor { .. } => "a typed block",
            ValueKind::Path(_) => "a name",
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct TypeExpr {
    pub kind: TypeKind,
    pub optional: bool,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub enum TypeKind {
    /// A primitive type or a schema name: `string`, `Order`.
    Named(Path),
    /// `array<T>`, `map<T>`, `key_value<K, V>`.
    Generic {
        name: Ident,
        args: Vec<TypeExpr>,
    },
    /// `avro("file.avsc")`, `protobuf_native("f.proto", "pkg.M")`, `decimal(10, 2)`.
    Call {
        name: Ident,
        args: Vec<Value>,
    },
    /// `avro { ... }` / `json { ... }`: an inline record in a schema format.
    Struct {
        format: Ident,
        fields: Vec<Field>,
    },
    /// `record Address { ... }`: a named nested record.
    Record {
        name: Ident,
        fields: Vec<Field>,
    },
    Enum {
        name: Ident,
        symbols: Vec<Ident>,
    },
    Fixed {
        name: Ident,
        size: u64,
    },
}

#[derive(Clone, Debug, PartialEq)]
pub struct Field {
    pub annotations: Vec<Annotation>,
    pub name: Ident,
    pub ty: TypeExpr,
    pub default: Option<Value>,
    pub span: Span,
}
