//! Schema compatibility as Pulsar's broker judges it: per schema type, per
//! strategy, for producers registering a schema and consumers subscribing.

use super::avro_compat::{self, Incompatibility, Rules};
use super::{Primitive, Schema, SchemaKind};
use crate::ir::Compat;

/// The outcome of one check: compatible (with warnings), or the first problem.
pub type Outcome = Result<Vec<Incompatibility>, Incompatibility>;

fn fail(path: &str, message: impl Into<String>) -> Incompatibility {
    Incompatibility { path: path.to_string(), message: message.into() }
}

/// Can data written with `writer` be read with `reader`, both of one topic?
pub fn can_read(writer: &Schema, reader: &Schema, rules: Rules) -> Outcome {
    use SchemaKind::*;
    match (&writer.kind, &reader.kind) {
        (_, AutoConsume) => Ok(Vec::new()),
        (Primitive(a), Primitive(b)) if a == b => Ok(Vec::new()),
        (Avro { schema: w }, Avro { schema: r }) | (Json { schema: w }, Json { schema: r }) => avro_read(w, r, rules),
        (Protobuf { .. }, Protobuf { .. }) => Ok(Vec::new()),
        (ProtobufNative { message: w, .. }, ProtobufNative { message: r, .. }) => {
            if w == r {
                Ok(Vec::new())
            } else {
                Err(fail("root message", format!("writer message {w} is not reader message {r}")))
            }
        }
        (KeyValue { key: wk, value: wv, .. }, KeyValue { key: rk, value: rv, .. }) => {
            if wk.kind_name() != rk.kind_name() {
                return Err(fail("key", format!("key type {} is not {}", wk.kind_name(), rk.kind_name())));
            }
            if wv.kind_name() != rv.kind_name() {
                return Err(fail("value", format!("value type {} is not {}", wv.kind_name(), rv.kind_name())));
            }
            let mut warnings = can_read(wk, rk, rules).map_err(|e| prefix("key", e))?;
            warnings.extend(can_read(wv, rv, rules).map_err(|e| prefix("value", e))?);
            Ok(warnings)
        }
        _ => Err(fail("type", format!("writer type {} cannot be read as {}", writer.kind_name(), reader.kind_name()))),
    }
}

fn prefix(p: &str, mut e: Incompatibility) -> Incompatibility {
    e.path = if e.path.is_empty() { p.to_string() } else { format!("{p} {}", e.path) };
    e
}

fn avro_read(w: &serde_json::Value, r: &serde_json::Value, rules: Rules) -> Outcome {
    // A connector's records of unknown shape (`produces: json`) are checked by the connector alone.
    if w.is_null() || r.is_null() {
        return Ok(Vec::new());
    }
    let ws = avro_compat::parse(w).map_err(|e| fail("writer schema", e))?;
    let rs = avro_compat::parse(r).map_err(|e| fail("reader schema", e))?;
    avro_compat::can_read(&ws, &rs, rules).map(|v| v.warnings)
}

/// A producer presenting `new` to a topic whose registered versions are
/// `existing` (oldest first, the declared schema last), under `strategy`.
pub fn producer(existing: &[&Schema], new: &Schema, strategy: Compat, rules: Rules) -> Outcome {
    let Some(latest) = existing.last() else { return Ok(Vec::new()) };
    if strategy == Compat::AlwaysCompatible {
        return Ok(Vec::new());
    }
    // A schema already registered is reused without any check.
    if existing.iter().any(|e| e.same_data(new)) {
        return Ok(Vec::new());
    }
    if strategy == Compat::AlwaysIncompatible {
        return Err(fail("", "the topic's strategy always_incompatible refuses every new schema"));
    }
    let against: &[&Schema] = if transitive(strategy) { existing } else { std::slice::from_ref(latest) };
    let mut warnings = Vec::new();
    for old in against {
        same_type(old, new)?;
        if backward(strategy) {
            warnings.extend(can_read(old, new, rules)?);
        }
        if forward(strategy) {
            warnings.extend(can_read(new, old, rules)?);
        }
    }
    Ok(warnings)
}

