//! Can data written with one Avro schema be read with another?
//!
//! Schemas are parsed with the `apache-avro` crate; the verdicts are computed
//! here. The crate's own `schema_compatibility` follows Java's stricter rules
//! and misses aliases on renamed named types and references (`Schema::Ref`)
//! whose definition sits elsewhere, so it matches neither rule set below.
//!
//! * [`Rules::Broker`] is what Pulsar's broker accepts for AVRO and JSON
//!   schemas. Its validator builds Avro's resolving grammar (Java `Resolver`)
//!   and rejects only error actions, so: reader aliases rename the writer's
//!   types and fields first; record names are not compared; enum and fixed
//!   names are compared unqualified; a writer enum symbol the reader lacks is
//!   accepted (a message carrying it fails to decode, reported as a warning);
//!   a non-union writer picks a reader union branch of the same type (named
//!   types by full name, records also by structure), else by promotion.
//! * [`Rules::Strict`] is Java's `SchemaCompatibility`, what most registries
//!   use: record names are compared too (unqualified, or a reader alias naming
//!   the writer's full name), a lost enum symbol is an error unless the reader
//!   enum has a default, and any compatible reader union branch will do.
//!
//! Both ignore logical types (a decimal's precision is not checked) and
//! allow the spec's promotions: int to long, float or double; long to float
//! or double; float to double; string to bytes and back.
//!
//! A problem's path names where it is, from the root (the empty path):
//! `field address.zip`, `field orders, array items`, `map values`,
//! `union branch 0` (a writer union's branch, counted from 0 as Avro encodes
//! it), `reader union branch 1` (the reader branch the data would go to),
//! `enum Tier symbol bronze`.

use std::collections::{HashMap, HashSet};
use std::fmt;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::ptr;
use std::sync::Once;

use apache_avro::error::Details;
use apache_avro::schema::{
    Aliases, DecimalSchema, EnumSchema, FixedSchema, InnerDecimalSchema, Name, RecordField, RecordSchema, UnionSchema,
    UuidSchema,
};
use apache_avro::validator::{SchemaNameValidator, SchemaNamespaceValidator};
use apache_avro::{AvroResult, Schema};

/// Which implementation's verdict to reproduce.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Rules {
    /// Pulsar's broker (Avro's resolver, as its schema validator uses it).
    Broker,
    /// Java `org.apache.avro.SchemaCompatibility`.
    Strict,
}

/// One problem, where it is and what it is.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Incompatibility {
    /// Where, e.g. `field address.zip`; empty for the schemas' roots.
    pub path: String,
    /// What, e.g. `writer type string cannot be read as double`.
    pub message: String,
}

impl fmt::Display for Incompatibility {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.path.is_empty() {
            f.write_str(&self.message)
        } else {
            write!(f, "{}: {}", self.path, self.message)
        }
    }
}

/// A compatible pair, possibly with warnings (data that the broker accepts
/// but that fails when a message is decoded).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Verdict {
    pub warnings: Vec<Incompatibility>,
}

/// Parses any Avro schema in its JSON form: a primitive name, a record,
/// enum, fixed, array, map or union. The error is worded for users.
pub fn parse(json: &serde_json::Value) -> Result<Schema, String> {
    allow_java_names();
    // The parser is third-party code fed with user files: should it ever
    // panic, that is a bad schema to report, not a compiler crash.
    match catch_unwind(AssertUnwindSafe(|| Schema::parse(json))) {
        Ok(Ok(schema)) => Ok(schema),
        // A name the parser cannot place is usually a named type used before
        // (or without) its definition, not a misspelt primitive.
        Ok(Err(error)) => Err(match error.details() {
            Details::ParsePrimitive(name) => {
                format!("invalid Avro schema: unknown type {name}: not a primitive, nor a named type defined before it")
            }
            _ => format!("invalid Avro schema: {error}"),
        }),
        Err(_) => Err("invalid Avro schema: the Avro parser could not read it".to_string()),
    }
}

/// Can data written with `writer` be read with `reader`?
pub fn can_read(writer: &Schema, reader: &Schema, rules: Rules) -> Result<Verdict, Incompatibility> {
    // Pulsar registers an identical schema without any check; Avro's alias
    // rewriting is skipped for identical schemas too.
    if identical(writer, reader) {
        return Ok(Verdict::default());
    }
    let mut checker = Checker::new(writer, reader, rules);
    let outcome = match (checker.writer.node(writer), checker.reader.node(reader)) {
        (Ok(w), Ok(r)) => checker.resolve(w, r),
        (Err(problem), _) | (_, Err(problem)) => Err(problem),
    };
    match outcome {
        Ok(warnings) => Ok(Verdict { warnings: public(warnings) }),
        Err(problem) => Err(problem.into_public()),
    }
}

