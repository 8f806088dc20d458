//! A synthetic .mesh program of a given size, shared by `examples/synth.rs`
//! and `benches/compile.rs` (both include this file with `#[path]`).
//!
//! Shape: one Kafka source feeds a chain of Java functions, one topic per
//! function output. Every `FAN_OUT`-th chain topic fans out to a branch: a
//! direct Kafka sink on the chain topic, and a branch function whose topic
//! feeds an Elasticsearch sink. The last chain topic is read by a final Kafka
//! sink. Every topic written is read by someone, every declaration is used,
//! so the program compiles without errors or warnings for every N >= 1.
//!
//! The output depends only on N.

use std::fmt::Write;

/// A chain topic fans out after every this many chain functions.
const FAN_OUT: usize = 4;

/// The schemas chain topics cycle through; `[(name, declaration)]`.
const SCHEMAS: [(&str, &str); 3] = [
    (
        "Order",
        "@class(\"com.synth.model.Order\")\nschema Order = avro {\n  id: long,\n  customer: string,\n  amount: double,\n  note: string? = null,\n}\n",
    ),
    (
        "Enriched",
        "@class(\"com.synth.model.Enriched\")\nschema Enriched = json {\n  id: long,\n  customer: string,\n  amount: double,\n  tier: enum Tier { gold, silver, bronze },\n}\n",
    ),
    (
        "Scored",
        "@class(\"com.synth.model.Scored\")\nschema Scored = avro {\n  id: long,\n  score: double,\n  tags: array<string>,\n  labels: map<string>,\n}\n",
    ),
];

/// The schema of chain topic `i` (and of what chain function `i` writes).
fn schema(i: usize) -> usize {
    i % SCHEMAS.len()
}

enum Comp {
    /// The Kafka source writing chain topic 0.
    Source,
    /// Chain function `i`: reads chain topic `i - 1`, writes chain topic `i`.
    Chain(usize),
    /// Branch function on chain topic `i`: writes branch topic `i`.
    Branch(usize),
    /// Elasticsearch sink on branch topic `i`.
    Elastic(usize),
    /// Kafka sink reading chain topic `i` directly.
    Tap(usize),
    /// The final Kafka sink, on chain topic `i`, or on an external topic when `None` (N = 1).
    Out(Option<usize>),
}

/// Lays out `n` components (n >= 1).
fn layout(n: usize) -> Vec<Comp> {
    if n == 1 {
        return vec![Comp::Out(None)];
    }
    let mut comps = vec![Comp::Source];
    let mut remaining = n - 2; // the source and the final sink are always there
    let mut tip = 0;
    while remaining > 0 {
        tip += 1;
        comps.push(Comp::Chain(tip));
        remaining -= 1;
        if tip.is_multiple_of(FAN_OUT) && remaining >= 3 {
            comps.extend([Comp::Tap(tip), Comp::Branch(tip), Comp::Elastic(tip)]);
            remaining -= 3;
        }
    }
    comps.push(Comp::Out(Some(tip)));
    comps
}