/// A consumer reading with `reader` from a topic with versions `existing`.
pub fn consumer(existing: &[&Schema], reader: &Schema, strategy: Compat, rules: Rules) -> Outcome {
    if matches!(reader.kind, SchemaKind::AutoConsume) || strategy == Compat::AlwaysCompatible {
        return Ok(Vec::new());
    }
    let Some(latest) = existing.last() else { return Ok(Vec::new()) };
    let against: &[&Schema] = match strategy {
        Compat::BackwardTransitive | Compat::FullTransitive | Compat::AlwaysIncompatible => existing,
        _ => std::slice::from_ref(latest),
    };
    let mut warnings = Vec::new();
    for old in against {
        same_type(old, reader)?;
        warnings.extend(can_read(old, reader, rules)?);
    }
    Ok(warnings)
}

/// The declared history must itself be a legal sequence of registrations.
pub fn evolution(
    versions: &[&Schema],
    strategy: Compat,
    rules: Rules,
) -> Result<Vec<Incompatibility>, (usize, Incompatibility)> {
    let mut warnings = Vec::new();
    for i in 1..versions.len() {
        warnings.extend(producer(&versions[..i], versions[i], strategy, rules).map_err(|e| (i, e))?);
    }
    Ok(warnings)
}

fn same_type(a: &Schema, b: &Schema) -> Result<(), Incompatibility> {
    if a.schema_type() != b.schema_type() {
        return Err(fail("type", format!("schema type {} is not {}", b.kind_name(), a.kind_name())));
    }
    Ok(())
}

fn transitive(s: Compat) -> bool {
    matches!(s, Compat::BackwardTransitive | Compat::ForwardTransitive | Compat::FullTransitive)
}

fn backward(s: Compat) -> bool {
    matches!(s, Compat::Backward | Compat::BackwardTransitive | Compat::Full | Compat::FullTransitive)
}

fn forward(s: Compat) -> bool {
    matches!(s, Compat::Forward | Compat::ForwardTransitive | Compat::Full | Compat::FullTransitive)
}

/// Bytes endpoints skip the registry: they pass, but lose the type.
pub fn is_bytes(s: &Schema) -> bool {
    matches!(s.kind, SchemaKind::Primitive(Primitive::Bytes))
}