/// Both directions: `b` reads data written with `a`, and `a` reads data
/// written with `b` (Pulsar's FULL strategy). A problem found in the second
/// direction says so in its message.
pub fn mutual(a: &Schema, b: &Schema, rules: Rules) -> Result<Verdict, Incompatibility> {
    let mut verdict = can_read(a, b, rules)?;
    let reverse = can_read(b, a, rules).map_err(|mut problem| {
        problem.message.push_str(" (data written with the second schema, read with the first)");
        problem
    })?;
    for warning in reverse.warnings {
        if !verdict.warnings.contains(&warning) {
            verdict.warnings.push(warning);
        }
    }
    Ok(verdict)
}

fn identical(a: &Schema, b: &Schema) -> bool {
    // `Schema`'s own equality compares canonical forms, which drop aliases
    // and defaults; identical means identical JSON.
    match (serde_json::to_value(a), serde_json::to_value(b)) {
        (Ok(a), Ok(b)) => a == b,
        _ => false,
    }
}

// ---------------------------------------------------------------------------
// Names: Pulsar's parser accepts `$` in names (Java nested classes produce
// namespaces such as `com.acme.Outer$`); the crate's default validator does not.

struct JavaNames;

impl SchemaNameValidator for JavaNames {
    fn validate(&self, name: &str) -> AvroResult<usize> {
        let start = name.rfind('.').map_or(0, |dot| dot + 1);
        let namespace = &name[..start.saturating_sub(1)];
        if java_identifier(&name[start..]) && valid_namespace(namespace) {
            Ok(start)
        } else {
            Err(Details::InvalidSchemaName(name.to_string(), NAME_PATTERN).into())
        }
    }
}

impl SchemaNamespaceValidator for JavaNames {
    fn validate(&self, namespace: &str) -> AvroResult<()> {
        if valid_namespace(namespace) {
            Ok(())
        } else {
            Err(Details::InvalidNamespace(namespace.to_string(), NAMESPACE_PATTERN).into())
        }
    }
}

const NAME_PATTERN: &str = r"^(([A-Za-z_$][A-Za-z0-9_$]*)(\.[A-Za-z_$][A-Za-z0-9_$]*)*\.)?[A-Za-z_$][A-Za-z0-9_$]*$";
const NAMESPACE_PATTERN: &str = r"^([A-Za-z_$][A-Za-z0-9_$]*(\.[A-Za-z_$][A-Za-z0-9_$]*)*)?$";

fn java_identifier(s: &str) -> bool {
    let mut chars = s.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_' || c == '$')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '$')
}

fn valid_namespace(namespace: &str) -> bool {
    namespace.is_empty() || namespace.split('.').all(java_identifier)
}

fn allow_java_names() {
    static INSTALL: Once = Once::new();
    INSTALL.call_once(|| {
        // Setting fails only if the crate already chose its default, i.e. a
        // schema was parsed elsewhere first; then names keep the spec's rules.
        let _ = apache_avro::validator::set_schema_name_validator(Box::new(JavaNames));
        let _ = apache_avro::validator::set_schema_namespace_validator(Box::new(JavaNames));
    });
}

// ---------------------------------------------------------------------------
// Problems and their paths.

/// One step of a path, from a schema to a part of it.
#[derive(Clone, Debug)]
enum Step {
    Field(String),
    ArrayItems,
    MapValues,
    WriterBranch(usize),
    ReaderBranch(usize),
    EnumSymbol { enum_name: String, symbol: String },
}

/// A problem with its path relative to the pair being resolved; callers
/// prepend their step as it travels up, so a memoised result can be reused
/// under any path.
#[derive(Clone, Debug)]
struct Problem {
    path: Vec<Step>,
    message: String,
}

impl Problem {
    fn new(message: impl Into<String>) -> Self {
        Problem { path: Vec::new(), message: message.into() }
    }

    fn at(step: Step, message: impl Into<String>) -> Self {
        Problem { path: vec![step], message: message.into() }
    }

    fn under(mut self, step: Step) -> Self {
        self.path.insert(0, step);
        self
    }