/// The text of a valid program with exactly `n` components (`n` >= 1).
pub fn generate(n: usize) -> String {
    assert!(n >= 1, "a program needs at least one component");
    let comps = layout(n);
    let mut used_schema = [false; SCHEMAS.len()];
    let (mut kafka, mut elastic, mut dead_letters) = (false, false, false);
    for c in &comps {
        match *c {
            Comp::Source => {
                kafka = true;
                used_schema[schema(0)] = true;
            }
            Comp::Chain(i) => {
                used_schema[schema(i - 1)] = true;
                used_schema[schema(i)] = true;
                dead_letters |= i.is_multiple_of(5);
            }
            Comp::Branch(i) => {
                used_schema[schema(i)] = true;
                used_schema[schema(i + 1)] = true;
            }
            Comp::Elastic(_) => elastic = true,
            Comp::Tap(_) => kafka = true,
            Comp::Out(t) => {
                kafka = true;
                used_schema[schema(t.unwrap_or(0))] = true;
            }
        }
    }

    let mut s = String::with_capacity(n * 400 + 2048);
    let _ = writeln!(s, "// A synthetic pipeline with {n} components: `cargo run --release --example synth -- {n}`.");
    match (kafka, elastic) {
        (true, true) => s.push_str("use std::io::{kafka, elasticsearch}\n\n"),
        (true, false) => s.push_str("use std::io::kafka\n\n"),
        (false, true) => s.push_str("use std::io::elasticsearch\n\n"),
        (false, false) => {}
    }
    s.push_str(concat!(
        "pulsar prod {\n",
        "  web_service_url    = \"http://pulsar-broker.pulsar.svc:8080\"\n",
        "  broker_service_url = \"pulsar://pulsar-broker.pulsar.svc:6650\"\n",
        "}\n\n",
        "defaults {\n",
        "  cluster   = prod\n",
        "  tenant    = \"synth\"\n",
        "  namespace = \"bench\"\n",
        "  resources { cpu = 200m, memory = 512Mi }\n",
        "}\n\n",
    ));
    for (i, (_, decl)) in SCHEMAS.iter().enumerate() {
        if used_schema[i] {
            s.push_str(decl);
            s.push('\n');
        }
    }

    // Topics: one per component output.
    if dead_letters {
        s.push_str("topic dead_letters : bytes\n");
    }
    for c in &comps {
        match *c {
            Comp::Source => {
                let _ = writeln!(s, "topic t_0 : {} compat backward", SCHEMAS[schema(0)].0);
            }
            Comp::Chain(i) => {
                let _ = writeln!(s, "topic t_{i} : {}", SCHEMAS[schema(i)].0);
            }
            Comp::Branch(i) => {
                let _ = writeln!(s, "topic bt_{i} : {}", SCHEMAS[schema(i + 1)].0);
            }
            Comp::Out(None) => {
                let _ = writeln!(s, "topic ingest : {} external", SCHEMAS[schema(0)].0);
            }
            Comp::Elastic(_) | Comp::Tap(_) | Comp::Out(Some(_)) => {}
        }
    }
    s.push('\n');

    // Components.
    for c in &comps {
        match *c {
            Comp::Source => {
                let _ = writeln!(
                    s,
                    "source src = kafka::source {{\n  bootstrap_servers = \"kafka.kafka.svc:9092\"\n  topic             = \"orders\"\n  group_id          = \"pulsar-synth\"\n  value             = {}\n  replicas          = 2\n}}\n",
                    SCHEMAS[schema(0)].0
                );
            }
            Comp::Chain(i) => function(&mut s, "f", i, schema(i - 1), schema(i)),
            Comp::Branch(i) => function(&mut s, "b", i, schema(i), schema(i + 1)),
            Comp::Elastic(i) => {
                let _ = writeln!(
                    s,
                    "sink es_{i} = elasticsearch::sink {{\n  elastic_search_url = \"http://es.search.svc:9200\"\n  index_name         = \"synth-{i}\"\n  username           = secret(\"es-creds\", \"username\")\n  password           = secret(\"es-creds\", \"password\")\n}}\n"
                );
            }
            Comp::Tap(i) => kafka_sink(&mut s, &format!("k_{i}"), &format!("tap-{i}")),
            Comp::Out(_) => kafka_sink(&mut s, "out", "synth-out"),
        }
    }

    // Wiring.
    s.push_str("pipeline chain {\n");
    for c in &comps {
        match *c {
            Comp::Source => s.push_str("  src -> t_0\n"),
            Comp::Chain(i) => {
                let _ = writeln!(s, "  t_{} -> f_{i} -> t_{i}", i - 1);
            }
            Comp::Tap(i) => {
                let _ = writeln!(s, "  t_{i} -> [k_{i}, b_{i}]");
            }
            Comp::Branch(i) => {
                let _ = writeln!(s, "  b_{i} -> bt_{i} -> es_{i}");
            }
            Comp::Elastic(_) => {}
            Comp::Out(Some(t)) => {
                let _ = writeln!(s, "  t_{t} -> out");
            }
            Comp::Out(None) => s.push_str("  ingest -> out\n"),
        }
    }
    s.push_str("}\n");
    s
}

/// A Java function `{prefix}_{i}` reading schema `input` and writing schema `output`.
fn function(s: &mut String, prefix: &str, i: usize, input: usize, output: usize) {
    let (inp, out) = (SCHEMAS[input].0, SCHEMAS[output].0);
    let _ = writeln!(s, "function {prefix}_{i}({inp}) -> {out} = java(\"com.synth.Step{}\") {{", i % 7);
    let _ = writeln!(s, "  jar       = \"function://synth/bench/{prefix}-{i}@1.0.{}\"", i % 10);
    if i.is_multiple_of(3) {
        let _ = writeln!(s, "  replicas  = 1..{}", 2 + i % 4);
    } else {
        let _ = writeln!(s, "  replicas  = {}", 1 + i % 2);
    }
    s.push_str("  guarantee = atleast_once\n");
    if prefix == "f" && i.is_multiple_of(5) {
        s.push_str("  max_retries = 3\n  dead_letter = dead_letters\n");
    }
    let _ = writeln!(s, "  config {{ step = {i}, currency = \"EUR\" }}");
    s.push_str("}\n\n");
}

/// A Kafka sink `name` producing to Kafka topic `topic`.
fn kafka_sink(s: &mut String, name: &str, topic: &str) {
    let _ = writeln!(
        s,
        "sink {name} = kafka::sink {{\n  bootstrap_servers = \"kafka.kafka.svc:9092\"\n  topic             = \"{topic}\"\n  acks              = \"all\"\n}}\n"
    );
}