/// The broker's rules unless strict checking is asked for.
impl Default for Rules {
    fn default() -> Rules {
        Rules::Broker
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn prim(p: Primitive) -> Schema {
        Schema::primitive(p)
    }
    fn avro(fields: serde_json::Value) -> Schema {
        Schema {
            kind: SchemaKind::Avro { schema: json!({"type": "record", "name": "R", "fields": fields}) },
            name: None,
            class_name: None,
        }
    }
    fn json_schema(fields: serde_json::Value) -> Schema {
        Schema {
            kind: SchemaKind::Json { schema: json!({"type": "record", "name": "R", "fields": fields}) },
            name: None,
            class_name: None,
        }
    }
    fn kv(k: Schema, v: Schema) -> Schema {
        Schema {
            kind: SchemaKind::KeyValue { key: Box::new(k), value: Box::new(v), separated: false },
            name: None,
            class_name: None,
        }
    }
    fn pn(message: &str) -> Schema {
        Schema {
            kind: SchemaKind::ProtobufNative { file: "a.proto".into(), message: message.into() },
            name: None,
            class_name: None,
        }
    }
    fn pb(message: &str) -> Schema {
        Schema {
            kind: SchemaKind::Protobuf { file: "a.proto".into(), message: message.into() },
            name: None,
            class_name: None,
        }
    }
    fn auto() -> Schema {
        Schema { kind: SchemaKind::AutoConsume, name: None, class_name: None }
    }

    fn id() -> Schema {
        avro(json!([{"name": "id", "type": "long"}]))
    }
    fn id_note_default() -> Schema {
        avro(json!([{"name": "id", "type": "long"}, {"name": "note", "type": ["null", "string"], "default": null}]))
    }
    fn id_note_required() -> Schema {
        avro(json!([{"name": "id", "type": "long"}, {"name": "note", "type": "string"}]))
    }

    /// (existing versions, new schema, strategy, producer accepted?)
    #[test]
    fn producers_by_strategy_and_type() {
        use Compat::*;
        use Primitive::*;
        let cases: Vec<(Vec<Schema>, Schema, Compat, bool)> = vec![
            // Primitives: only the type is compared, under every strategy but always_incompatible.
            (vec![prim(String)], prim(String), Full, true),
            (vec![prim(String)], prim(Int32), Full, false),
            (vec![prim(String)], prim(Int32), AlwaysCompatible, true),
            (vec![prim(Int64)], prim(Int64), Backward, true),
            (vec![prim(Int64)], prim(Int32), Backward, false),
            (vec![prim(Double)], prim(Float), Forward, false),
            (vec![prim(Bytes)], prim(String), Full, false),
            (vec![prim(LocalDate)], prim(LocalDate), FullTransitive, true),
            (vec![prim(Timestamp)], prim(Instant), BackwardTransitive, false),
            (vec![prim(String)], prim(String), AlwaysIncompatible, true), // already registered
            (vec![prim(Boolean)], prim(Int8), AlwaysIncompatible, false),
            (vec![prim(Int16)], prim(Int16), ForwardTransitive, true),
            // Avro: backward = the new schema reads the old data.
            (vec![id()], id_note_default(), Backward, true),
            (vec![id()], id_note_required(), Backward, false),
            (vec![id()], id_note_required(), Forward, true),
            (vec![id_note_required()], id(), Backward, true),
            (vec![id_note_required()], id(), Forward, false),
            (vec![id()], id_note_default(), Full, true),
            (vec![id()], id_note_required(), Full, false),
            (vec![id()], id_note_required(), AlwaysCompatible, true),
            (vec![id()], id_note_default(), AlwaysIncompatible, false),
            // Transitive strategies check every version; the others the latest only.
            (vec![id_note_required(), id_note_default()], id(), Backward, true),
            (vec![id(), id_note_default()], id_note_required(), Forward, true),
            (vec![id_note_required(), id()], id_note_default(), BackwardTransitive, true),
            (vec![id(), id_note_required()], id_note_default(), ForwardTransitive, false),
            (vec![id(), id_note_required()], id_note_default(), Forward, false),
            (vec![id(), id_note_default()], id_note_required(), FullTransitive, false),
            // Avro and JSON are different schema types.
            (vec![id()], json_schema(json!([{"name": "id", "type": "long"}])), Full, false),
            (
                vec![json_schema(json!([{"name": "id", "type": "int"}]))],
                json_schema(json!([{"name": "id", "type": "long"}])),
                Backward,
                true,
            ),
            (
                vec![json_schema(json!([{"name": "id", "type": "long"}]))],
                json_schema(json!([{"name": "id", "type": "int"}])),
                Backward,
                false,
            ),
            // Key/value: same key and value types, then each checked on its own.
            (vec![kv(prim(String), id())], kv(prim(String), id_note_default()), Backward, true),
            (vec![kv(prim(String), id())], kv(prim(String), id_note_required()), Backward, false),
            (vec![kv(prim(String), id())], kv(prim(Int64), id()), Backward, false),
            (
                vec![kv(prim(String), id())],
                kv(prim(String), json_schema(json!([{"name": "id", "type": "long"}]))),
                Full,
                false,
            ),
            (vec![kv(prim(String), prim(String))], kv(prim(String), prim(String)), AlwaysIncompatible, true),
            (vec![kv(prim(String), prim(String))], prim(String), Full, false),
            (vec![kv(prim(String), prim(String))], prim(String), AlwaysCompatible, true),
            (vec![kv(id(), id())], kv(id_note_default(), id_note_default()), FullTransitive, true),
            // Protobuf native: the root message full name; protobuf: nothing beyond the type.
            (vec![pn("shop.Order")], pn("shop.Order"), Full, true),
            (vec![pn("shop.Order")], pn("shop.OrderV2"), Backward, false),
            (vec![pn("shop.Order")], pn("shop.OrderV2"), AlwaysCompatible, true),
            (vec![pb("shop.Order")], pb("shop.Other"), Full, true),
            (vec![pb("shop.Order")], pn("shop.Order"), Full, false),
        ];
        for (i, (existing, new, strategy, expected)) in cases.iter().enumerate() {
            let refs: Vec<&Schema> = existing.iter().collect();
            let got = producer(&refs, new, *strategy, Rules::Broker);
            assert_eq!(
                got.is_ok(),
                *expected,
                "case {i}: {} -> {} under {}: {got:?}",
                existing.last().map(|s| s.kind_name()).unwrap_or(""),
                new.kind_name(),
                strategy.name()
            );
        }
    }

    /// (versions, reader, strategy, consumer accepted?)
    #[test]
    fn consumers_by_strategy() {
        use Compat::*;
        let cases: Vec<(Vec<Schema>, Schema, Compat, bool)> = vec![
            (vec![id()], id(), Full, true),
            (vec![id()], id_note_default(), Full, true),
            (vec![id()], id_note_required(), Full, false),
            (vec![id_note_required()], id(), Forward, true),
            (vec![id()], auto(), AlwaysIncompatible, true),
            (vec![id()], id_note_required(), AlwaysCompatible, true),
            // Only the transitive-backward strategies make a reader read every version.
            (vec![id_note_required(), id()], id_note_default(), Full, true),
            (vec![avro(json!([{"name": "id", "type": "string"}])), id()], id(), Backward, true),
            (vec![avro(json!([{"name": "id", "type": "string"}])), id()], id(), BackwardTransitive, false),
            (vec![avro(json!([{"name": "id", "type": "string"}])), id()], id(), ForwardTransitive, true),
            (vec![avro(json!([{"name": "id", "type": "string"}])), id()], id(), FullTransitive, false),
            (vec![Schema::primitive(Primitive::String)], Schema::primitive(Primitive::Int32), Full, false),
            (
                vec![kv(Schema::primitive(Primitive::String), id())],
                kv(Schema::primitive(Primitive::String), id_note_required()),
                Full,
                false,
            ),
            (vec![pn("a.B")], pn("a.B"), BackwardTransitive, true),
            (vec![pn("a.B")], pn("a.C"), Forward, false),
        ];
        for (i, (existing, reader, strategy, expected)) in cases.iter().enumerate() {
            let refs: Vec<&Schema> = existing.iter().collect();
            let got = consumer(&refs, reader, *strategy, Rules::Broker);
            assert_eq!(got.is_ok(), *expected, "case {i} under {}: {got:?}", strategy.name());
        }
    }

    #[test]
    fn history_must_evolve_legally() {
        let ok = [id(), id_note_default()];
        assert!(evolution(&ok.iter().collect::<Vec<_>>(), Compat::Backward, Rules::Broker).is_ok());
        let bad = [id(), id_note_required(), id_note_default()];
        let err = evolution(&bad.iter().collect::<Vec<_>>(), Compat::Backward, Rules::Broker).unwrap_err();
        assert_eq!(err.0, 1);
        assert!(err.1.path.contains("note"), "{:?}", err.1);
    }

    #[test]
    fn first_incompatible_path_is_named() {
        let writer = avro(json!([{"name": "amount", "type": "string"}]));
        let reader = avro(json!([{"name": "amount", "type": "double"}]));
        let e = can_read(&writer, &reader, Rules::Broker).unwrap_err();
        assert_eq!(e.path, "field amount");
        assert!(e.message.contains("string") && e.message.contains("double"), "{}", e.message);
        let e = can_read(&kv(prim(Primitive::String), writer), &kv(prim(Primitive::String), reader), Rules::Broker)
            .unwrap_err();
        assert_eq!(e.path, "value field amount");
    }
}