    fn into_public(self) -> Incompatibility {
        Incompatibility { path: render(&self.path), message: self.message }
    }
}

/// Consecutive fields join with dots (`field address.zip`), other steps
/// follow with commas (`field orders, array items, field qty`).
fn render(path: &[Step]) -> String {
    let mut parts = Vec::new();
    let mut fields: Vec<&str> = Vec::new();
    for step in path {
        if let Step::Field(name) = step {
            fields.push(name);
            continue;
        }
        if !fields.is_empty() {
            parts.push(format!("field {}", fields.join(".")));
            fields.clear();
        }
        parts.push(match step {
            Step::ArrayItems => "array items".to_string(),
            Step::MapValues => "map values".to_string(),
            Step::WriterBranch(i) => format!("union branch {i}"),
            Step::ReaderBranch(i) => format!("reader union branch {i}"),
            Step::EnumSymbol { enum_name, symbol } => format!("enum {enum_name} symbol {symbol}"),
            Step::Field(_) => unreachable!("fields are gathered above"),
        });
    }
    if !fields.is_empty() {
        parts.push(format!("field {}", fields.join(".")));
    }
    parts.join(", ")
}

/// Compatible with these warnings, or the first problem.
type Outcome = Result<Vec<Problem>, Problem>;

fn prefixed(outcome: Outcome, step: Step) -> Outcome {
    match outcome {
        Ok(warnings) => Ok(warnings.into_iter().map(|w| w.under(step.clone())).collect()),
        Err(problem) => Err(problem.under(step)),
    }
}

/// A type shared by many fields repeats its warnings once per path; past
/// this many the rest say nothing new.
const MAX_WARNINGS: usize = 100;

fn merge(into: &mut Vec<Problem>, more: Vec<Problem>) {
    into.extend(more);
    into.truncate(MAX_WARNINGS);
}

fn public(warnings: Vec<Problem>) -> Vec<Incompatibility> {
    let mut seen = HashSet::new();
    warnings.into_iter().map(Problem::into_public).filter(|w| seen.insert(w.clone())).collect()
}

// ---------------------------------------------------------------------------
// Schemas as the resolver sees them: logical types dropped, references resolved.

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Null,
    Boolean,
    Int,
    Long,
    Float,
    Double,
    Bytes,
    String,
    Array,
    Map,
    Union,
    Record,
    Enum,
    Fixed,
}

