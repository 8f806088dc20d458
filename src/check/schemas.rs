//! Schema expressions to `Schema`: primitive names, declared schemas,
//! `key_value<K, V>`, inline records (turned into Avro schema JSON) and
//! schema files next to the program.

use super::{Checker, SchemaState, Sym};
use crate::diag::Diagnostic;
use crate::schema::{Primitive, Schema, SchemaKind};
use crate::syntax::ast::{Annotation, Field, TypeExpr, TypeKind, ValueKind};
use serde_json::{json, Value as Json};
use std::collections::BTreeSet;

/// Avro primitive and logical types usable for record fields.
const FIELD_TYPES: &[&str] = &[
    "null",
    "boolean",
    "int",
    "long",
    "float",
    "double",
    "bytes",
    "string",
    "date",
    "time_millis",
    "time_micros",
    "timestamp_millis",
    "timestamp_micros",
    "local_timestamp_millis",
    "local_timestamp_micros",
    "uuid",
];

impl Checker<'_> {
    /// The schema a type expression names, or `None` after reporting why not.
    pub(crate) fn schema_of(&mut self, ty: &TypeExpr) -> Option<Schema> {
        if ty.optional {
            self.diags.push(Diagnostic::new(
                "E0501",
                "a topic or component schema cannot be optional",
                ty.span,
                "`?` is for record fields",
            ));
            return None;
        }
        match &ty.kind {
            TypeKind::Named(path) if path.is_single() => {
                let name = &path.segments[0];
                if let Some(p) = Primitive::from_name(&name.name) {
                    return Some(Schema::primitive(p));
                }
                if name.name == "auto_consume" {
                    return Some(Schema { kind: SchemaKind::AutoConsume, name: None, class_name: None });
                }
                if !self.names.contains_key(&name.name) {
                    let candidates: Vec<String> = Primitive::names()
                        .map(String::from)
                        .chain(
                            self.names.iter().filter(|(_, (s, _))| matches!(s, Sym::Schema(_))).map(|(n, _)| n.clone()),
                        )
                        .collect();
                    let mut d = Diagnostic::new(
                        "E0102",
                        format!("unknown schema `{}`", name.name),
                        name.span,
                        "not a schema type or a declared schema",
                    );
                    if let Some(s) = super::values::suggest(&name.name, candidates.iter().map(String::as_str)) {
                        d = d.help(format!("did you mean `{s}`?"));
                    }
                    if matches!(name.name.as_str(), "long" | "int") {
                        d = d
                            .help(format!("Pulsar calls it `{}`", if name.name == "long" { "int64" } else { "int32" }));
                    }
                    self.diags.push(d);
                    return None;
                }
                match self.lookup(name, "a schema", |s| matches!(s, Sym::Schema(_)))? {
                    Sym::Schema(i) => self.declared_schema(i, ty),
                    _ => None,
                }
            }
            TypeKind::Generic { name, args } if name.name == "key_value" => {
                if !(2..=3).contains(&args.len()) {
                    self.diags.push(
                        Diagnostic::new(
                            "E0501",
                            "`key_value` takes a key and a value schema",
                            ty.span,
                            "wrong number of arguments",
                        )
                        .help("write `key_value<string, Order>` or `key_value<string, Order, separated>`"),
                    );
                    return None;
                }
                let separated = match args.get(2).map(|a| &a.kind) {
                    None => false,
                    Some(TypeKind::Named(p)) if p.joined() == "separated" => true,
                    Some(TypeKind::Named(p)) if p.joined() == "inline" => false,
                    Some(_) => {
                        self.diags.push(Diagnostic::new(
                            "E0204",
                            "the key_value encoding is `inline` or `separated`",
                            args[2].span,
                            "unknown encoding",
                        ));
                        return None;
                    }
                };
                let key = self.schema_of(&args[0]);
                let value = self.schema_of(&args[1]);
                Some(Schema {
                    kind: SchemaKind::KeyValue { key: Box::new(key?), value: Box::new(value?), separated },
                    name: None,
                    class_name: None,
                })
            }
            TypeKind::Call { name, args } => self.schema_file(&name.name, args, ty),
            TypeKind::Struct { format, fields } => {
                let record = self.record_json(&format.name, "Record", fields, &mut BTreeSet::new())?;
                match format.name.as_str() {
                    "avro" => Some(Schema { kind: SchemaKind::Avro { schema: record }, name: None, class_name: None }),
                    "json" => Some(Schema { kind: SchemaKind::Json { schema: record }, name: None, class_name: None }),
                    other => {
                        self.diags.push(
                            Diagnostic::new(
                                "E0501",
                                format!("`{other} {{ ... }}` is not a schema format"),
                                format.span,
                                "expected `avro` or `json`",
                            )
                            .help("inline records are written `avro { field: type, ... }` or `json { ... }`"),
                        );
                        None
                    }
                }
            }
            _ => {
                self.diags.push(
                    Diagnostic::new("E0501", "this type cannot be a topic schema on its own", ty.span, "not a schema")
                        .help("wrap records, enums and arrays in a format: `avro { ... }`, `json { ... }`, or load an `.avsc` file with `avro(\"file.avsc\")`"),
                );
                None
            }
        }
    }

    pub(crate) fn declared_schema(&mut self, i: usize, use_ty: &TypeExpr) -> Option<Schema> {
        match self.schema_state[i].clone() {
            SchemaState::Done(s) => s,
            SchemaState::InProgress => {
                let name = &self.schemas[i].0.name;
                self.diags.push(
                    Diagnostic::new(
                        "E0504",
                        format!("schema `{}` is defined in terms of itself", name.name),
                        use_ty.span,
                        "refers back",
                    )
                    .label(name.span, "declared here"),
                );
                None
            }
            SchemaState::Unresolved => {
                self.schema_state[i] = SchemaState::InProgress;
                let (decl, annotations) = self.schemas[i];
                let mut schema = match &decl.ty.kind {
                    TypeKind::Struct { format, fields } => {
                        let mut defined = BTreeSet::new();
                        let ns = annotation_str(self, annotations, "namespace");
                        // `@name("Order")` keeps one record name across versions declared as OrderV1, OrderV2, ...
                        let record_name =
                            annotation_str(self, annotations, "name").unwrap_or_else(|| decl.name.name.clone());
                        let mut record = self.record_json(&format.name, &record_name, fields, &mut defined);
                        if let (Some(r), Some(ns)) = (record.as_mut(), ns) {
                            r["namespace"] = json!(ns);
                        }
                        match (format.name.as_str(), record) {
                            ("avro", Some(r)) => {
                                Some(Schema { kind: SchemaKind::Avro { schema: r }, name: None, class_name: None })
                            }
                            ("json", Some(r)) => {
                                Some(Schema { kind: SchemaKind::Json { schema: r }, name: None, class_name: None })
                            }
                            (_, None) => None,
                            _ => self.schema_of(&decl.ty),
                        }
                    }
                    _ => self.schema_of(&decl.ty),
                };
                if let Some(s) = schema.as_mut() {
                    s.name = Some(decl.name.name.clone());
                    for a in annotations {
                        match a.name.name.as_str() {
                            "class" => s.class_name = annotation_arg(self, a),
                            "namespace" | "name" => {}
                            other => self.diags.push(Diagnostic::new(
                                "E0202",
                                format!("unknown annotation `@{other}` on a schema"),
                                a.name.span,
                                "schemas take `@class(\"...\")`, `@name(\"...\")` and `@namespace(\"...\")`",
                            )),
                        }
                    }
                }
                self.schema_state[i] = SchemaState::Done(schema.clone());
                schema
            }
        }
    }

    fn schema_file(&mut self, func: &str, args: &[crate::syntax::ast::Value], ty: &TypeExpr) -> Option<Schema> {
        let wants_message = matches!(func, "protobuf" | "protobuf_native");
        if !matches!(func, "avro" | "json" | "protobuf" | "protobuf_native") {
            self.diags.push(
                Diagnostic::new("E0501", format!("`{func}(...)` is not a schema"), ty.span, "unknown schema function")
                    .help("schema files are loaded with `avro(\"file.avsc\")`, `json(\"file.avsc\")` or `protobuf_native(\"file.proto\", \"pkg.Message\")`"),
            );
            return None;
        }
        let expected = if wants_message { 2 } else { 1 };
        if args.len() != expected {
            let form = if wants_message {
                format!("{func}(\"file.proto\", \"pkg.Message\")")
            } else {
                format!("{func}(\"file.avsc\")")
            };
            self.diags.push(
                Diagnostic::new(
                    "E0501",
                    format!("`{func}` takes {expected} argument(s)"),
                    ty.span,
                    "wrong number of arguments",
                )
                .help(format!("write `{form}`")),
            );
            return None;
        }
        let rel = self.reader().string(&args[0])?;
        let file_name = self.loaded.sources.get(ty.span.file).name.clone();
        let path = std::path::Path::new(&file_name).parent().unwrap_or(std::path::Path::new(".")).join(&rel);
        let text = match std::fs::read_to_string(&path) {
            Ok(t) => t,
            Err(e) => {
                self.diags.push(
                    Diagnostic::new(
                        "E0502",
                        format!("cannot read schema file `{rel}`"),
                        args[0].span,
                        crate::load::io_reason(&e),
                    )
                    .note("schema file paths are relative to the .mesh file"),
                );
                return None;
            }
        };
        if wants_message {
            let message = self.reader().string(&args[1])?;
            let _ = text;
            let dir = path.parent().unwrap_or(std::path::Path::new("."));
            let file_name = path.file_name().map(std::path::PathBuf::from).unwrap_or_default();
            let messages = match protox::compile([&file_name], [dir]) {
                Ok(set) => proto_messages(&set),
                Err(e) => {
                    self.diags.push(Diagnostic::new(
                        "E0502",
                        format!("`{rel}` is not a valid .proto file: {e}"),
                        args[0].span,
                        "invalid protobuf file",
                    ));
                    return None;
                }
            };
            if !messages.contains(&message) {
                let mut d = Diagnostic::new(
                    "E0502",
                    format!("`{rel}` declares no message `{message}`"),
                    args[1].span,
                    "no such message",
                );
                d = match super::values::suggest(&message, messages.iter().map(String::as_str)) {
                    Some(s) => d.help(format!("did you mean `{s}`?")),
                    None => d.note("name the message by its full name, with the package: `pkg.Message`"),
                };
                self.diags.push(d);
                return None;
            }
            let kind = if func == "protobuf" {
                SchemaKind::Protobuf { file: rel, message }
            } else {
                SchemaKind::ProtobufNative { file: rel, message }
            };
            return Some(Schema { kind, name: None, class_name: None });
        }
        match serde_json::from_str::<Json>(&text).map_err(|e| e.to_string()).and_then(|j| {
            crate::schema::avro_compat::parse(&j)?;
            Ok(j)
        }) {
            Ok(j) => {
                let kind = if func == "avro" { SchemaKind::Avro { schema: j } } else { SchemaKind::Json { schema: j } };
                Some(Schema { kind, name: None, class_name: None })
            }
            Err(e) => {
                self.diags.push(Diagnostic::new(
                    "E0502",
                    format!("`{rel}` is not a valid Avro schema: {e}"),
                    args[0].span,
                    "invalid schema file",
                ));
                None
            }
        }
    }

    /// An Avro record schema in JSON form. `defined` holds the names of named
    /// types already defined, which later uses refer to by name.
    fn record_json(
        &mut self,
        format: &str,
        name: &str,
        fields: &[Field],
        defined: &mut BTreeSet<String>,
    ) -> Option<Json> {
        defined.insert(name.to_string());
        let mut out = Vec::new();
        let mut ok = true;
        let mut seen: Vec<&str> = Vec::new();
        for f in fields {
            if seen.contains(&f.name.name.as_str()) {
                self.diags.push(Diagnostic::new(
                    "E0101",
                    format!("field `{}` is declared twice", f.name.name),
                    f.name.span,
                    "declared again",
                ));
                ok = false;
                continue;
            }
            seen.push(&f.name.name);
            let Some(t) = self.field_type(format, &f.ty, defined) else {
                ok = false;
                continue;
            };
            let mut field = json!({ "name": f.name.name, "type": t });
            if let Some(d) = &f.default {
                let is_null = matches!(&d.kind, ValueKind::Path(p) if p.joined() == "null");
                match if is_null { Some(Json::Null) } else { self.reader().json(d) } {
                    Some(v) => {
                        // Avro wants a union's default to match its first branch.
                        if !v.is_null() {
                            if let Some(branches) = field["type"].as_array_mut() {
                                branches.reverse();
                            }
                        }
                        field["default"] = v;
                    }
                    None => ok = false,
                }
            }
            for a in &f.annotations {
                match a.name.name.as_str() {
                    "alias" => {
                        let mut aliases = Vec::new();
                        for arg in &a.args {
                            aliases.extend(self.reader().string(arg));
                        }
                        field["aliases"] = json!(aliases);
                    }
                    "doc" => field["doc"] = json!(annotation_arg(self, a)),
                    other => self.diags.push(Diagnostic::new(
                        "E0202",
                        format!("unknown annotation `@{other}` on a field"),
                        a.name.span,
                        "fields take `@alias(\"old\")` and `@doc(\"...\")`",
                    )),
                }
            }
            out.push(field);
        }
        ok.then(|| json!({ "type": "record", "name": name, "fields": out }))
    }

    fn field_type(&mut self, format: &str, ty: &TypeExpr, defined: &mut BTreeSet<String>) -> Option<Json> {
        let base = match &ty.kind {
            TypeKind::Named(p) if p.is_single() => {
                let n = p.segments[0].name.as_str();
                match n {
                    "null" | "boolean" | "int" | "long" | "float" | "double" | "bytes" | "string" => json!(n),
                    "date" => json!({"type": "int", "logicalType": "date"}),
                    "time_millis" => json!({"type": "int", "logicalType": "time-millis"}),
                    "time_micros" => json!({"type": "long", "logicalType": "time-micros"}),
                    "timestamp_millis" => json!({"type": "long", "logicalType": "timestamp-millis"}),
                    "timestamp_micros" => json!({"type": "long", "logicalType": "timestamp-micros"}),
                    "local_timestamp_millis" => json!({"type": "long", "logicalType": "local-timestamp-millis"}),
                    "local_timestamp_micros" => json!({"type": "long", "logicalType": "local-timestamp-micros"}),
                    "uuid" => json!({"type": "string", "logicalType": "uuid"}),
                    _ if defined.contains(n) => json!(n),
                    _ => match self.names.get(n).map(|(s, _)| *s) {
                        Some(Sym::Schema(i)) => {
                            self.used.insert(Sym::Schema(i));
                            let s = self.declared_schema(i, ty)?;
                            match s.kind {
                                SchemaKind::Avro { schema: j } | SchemaKind::Json { schema: j } => {
                                    if let Some(name) = j.get("name").and_then(Json::as_str) {
                                        defined.insert(name.to_string());
                                    }
                                    j
                                }
                                _ => {
                                    self.diags.push(Diagnostic::new(
                                        "E0501",
                                        format!(
                                            "schema `{n}` is {}, not a record that a field can hold",
                                            s.kind_name()
                                        ),
                                        ty.span,
                                        "not a record type",
                                    ));
                                    return None;
                                }
                            }
                        }
                        _ => {
                            let mut d = Diagnostic::new(
                                "E0102",
                                format!("unknown field type `{n}`"),
                                ty.span,
                                "not a known type",
                            );
                            let names: Vec<&str> =
                                FIELD_TYPES.iter().copied().chain(defined.iter().map(String::as_str)).collect();
                            if let Some(s) = super::values::suggest(n, names.iter().copied()) {
                                d = d.help(format!("did you mean `{s}`?"));
                            }
                            self.diags.push(d);
                            return None;
                        }
                    },
                }
            }
            TypeKind::Generic { name, args } if (name.name == "array" || name.name == "map") && args.len() == 1 => {
                let inner = self.field_type(format, &args[0], defined)?;
                if name.name == "array" {
                    json!({"type": "array", "items": inner})
                } else {
                    json!({"type": "map", "values": inner})
                }
            }
            TypeKind::Call { name, args } if name.name == "decimal" && args.len() == 2 => {
                let mut r = self.reader();
                let precision = r.int(&args[0], 1, 1000)?;
                let scale = r.int(&args[1], 0, precision)?;
                json!({"type": "bytes", "logicalType": "decimal", "precision": precision, "scale": scale})
            }
            TypeKind::Record { name, fields } => self.record_json(format, &name.name, fields, defined)?,
            TypeKind::Enum { name, symbols } => {
                defined.insert(name.name.clone());
                json!({"type": "enum", "name": name.name, "symbols": symbols.iter().map(|s| s.name.clone()).collect::<Vec<_>>()})
            }
            TypeKind::Fixed { name, size } => {
                defined.insert(name.name.clone());
                json!({"type": "fixed", "name": name.name, "size": size})
            }
            _ => {
                self.diags.push(
                    Diagnostic::new("E0501", "not a field type", ty.span, "unexpected type")
                        .help("fields take primitive types, `array<T>`, `map<T>`, `decimal(p, s)`, `enum`, `record`, `fixed`, or a declared record schema"),
                );
                return None;
            }
        };
        Some(if ty.optional { json!(["null", base]) } else { base })
    }
}

