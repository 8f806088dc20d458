//! `mesh check --baseline OLD`: every topic whose schema changed since a
//! deployed version, checked against the topic's strategy, as `buf breaking`
//! does for protobuf. OLD is a .mesh program or a bundle mesh compiled, which
//! carries its topics in the `<mesh>-topics` ConfigMap.

use crate::diag::Diagnostic;
use crate::ir::{Compat, Program};
use crate::schema::avro_compat::Rules;
use crate::schema::{compat, Schema};
use serde::{Deserialize, Serialize};

/// The key of the topics ConfigMap that holds the registry snapshot.
pub const TOPICS_KEY: &str = "topics.json";

/// What a bundle records about one topic.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct TopicRecord {
    pub name: String,
    pub topic: String,
    pub compat: String,
    pub schema: Schema,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub history: Vec<Schema>,
}

pub fn records(p: &Program) -> Vec<TopicRecord> {
    p.topics
        .iter()
        .filter(|t| !t.pattern)
        .map(|t| TopicRecord {
            name: t.name.clone(),
            topic: t.full_name.clone(),
            compat: t.compat.name().to_string(),
            schema: t.schema.clone(),
            history: t.history.clone(),
        })
        .collect()
}

/// The stored form: each distinct schema once, topics referring to them by
/// index, so thousands of topics sharing a few schemas stay far below the
/// 1 MiB a ConfigMap may hold.
#[derive(Serialize, Deserialize)]
struct Stored {
    schemas: Vec<Schema>,
    topics: Vec<StoredTopic>,
}

#[derive(Serialize, Deserialize)]
struct StoredTopic {
    name: String,
    topic: String,
    compat: String,
    schema: usize,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    history: Vec<usize>,
}

/// The text of the `topics.json` key.
pub fn encode(records: &[TopicRecord]) -> String {
    let mut schemas: Vec<Schema> = Vec::new();
    let mut index = |s: &Schema| match schemas.iter().position(|x| x == s) {
        Some(i) => i,
        None => {
            schemas.push(s.clone());
            schemas.len() - 1
        }
    };
    let topics = records
        .iter()
        .map(|r| StoredTopic {
            name: r.name.clone(),
            topic: r.topic.clone(),
            compat: r.compat.clone(),
            schema: index(&r.schema),
            history: r.history.iter().map(&mut index).collect(),
        })
        .collect();
    serde_json::to_string(&Stored { schemas, topics }).unwrap_or_default()
}

fn decode(text: &str) -> Result<Vec<TopicRecord>, String> {
    let stored: Stored = serde_json::from_str(text).map_err(|e| e.to_string())?;
    let get = |i: usize| stored.schemas.get(i).cloned().ok_or_else(|| format!("schema index {i} out of range"));
    stored
        .topics
        .iter()
        .map(|t| {
            Ok(TopicRecord {
                name: t.name.clone(),
                topic: t.topic.clone(),
                compat: t.compat.clone(),
                schema: get(t.schema)?,
                history: t.history.iter().map(|&i| get(i)).collect::<Result<_, _>>()?,
            })
        })
        .collect()
}

/// The topic records of a bundle (multi-document YAML, or a JSON List).
pub fn from_bundle(text: &str) -> Result<Vec<TopicRecord>, String> {
    let docs = crate::render::parse_bundle(text)?;
    for d in docs {
        if d.get("kind").and_then(|k| k.as_str()) != Some("ConfigMap") {
            continue;
        }
        if let Some(json) = d.pointer("/data").and_then(|data| data.get(TOPICS_KEY)).and_then(|j| j.as_str()) {
            return decode(json).map_err(|e| format!("the bundle's `{TOPICS_KEY}` is unreadable: {e}"));
        }
    }
    Err(format!("the bundle has no ConfigMap with `{TOPICS_KEY}`: compile it with this version of mesh"))
}

/// One E0510 for every topic whose new schema its strategy does not allow
/// after the baseline's versions.
pub fn check(new: &Program, old: &[TopicRecord], rules: Rules) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    for t in &new.topics {
        let Some(before) = old.iter().find(|o| o.topic == t.full_name) else { continue };
        if before.schema.same_data(&t.schema) {
            continue;
        }
        let versions: Vec<&Schema> = before.history.iter().chain(std::iter::once(&before.schema)).collect();
        if let Err(e) = compat::producer(&versions, &t.schema, t.compat, rules) {
            let at = if e.path.is_empty() { String::new() } else { format!("{}: ", e.path) };
            out.push(
                Diagnostic::new(
                    "E0510",
                    format!(
                        "topic `{}` changed since the baseline in a way compat {} forbids: {at}{}",
                        t.name,
                        t.compat.name(),
                        e.message
                    ),
                    t.span,
                    format!("was {}, now {}", before.schema.display(), t.schema.display()),
                )
                .note("readers and writers deployed with the baseline would break; the broker would refuse the new schema")
                .help(if t.compat == Compat::AlwaysCompatible {
                    "make the change compatible".to_string()
                } else {
                    "make the change compatible (add defaults, keep types), or publish to a new topic".to_string()
                }),
            );
        }
    }
    out
}