#[derive(Clone, Copy)]
enum Node<'a> {
    /// A primitive, with the logical type it carried (for messages only).
    Primitive(Kind, Option<&'static str>),
    Array(&'a Schema),
    Map(&'a Schema),
    Union(&'a UnionSchema),
    Record(&'a RecordSchema),
    Enum(&'a EnumSchema),
    Fixed(&'a FixedSchema),
}

impl<'a> Node<'a> {
    fn kind(self) -> Kind {
        match self {
            Node::Primitive(kind, _) => kind,
            Node::Array(_) => Kind::Array,
            Node::Map(_) => Kind::Map,
            Node::Union(_) => Kind::Union,
            Node::Record(_) => Kind::Record,
            Node::Enum(_) => Kind::Enum,
            Node::Fixed(_) => Kind::Fixed,
        }
    }

    fn name(self) -> Option<&'a Name> {
        match self {
            Node::Record(r) => Some(&r.name),
            Node::Enum(e) => Some(&e.name),
            Node::Fixed(f) => Some(&f.name),
            _ => None,
        }
    }

    fn aliases(self) -> &'a Aliases {
        static NONE: Aliases = None;
        match self {
            Node::Record(r) => &r.aliases,
            Node::Enum(e) => &e.aliases,
            Node::Fixed(f) => &f.aliases,
            _ => &NONE,
        }
    }

    /// For messages: `int`, `long (timestamp-millis)`, `array`, `record com.acme.User`, `fixed Hash(16)`.
    fn describe(self) -> String {
        match self {
            Node::Primitive(kind, None) => kind_label(kind).to_string(),
            Node::Primitive(kind, Some(logical)) => format!("{} ({logical})", kind_label(kind)),
            Node::Array(_) => "array".to_string(),
            Node::Map(_) => "map".to_string(),
            Node::Union(_) => "union".to_string(),
            Node::Record(r) => format!("record {}", full(&r.name)),
            Node::Enum(e) => format!("enum {}", full(&e.name)),
            Node::Fixed(f) => format!("fixed {}({})", full(&f.name), f.size),
        }
    }
}

fn kind_label(kind: Kind) -> &'static str {
    match kind {
        Kind::Null => "null",
        Kind::Boolean => "boolean",
        Kind::Int => "int",
        Kind::Long => "long",
        Kind::Float => "float",
        Kind::Double => "double",
        Kind::Bytes => "bytes",
        Kind::String => "string",
        Kind::Array => "array",
        Kind::Map => "map",
        Kind::Union => "union",
        Kind::Record => "record",
        Kind::Enum => "enum",
        Kind::Fixed => "fixed",
    }
}

fn full(name: &Name) -> String {
    name.fullname(None)
}

fn unqualified(full_name: &str) -> &str {
    full_name.rsplit('.').next().unwrap_or(full_name)
}

/// The spec's promotions (same kinds excluded).
fn promotes(writer: Kind, reader: Kind) -> bool {
    use Kind::*;
    matches!(
        (writer, reader),
        (Int, Long | Float | Double) | (Long, Float | Double) | (Float, Double) | (String, Bytes) | (Bytes, String)
    )
}

/// Calls `visit` on every named type a schema defines (records, enums,
/// fixed, including the fixed under decimal, uuid and duration).
fn each_definition<'a>(schema: &'a Schema, visit: &mut dyn FnMut(Node<'a>)) {
    match schema {
        Schema::Record(record) => {
            visit(Node::Record(record));
            for field in &record.fields {
                each_definition(&field.schema, visit);
            }
        }
        Schema::Enum(e) => visit(Node::Enum(e)),
        Schema::Fixed(fixed)
        | Schema::Duration(fixed)
        | Schema::Uuid(UuidSchema::Fixed(fixed))
        | Schema::Decimal(DecimalSchema { inner: InnerDecimalSchema::Fixed(fixed), .. }) => visit(Node::Fixed(fixed)),
        Schema::Array(array) => each_definition(&array.items, visit),
        Schema::Map(map) => each_definition(&map.types, visit),
        Schema::Union(union) => {
            for branch in union.variants() {
                each_definition(branch, visit);
            }
        }
        _ => {}
    }
}

/// The named types one schema defines, by full name and by alias: the
/// parser writes a type out where it first appears and a `Schema::Ref`
/// everywhere else (including recursive uses), by either name.
struct Definitions<'a> {
    by_name: HashMap<String, Node<'a>>,
    side: &'static str,
}

impl<'a> Definitions<'a> {
    fn of(schema: &'a Schema, side: &'static str) -> Self {
        let mut by_name = HashMap::new();
        each_definition(schema, &mut |node| {
            if let Some(name) = node.name() {
                by_name.entry(full(name)).or_insert(node);
            }
            for alias in node.aliases().iter().flatten() {
                by_name.entry(alias.fullname(None)).or_insert(node);
            }
        });
        Definitions { by_name, side }
    }

    fn node(&self, schema: &'a Schema) -> Result<Node<'a>, Problem> {
        Ok(match schema {
            Schema::Null => Node::Primitive(Kind::Null, None),
            Schema::Boolean => Node::Primitive(Kind::Boolean, None),
            Schema::Int => Node::Primitive(Kind::Int, None),
            Schema::Date => Node::Primitive(Kind::Int, Some("date")),
            Schema::TimeMillis => Node::Primitive(Kind::Int, Some("time-millis")),
            Schema::Long => Node::Primitive(Kind::Long, None),
            Schema::TimeMicros => Node::Primitive(Kind::Long, Some("time-micros")),
            Schema::TimestampMillis => Node::Primitive(Kind::Long, Some("timestamp-millis")),
            Schema::TimestampMicros => Node::Primitive(Kind::Long, Some("timestamp-micros")),
            Schema::TimestampNanos => Node::Primitive(Kind::Long, Some("timestamp-nanos")),
            Schema::LocalTimestampMillis => Node::Primitive(Kind::Long, Some("local-timestamp-millis")),
            Schema::LocalTimestampMicros => Node::Primitive(Kind::Long, Some("local-timestamp-micros")),
            Schema::LocalTimestampNanos => Node::Primitive(Kind::Long, Some("local-timestamp-nanos")),
            Schema::Float => Node::Primitive(Kind::Float, None),
            Schema::Double => Node::Primitive(Kind::Double, None),
            Schema::Bytes => Node::Primitive(Kind::Bytes, None),
            Schema::BigDecimal => Node::Primitive(Kind::Bytes, Some("big-decimal")),
            Schema::Uuid(UuidSchema::Bytes) => Node::Primitive(Kind::Bytes, Some("uuid")),
            Schema::Decimal(DecimalSchema { inner: InnerDecimalSchema::Bytes, .. }) => {
                Node::Primitive(Kind::Bytes, Some("decimal"))
            }
            Schema::String => Node::Primitive(Kind::String, None),
            Schema::Uuid(UuidSchema::String) => Node::Primitive(Kind::String, Some("uuid")),
            Schema::Array(array) => Node::Array(&array.items),
            Schema::Map(map) => Node::Map(&map.types),
            Schema::Union(union) => Node::Union(union),
            Schema::Record(record) => Node::Record(record),
            Schema::Enum(e) => Node::Enum(e),
            Schema::Fixed(fixed)
            | Schema::Duration(fixed)
            | Schema::Uuid(UuidSchema::Fixed(fixed))
            | Schema::Decimal(DecimalSchema { inner: InnerDecimalSchema::Fixed(fixed), .. }) => Node::Fixed(fixed),
            Schema::Ref { name } => *self.by_name.get(&full(name)).ok_or_else(|| {
                Problem::new(format!("the {} schema refers to {}, which it does not define", self.side, full(name)))
            })?,
        })
    }
}

/// The reader's aliases, applied to the writer's names as Avro's
/// `Schema.applyAliases` does before resolving: a writer type whose full
/// name is a reader alias takes that reader type's name, and a writer field
/// takes a reader field's name where that field lists it as an alias. Field
/// aliases are looked up under the writer record's (renamed) full name, so
/// they apply only where the reader record has that name or alias.
#[derive(Default)]
struct ReaderAliases {
    types: HashMap<String, String>,
    fields: HashMap<String, HashMap<String, String>>,
}

impl ReaderAliases {
    fn of(reader: &Schema) -> Self {
        let mut aliases = ReaderAliases::default();
        each_definition(reader, &mut |node| {
            let Some(name) = node.name() else { return };
            let reader_name = full(name);
            let type_aliases: Vec<String> = node.aliases().iter().flatten().map(|a| a.fullname(None)).collect();
            for alias in &type_aliases {
                aliases.types.insert(alias.clone(), reader_name.clone());
            }
            let Node::Record(record) = node else { return };
            let renames: HashMap<String, String> = record
                .fields
                .iter()
                .flat_map(|field| field.aliases.iter().map(|alias| (alias.clone(), field.name.clone())))
                .collect();
            if renames.is_empty() {
                return;
            }
            for alias in type_aliases {
                aliases.fields.insert(alias, renames.clone());
            }
            aliases.fields.insert(reader_name, renames);
        });
        aliases
    }

    fn type_name<'n>(&'n self, writer_full_name: &'n str) -> &'n str {
        self.types.get(writer_full_name).map_or(writer_full_name, String::as_str)
    }

    fn field_name<'n>(&'n self, writer_record: &str, writer_field: &'n str) -> &'n str {
        self.fields
            .get(writer_record)
            .and_then(|renames| renames.get(writer_field))
            .map_or(writer_field, String::as_str)
    }
}

/// Which reader fields the writer supplies, and a reader field it does not
/// that has no default (the first such).
struct FieldMatch<'a> {
    pairs: Vec<(&'a RecordField, &'a RecordField)>,
    missing: Option<&'a RecordField>,
}

type RecordPair = (*const RecordSchema, *const RecordSchema);

struct Checker<'a> {
    rules: Rules,
    writer: Definitions<'a>,
    reader: Definitions<'a>,
    aliases: ReaderAliases,
    /// Record pairs under way (`None`) or done. A pair met again while under
    /// way is taken as compatible, which is how recursive types end (both
    /// Java implementations do the same).
    records: HashMap<RecordPair, Option<Outcome>>,
    /// Broker only: whether a record pair has a "match error" in the shallow
    /// sense Avro uses to pick a reader union branch by structure.
    structure: HashMap<RecordPair, Option<bool>>,
}

impl<'a> Checker<'a> {
    fn new(writer: &'a Schema, reader: &'a Schema, rules: Rules) -> Self {
        Checker {
            rules,
            writer: Definitions::of(writer, "writer"),
            reader: Definitions::of(reader, "reader"),
            aliases: if rules == Rules::Broker { ReaderAliases::of(reader) } else { ReaderAliases::default() },
            records: HashMap::new(),
            structure: HashMap::new(),
        }
    }

    fn resolve(&mut self, w: Node<'a>, r: Node<'a>) -> Outcome {
        match (w, r) {
            // Every branch the writer may have used must be readable.
            (Node::Union(union), _) => {
                let mut warnings = Vec::new();
                for (i, branch) in union.variants().iter().enumerate() {
                    let branch = self.writer.node(branch).map_err(|p| p.under(Step::WriterBranch(i)))?;
                    merge(&mut warnings, prefixed(self.resolve(branch, r), Step::WriterBranch(i))?);
                }
                Ok(warnings)
            }
            (Node::Array(w), Node::Array(r)) => self.child(w, r, Step::ArrayItems),
            (Node::Map(w), Node::Map(r)) => self.child(w, r, Step::MapValues),
            (Node::Record(w), Node::Record(r)) => self.records(w, r),
            (Node::Enum(w), Node::Enum(r)) => self.enums(w, r),
            (Node::Fixed(w), Node::Fixed(r)) => self.fixed(w, r),
            (_, Node::Union(union)) => match self.rules {
                Rules::Broker => self.broker_reader_union(w, union),
                Rules::Strict => self.strict_reader_union(w, union),
            },
            _ if w.kind() == r.kind() || promotes(w.kind(), r.kind()) => Ok(Vec::new()),
            _ => Err(Problem::new(format!("writer type {} cannot be read as {}", w.describe(), r.describe()))),
        }
    }

    fn child(&mut self, w: &'a Schema, r: &'a Schema, step: Step) -> Outcome {
        let outcome = match (self.writer.node(w), self.reader.node(r)) {
            (Ok(w), Ok(r)) => self.resolve(w, r),
            (Err(problem), _) | (_, Err(problem)) => Err(problem),
        };
        prefixed(outcome, step)
    }

    /// Do a writer and a reader named type have matching names? The broker
    /// compares unqualified names after renaming by reader aliases; Java
    /// compares unqualified names or looks for the writer's full name among
    /// the reader's aliases.
    fn names_match(&self, w: &Name, r: &Name, reader_aliases: &Aliases) -> bool {
        let writer_full = full(w);
        match self.rules {
            Rules::Broker => unqualified(self.aliases.type_name(&writer_full)) == r.name(),
            Rules::Strict => {
                w.name() == r.name() || reader_aliases.iter().flatten().any(|a| a.fullname(None) == writer_full)
            }
        }
    }

    fn records(&mut self, w: &'a RecordSchema, r: &'a RecordSchema) -> Outcome {
        let key = (ptr::from_ref(w), ptr::from_ref(r));
        match self.records.get(&key) {
            Some(None) => return Ok(Vec::new()),
            Some(Some(done)) => return done.clone(),
            None => {}
        }
        self.records.insert(key, None);
        let outcome = self.record_fields(w, r);
        self.records.insert(key, Some(outcome.clone()));
        outcome
    }

    fn record_fields(&mut self, w: &'a RecordSchema, r: &'a RecordSchema) -> Outcome {
        // The broker's resolver leaves record names alone (a known leniency).
        if self.rules == Rules::Strict && !self.names_match(&w.name, &r.name, &r.aliases) {
            return Err(Problem::new(format!(
                "writer record {} does not match reader record {}: the names differ and no reader alias names it",
                full(&w.name),
                full(&r.name)
            )));
        }
        let matched = self.match_fields(w, r);
        let mut warnings = Vec::new();
        for (wf, rf) in matched.pairs {
            merge(&mut warnings, self.child(&wf.schema, &rf.schema, Step::Field(rf.name.clone()))?);
        }
        if let Some(missing) = matched.missing {
            return Err(Problem::at(
                Step::Field(missing.name.clone()),
                format!("reader field {} has no default and the writer has no such field", missing.name),
            ));
        }
        Ok(warnings)
    }

    fn match_fields(&self, w: &'a RecordSchema, r: &'a RecordSchema) -> FieldMatch<'a> {
        let mut pairs = Vec::new();
        match self.rules {
            // Writer fields, renamed by the reader's field aliases, found by
            // exact name; the rest are skipped.
            Rules::Broker => {
                let writer_record = full(&w.name);
                let writer_record = self.aliases.type_name(&writer_record);
                for wf in &w.fields {
                    let name = self.aliases.field_name(writer_record, &wf.name);
                    if let Some(rf) = r.fields.iter().find(|rf| rf.name == name) {
                        pairs.push((wf, rf));
                    }
                }
            }
            // Each reader field finds a writer field by its name, then by
            // its aliases.
            Rules::Strict => {
                for rf in &r.fields {
                    let by_name = w.fields.iter().find(|wf| wf.name == rf.name);
                    let by_alias = || rf.aliases.iter().find_map(|alias| w.fields.iter().find(|wf| &wf.name == alias));
                    if let Some(wf) = by_name.or_else(by_alias) {
                        pairs.push((wf, rf));
                    }
                }
            }
        }
        let missing = r.fields.iter().find(|rf| rf.default.is_none() && !pairs.iter().any(|(_, p)| ptr::eq(*p, *rf)));
        FieldMatch { pairs, missing }
    }

    fn enums(&self, w: &'a EnumSchema, r: &'a EnumSchema) -> Outcome {
        if !self.names_match(&w.name, &r.name, &r.aliases) {
            return Err(Problem::new(format!(
                "writer enum {} does not match reader enum {}",
                full(&w.name),
                full(&r.name)
            )));
        }
        // A reader default takes every symbol it lacks.
        if r.default.is_some() {
            return Ok(Vec::new());
        }
        let reader_name = r.name.name().to_string();
        let mut lost = w.symbols.iter().filter(|symbol| !r.symbols.contains(symbol)).map(|symbol| {
            let step = Step::EnumSymbol { enum_name: reader_name.clone(), symbol: symbol.clone() };
            (step, format!("writer symbol {symbol} is missing from reader enum {reader_name}, which has no default"))
        });
        match self.rules {
            Rules::Strict => match lost.next() {
                Some((step, message)) => Err(Problem::at(step, message)),
                None => Ok(Vec::new()),
            },
            Rules::Broker => Ok(lost
                .map(|(step, message)| {
                    Problem::at(
                        step,
                        format!("{message}: the broker accepts it, but a message carrying it fails to decode"),
                    )
                })
                .take(MAX_WARNINGS)
                .collect()),
        }
    }

    fn fixed(&self, w: &'a FixedSchema, r: &'a FixedSchema) -> Outcome {
        if !self.names_match(&w.name, &r.name, &r.aliases) {
            return Err(Problem::new(format!(
                "writer fixed {} does not match reader fixed {}",
                full(&w.name),
                full(&r.name)
            )));
        }
        if w.size != r.size {
            return Err(Problem::new(format!(
                "writer fixed {} has size {}, the reader's has size {}",
                full(&w.name),
                w.size,
                r.size
            )));
        }
        Ok(Vec::new())
    }

    /// Java's rule: a non-union writer is compatible with a reader union if
    /// any branch can read it.
    fn strict_reader_union(&mut self, w: Node<'a>, union: &'a UnionSchema) -> Outcome {
        // Why the closest branch fails explains best: one of the writer's own
        // type, preferably with its unqualified name.
        let mut closest: Option<(bool, Problem)> = None;
        for (i, branch) in union.variants().iter().enumerate() {
            let branch = self.reader.node(branch).map_err(|p| p.under(Step::ReaderBranch(i)))?;
            match self.resolve(w, branch) {
                Ok(warnings) => return prefixed(Ok(warnings), Step::ReaderBranch(i)),
                Err(problem) if branch.kind() == w.kind() => {
                    let same_name = w.name().map(Name::name) == branch.name().map(Name::name);
                    if closest.as_ref().is_none_or(|(had_name, _)| same_name && !had_name) {
                        closest = Some((same_name, problem.under(Step::ReaderBranch(i))));
                    }
                }
                Err(_) => {}
            }
        }
        Err(closest.map_or_else(|| no_branch(w), |(_, problem)| problem))
    }

    /// The broker's rule: the data goes to one reader branch, chosen as Avro's
    /// `Resolver` does, and must be readable there.
    fn broker_reader_union(&mut self, w: Node<'a>, union: &'a UnionSchema) -> Outcome {
        if let Some(i) = self.first_matching_branch(w, union)? {
            let branch = self.reader.node(&union.variants()[i]).map_err(|p| p.under(Step::ReaderBranch(i)))?;
            return prefixed(self.resolve(w, branch), Step::ReaderBranch(i));
        }
        // No branch: explain with the branch of the writer's own type, if any.
        for (i, branch) in union.variants().iter().enumerate() {
            let branch = self.reader.node(branch).map_err(|p| p.under(Step::ReaderBranch(i)))?;
            if branch.kind() != w.kind() {
                continue;
            }
            if let Node::Record(_) = w {
                if let Err(problem) = self.resolve(w, branch) {
                    return Err(problem.under(Step::ReaderBranch(i)));
                }
            } else if branch.name().is_some() {
                return Err(Problem::new(format!(
                    "no branch of the reader union can read writer {}: the broker picks a branch of a named type \
                     by full name, and reader branch {i} is {}",
                    w.describe(),
                    branch.describe(),
                )));
            }
        }
        Err(no_branch(w))
    }

    /// Avro `Resolver`'s choice of reader union branch for a non-union
    /// writer: the first branch of the same type (for a named type, the one
    /// with the writer's full name; for a record, failing that, a branch it
    /// matches structurally, preferring the same unqualified name), else the
    /// first branch the writer's type promotes to.
    fn first_matching_branch(&mut self, w: Node<'a>, union: &'a UnionSchema) -> Result<Option<usize>, Problem> {
        let branches = union.variants().iter().map(|branch| self.reader.node(branch)).collect::<Result<Vec<_>, _>>()?;
        let writer_name = w.name().map(|name| self.aliases.type_name(&full(name)).to_string());
        let mut structure_match = None;
        for (j, &branch) in branches.iter().enumerate() {
            if branch.kind() != w.kind() {
                continue;
            }
            let Some(writer_name) = &writer_name else { return Ok(Some(j)) };
            let branch_name = branch.name().map(full);
            if branch_name.as_deref() == Some(writer_name.as_str()) {
                return Ok(Some(j));
            }
            if let (Node::Record(wr), Node::Record(br)) = (w, branch) {
                if !self.has_match_error(wr, br)?
                    && (structure_match.is_none() || unqualified(writer_name) == br.name.name())
                {
                    structure_match = Some(j);
                }
            }
        }
        if structure_match.is_some() {
            return Ok(structure_match);
        }
        Ok(branches.iter().position(|branch| promotes(w.kind(), branch.kind())))
    }

    /// Avro's shallow test for a structural record match: the reader misses
    /// no required field and no field pair fails outright (deeper problems
    /// do not count).
    fn has_match_error(&mut self, w: &'a RecordSchema, r: &'a RecordSchema) -> Result<bool, Problem> {
        let key = (ptr::from_ref(w), ptr::from_ref(r));
        match self.structure.get(&key) {
            Some(Some(known)) => return Ok(*known),
            // Under way: as in Avro, the partial answer has no error yet.
            Some(None) => return Ok(false),
            None => {}
        }
        self.structure.insert(key, None);
        let matched = self.match_fields(w, r);
        let mut error = matched.missing.is_some();
        for (wf, rf) in matched.pairs {
            if error {
                break;
            }
            let wn = self.writer.node(&wf.schema)?;
            let rn = self.reader.node(&rf.schema)?;
            error = self.fails_outright(wn, rn)?;
        }
        self.structure.insert(key, Some(error));
        Ok(error)
    }

    /// Does Avro's resolver turn this pair into an error action at once,
    /// without looking inside arrays, maps, writer unions or record fields?
    fn fails_outright(&mut self, w: Node<'a>, r: Node<'a>) -> Result<bool, Problem> {
        Ok(match (w, r) {
            (Node::Union(_), _) | (Node::Array(_), Node::Array(_)) | (Node::Map(_), Node::Map(_)) => false,
            (Node::Record(w), Node::Record(r)) => self.match_fields(w, r).missing.is_some(),
            (Node::Enum(w), Node::Enum(r)) => !self.names_match(&w.name, &r.name, &r.aliases),
            (Node::Fixed(w), Node::Fixed(r)) => !self.names_match(&w.name, &r.name, &r.aliases) || w.size != r.size,
            (_, Node::Union(union)) => self.first_matching_branch(w, union)?.is_none(),
            _ => !(w.kind() == r.kind() || promotes(w.kind(), r.kind())),
        })
    }
}

fn no_branch(w: Node<'_>) -> Problem {
    Problem::new(format!("no branch of the reader union can read writer type {}", w.describe()))
}

#[cfg(test)]
#[path = "avro_compat_tests.rs"]
mod tests;