fn annotation_arg(c: &mut Checker<'_>, a: &Annotation) -> Option<String> {
    match a.args.as_slice() {
        [v] => c.reader().string(v),
        _ => {
            c.diags.push(Diagnostic::new(
                "E0202",
                format!("`@{}` takes one string", a.name.name),
                a.span,
                "wrong number of arguments",
            ));
            None
        }
    }
}

fn annotation_str(c: &mut Checker<'_>, annotations: &[Annotation], name: &str) -> Option<String> {
    annotations.iter().find(|a| a.name.name == name).and_then(|a| annotation_arg(c, a))
}

/// Full names (`package.Outer.Inner`) of every message a descriptor set declares.
fn proto_messages(set: &protox::prost_reflect::prost_types::FileDescriptorSet) -> Vec<String> {
    let mut out = Vec::new();
    for file in &set.file {
        let package = file.package();
        let mut stack: Vec<(String, &protox::prost_reflect::prost_types::DescriptorProto)> = file
            .message_type
            .iter()
            .map(|m| (if package.is_empty() { String::new() } else { format!("{package}.") }, m))
            .collect();
        while let Some((prefix, m)) = stack.pop() {
            let full = format!("{prefix}{}", m.name());
            stack.extend(m.nested_type.iter().map(|n| (format!("{full}."), n)));
            out.push(full);
        }
    }
    out.sort();
    out
}
