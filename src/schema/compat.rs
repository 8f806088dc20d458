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
