//! Every diagnostic code, with the explanation `mesh explain CODE` prints.

pub struct CodeInfo {
    pub code: &'static str,
    pub title: &'static str,
    pub explanation: &'static str,
}

pub fn lookup(code: &str) -> Option<&'static CodeInfo> {
    CODES.iter().find(|c| c.code.eq_ignore_ascii_case(code))
}

pub static CODES: &[CodeInfo] = &[
    CodeInfo {
        code: "E0001",
        title: "syntax error",
        explanation: "The text does not follow the grammar of the mesh language. The message says what the \
parser expected at the marked place. Parsing resumes at the next line that starts a declaration, so \
every broken declaration of a file is reported in one run.\n\nExample:\n\n    topic orders :      // the type is missing\n\n\
Fix: complete the declaration, e.g. `topic orders : Order`.",
    },
    CodeInfo {
        code: "E0002",
        title: "nesting too deep",
        explanation: "Lists, blocks and type arguments may nest at most 64 levels. Deeper input is refused \
before it is parsed, so that no file can exhaust the compiler's stack.\n\nExample:\n\n    let x = [[[[ ... 65 levels ... ]]]]\n\n\
Fix: flatten the value. No Function Mesh setting needs more than a handful of levels.",
    },
    CodeInfo {
        code: "E0003",
        title: "invalid escape in a string",
        explanation: "Strings accept the escapes \\n \\r \\t \\0 \\\\ \\\" and \\u{XXXX} (a Unicode scalar value in hex).\n\nExample:\n\n\
    jar = \"C:\\jars\\x.jar\"    // `\\j` is not an escape\n\nFix: double the backslash (`\\\\`) or use the escape you meant.",
    },
    CodeInfo {
        code: "E0004",
        title: "number out of range",
        explanation: "Integers are 64-bit signed numbers; floats must be finite. Settings with narrower Kubernetes \
types (int32) are checked against their own range where they are used.\n\nExample:\n\n    let big = 99999999999999999999\n\n\
Fix: use a smaller number.",
    },
    CodeInfo {
        code: "E0101",
        title: "a name is declared twice",
        explanation: "Every top-level name (pulsar blocks, schemas, topics, components, pipelines, `let` values, connectors, imports) is unique across all files of a program; record fields are unique within their record; two components must not end up with the same Kubernetes name.

Example:

    topic orders : string
    topic orders : bytes      // E0101

Fix: Rename one of the two, or delete the duplicate.",
    },
    CodeInfo {
        code: "E0102",
        title: "unknown name",
        explanation: "A name that refers to a topic, component, schema, cluster, connector or field type does not exist. The message suggests the closest declared name when there is one.

Example:

    pipeline p { order -> enrich }    // the topic is called `orders`

Fix: Fix the spelling, or declare the missing item.",
    },
    CodeInfo {
        code: "E0103",
        title: "`use` cycle between files",
        explanation: "Files may `use` each other only without cycles: a.mesh using b.mesh using a.mesh is refused, because it hides which file owns which declaration.

Example:

    // a.mesh
    use \"./b.mesh\"
    // b.mesh
    use \"./a.mesh\"      // E0103

Fix: Move the declarations both files need into a third file that both use.",
    },
    CodeInfo {
        code: "E0104",
        title: "a used file cannot be read",
        explanation: "The file named in `use \"...\"` does not exist, cannot be read, or is not a .mesh file. Paths are relative to the file containing the `use`.

Example:

    use \"./schemas.mesh\"    // no such file next to this one

Fix: Correct the path.",
    },
    CodeInfo {
        code: "E0105",
        title: "unknown module",
        explanation: "Only stdlib modules are imported by path (`use std::io::kafka`); other files are used by their file path in quotes.

Example:

    use std::io::kafkaa      // E0105: did you mean `std::io::kafka`?

Fix: Use a module that exists (`mesh explain E0105` lists none; see the docs) or `use \"./file.mesh\"`.",
    },
    CodeInfo {
        code: "E0106",
        title: "a `let` value refers to itself",
        explanation: "`let` values may name other `let` values, but not in a loop.

Example:

    let a = b
    let b = a      // E0106

Fix: Give one of them a literal value.",
    },
    CodeInfo {
        code: "E0107",
        title: "a name of the wrong kind",
        explanation: "The name exists but is not what the place expects, for example a schema where a topic is required.

Example:

    function f(Order) -> Order = java(\"F\") { dead_letter = Order }   // Order is a schema

Fix: Use a name of the expected kind.",
    },
    CodeInfo {
        code: "E0108",
        title: "unknown profile",
        explanation: "`--profile NAME` selects a `profile NAME { ... }` block; none has that name.

Example:

    mesh compile shop.mesh --profile prod    // but the file declares only `profile staging`

Fix: Declare the profile or pick an existing one.",
    },
    CodeInfo {
        code: "E0109",
        title: "a component has no Pulsar cluster",
        explanation: "Every function, source and sink runs against a `pulsar` block. With one block it is used automatically; with several, `defaults { cluster = NAME }` or the component's own `cluster = NAME` chooses.

Example:

    pulsar a { ... }
    pulsar b { ... }
    function f(string) -> string = java(\"F\") { jar = \"f.jar\" }   // which one?

Fix: Set `cluster = a` in `defaults` or in the component.",
    },
    CodeInfo {
        code: "E0110",
        title: "unknown function runtime",
        explanation: "A function runs with `java(\"Class\")`, `python(\"module.Class\")`, `go` or `generic(\"language\")`.

Example:

    function f(string) -> string = jav(\"com.F\") { ... }   // E0110

Fix: Use one of the four runtimes.",
    },
    CodeInfo {
        code: "E0111",
        title: "a connector of the wrong direction",
        explanation: "A source must use a source connector and a sink a sink connector.

Example:

    source s = kafka::sink { ... }    // E0111

Fix: Use `kafka::source`.",
    },
    CodeInfo {
        code: "E0201",
        title: "unknown setting",
        explanation: "The block does not take this setting. For a typed stdlib connector, the configuration keys are exactly the ones the stdlib declares, because the connector itself refuses unknown keys at start-up. In `passthrough { }`, the keys are the fields of the component's Function Mesh CRD (the API server would silently drop any other). The message suggests the closest known setting.

Example:

    sink s = elasticsearch::sink { index = \"orders\" }   // did you mean `index_name`?

Fix: Fix the spelling, or remove the setting.",
    },
    CodeInfo {
        code: "E0202",
        title: "a value of the wrong type",
        explanation: "The setting expects another kind of value: a string, an integer, a duration, a name, a block, ... In `passthrough { }`, a value has the JSON type of its CRD field: `timeout = 5000`, not `5s`.

Example:

    replicas = \"two\"      // expected a replica count or a range like `1..4`

Fix: Write a value of the expected kind.",
    },
    CodeInfo {
        code: "E0203",
        title: "a required setting is missing",
        explanation: "A block lacks a setting it cannot work without: a `pulsar` block its URLs, a function its `jar`, a typed connector its required configuration keys.

Example:

    sink s = jdbc_postgres::sink { table_name = \"t\" }   // missing `jdbc_url`

Fix: Add the missing settings.",
    },
    CodeInfo {
        code: "E0204",
        title: "a value outside the allowed set",
        explanation: "The setting takes one of a fixed list of words (a guarantee, a compatibility strategy, an enum of a connector).

Example:

    guarantee = at_least_once   // did you mean `atleast_once`?

Fix: Use one of the listed values.",
    },
    CodeInfo {
        code: "E0205",
        title: "a setting given twice",
        explanation: "The same key appears twice in one block, or two settings that say the same thing are both given.

Example:

    function f(string) = java(\"F\") { jar = \"a.jar\", jar = \"b.jar\" }

Fix: Keep one of them.",
    },
    CodeInfo {
        code: "E0206",
        title: "a number out of range",
        explanation: "The value is of the right kind but outside what the field accepts (for example an int32 field, a non-negative duration, a liveness success threshold other than 1).

Example:

    max_retries = -1

Fix: Use a value within the range in the message.",
    },
    CodeInfo {
        code: "E0207",
        title: "invalid Kubernetes quantity",
        explanation: "Resource quantities are numbers with an optional suffix: m, k, M, G, T, P, E, Ki, Mi, Gi, Ti, Pi, Ei.

Example:

    resources { memory = \"1GB\" }   // write 1G or 1Gi

Fix: Use a valid quantity such as `512Mi`.",
    },
    CodeInfo {
        code: "E0208",
        title: "a secret in plain configuration",
        explanation: "A `secret(...)` reference cannot be placed inside free-form configuration, which is written into the bundle as it is.

Example:

    config { password = secret(\"db\", \"password\") }

Fix: Put it in the component's `secrets { NAME = secret(\"db\", \"password\") }` block; the function reads it through its secrets provider.",
    },
    CodeInfo {
        code: "E0209",
        title: "a sensitive field given as a literal",
        explanation: "The stdlib marks some connector fields sensitive (passwords, tokens, keys). Their value must come from a Kubernetes Secret: it is passed through the component's secretsMap and never written into the bundle.

Example:

    password = \"hunter2\"      // E0209

Fix: Write `password = secret(\"secret-name\", \"key\")`.",
    },
    CodeInfo {
        code: "E0301",
        title: "invalid topic name",
        explanation: "Topic names are a short name, `tenant/namespace/topic`, or `persistent://tenant/namespace/topic` (or `non-persistent://`); tenants and namespaces use letters, digits and `-_=:.`. Pattern topics cannot be written to.

Example:

    topic t : string { name = \"ns/topic\" }   // two parts are not accepted

Fix: Write a valid name.",
    },
    CodeInfo {
        code: "E0302",
        title: "components connected without a topic",
        explanation: "In a pipeline, components exchange messages through topics, so every edge between two components needs a topic in between.

Example:

    pipeline p { src -> enrich }

Fix: Declare a topic and put it between them: `src -> raw -> enrich`.",
    },
    CodeInfo {
        code: "E0303",
        title: "a topic flowing into a topic",
        explanation: "A topic cannot feed another topic directly; only a function moves messages between topics.

Example:

    pipeline p { a -> b }    // both are topics

Fix: Put a function between them.",
    },
    CodeInfo {
        code: "E0304",
        title: "a component with two output topics",
        explanation: "A Pulsar function or source writes to one output topic.

Example:

    pipeline p { f -> a, f -> b }

Fix: Write to one topic and fan out from it: `f -> out -> [x, y]`.",
    },
    CodeInfo {
        code: "E0305",
        title: "a function reads its own output",
        explanation: "The operator rejects a function whose output topic is one of its input topics: every message would loop.

Example:

    pipeline p { t -> f -> t }

Fix: Write to another topic.",
    },
    CodeInfo {
        code: "E0306",
        title: "an edge in the wrong direction",
        explanation: "Sources only write and sinks only read: a sink cannot be followed by a topic, and a source cannot be preceded by one.

Example:

    pipeline p { t -> my_source }

Fix: Reverse the edge or use the right kind of component.",
    },
    CodeInfo {
        code: "E0307",
        title: "a component not wired",
        explanation: "Every function and sink needs at least one input topic, and every source an output topic, from some pipeline.

Example:

    function f(string) -> string = java(\"F\") { jar = \"f.jar\" }   // in no pipeline

Fix: Add the component to a pipeline: `pipeline p { input -> f -> output }`.",
    },
    CodeInfo {
        code: "E0308",
        title: "a topic that nothing writes",
        explanation: "A topic is read by a component of this program, but no component writes it. Unless something outside the program produces it, the reader waits forever.

Example:

    topic audit : string
    pipeline p { audit -> archive }

Fix: Wire a producer to it, or declare it `external`: `topic audit : string external`.",
    },
    CodeInfo {
        code: "E0401",
        title: "a name too long for the operator",
        explanation: "The operator refuses Function, Source and Sink names longer than 43 characters (so the generated StatefulSet and Service names fit Kubernetes limits). Inside a FunctionMesh, children are named `<mesh>-<component>`.

Example:

    function an_extremely_long_function_name_that_goes_on(string) ...

Fix: Shorten the name or set `name = \"short\"` in the component.",
    },
    CodeInfo {
        code: "E0402",
        title: "an invalid Kubernetes name",
        explanation: "Object names must be lower-case letters, digits and `-`, start with a letter and end with a letter or digit (mesh writes `_` as `-`).

Example:

    function F1(string) ...   // upper case

Fix: Rename the component, or set `name = \"f1\"`.",
    },
    CodeInfo {
        code: "E0403",
        title: "invalid replicas",
        explanation: "`replicas` is a count of at least 1, or a range `min..max` with 1 <= min <= max; a range adds an autoscaler.

Example:

    replicas = 4..2

Fix: Write `replicas = 2..4`.",
    },
    CodeInfo {
        code: "E0404",
        title: "an empty required value",
        explanation: "A required path or class is empty, which the operator rejects.

Example:

    jar = \"\"

Fix: Give the path of the jar, py or executable.",
    },
    CodeInfo {
        code: "E0405",
        title: "incompatible with effectively-once processing",
        explanation: "With `guarantee = effectively_once` the operator rejects a message timeout, retries and key-ordered subscriptions.

Example:

    guarantee = effectively_once
    max_retries = 3      // E0405

Fix: Drop the setting, or choose `atleast_once`.",
    },
    CodeInfo {
        code: "E0406",
        title: "a dead-letter topic without retries",
        explanation: "Messages reach the dead-letter topic after the retries run out, so `dead_letter` needs `max_retries` above zero.

Example:

    dead_letter = rejected      // without max_retries

Fix: Add `max_retries = 3`.",
    },
    CodeInfo {
        code: "E0407",
        title: "two orderings at once",
        explanation: "`retain_ordering` (a Failover subscription) and `retain_key_ordering` (Key_Shared) exclude each other.

Example:

    retain_ordering = true
    retain_key_ordering = true

Fix: Keep one of them.",
    },
    CodeInfo {
        code: "E0408",
        title: "invalid window settings",
        explanation: "A window needs a `length` (a message count or a duration), above zero; `slide` is of the same kind; a count window needs a `slide`, because the operator's defaulting fails without one; with a timestamp extractor, `max_lag` and `watermark_interval` must be above zero.

Example:

    window { length = 10 }     // add slide = 10 for a tumbling window

Fix: Complete the window as the message says.",
    },
    CodeInfo {
        code: "E0409",
        title: "invalid resources",
        explanation: "The operator requires a memory request and limit above zero, requests no larger than limits, and nothing negative.

Example:

    resources { requests { memory = 2Gi }, limits { memory = 1Gi } }

Fix: Make requests fit within limits; `resources { cpu = 500m, memory = 1Gi }` sets both.",
    },
    CodeInfo {
        code: "E0410",
        title: "invalid package location",
        explanation: "Download locations are Pulsar package names (`function://tenant/namespace/name[@version]`, also `source://`, `sink://`) or http(s) URLs, with lower-case schemes.

Example:

    jar = \"public/default/my-fn\"     // the bare form is refused

Fix: Write `jar = \"function://public/default/my-fn@1.0\"`.",
    },
    CodeInfo {
        code: "E0411",
        title: "invalid state settings",
        explanation: "Function state needs the BookKeeper table service URL and is not available to Go functions.

Example:

    state { }

Fix: Write `state { service_url = \"bk://bookie.pulsar.svc:4181\" }`.",
    },
    CodeInfo {
        code: "E0412",
        title: "a Go function fed only by a pattern",
        explanation: "The Go runtime consumes the first listed topic only; a Go function with only a topic pattern breaks the operator.

Example:

    pipeline p { all_events -> go_fn }   // all_events is a pattern

Fix: Wire a plain topic to the Go function.",
    },
    CodeInfo {
        code: "E0413",
        title: "duplicate autoscaler rules",
        explanation: "The builtin autoscaler takes at most one CPU rule and one memory rule.

Example:

    pod { autoscaler = [cpu_80, cpu_50] }

Fix: Keep one rule per resource.",
    },
    CodeInfo {
        code: "E0501",
        title: "not a schema",
        explanation: "A schema expression is malformed: an unknown format, a field type where a schema is needed, the wrong number of arguments, or an optional top-level schema.

Example:

    schema X = array<string>     // wrap it: avro { items: array<string> }

Fix: Write a primitive type, `avro { ... }`, `json { ... }`, `key_value<K, V>` or a schema file.",
    },
    CodeInfo {
        code: "E0502",
        title: "a schema file cannot be read",
        explanation: "The file named in `avro(\"...\")`, `json(\"...\")` or `protobuf_native(\"...\", ...)` is missing or is not a valid schema. Paths are relative to the .mesh file.

Example:

    schema P = avro(\"schemas/payment.avsc\")   // no such file

Fix: Correct the path or the file.",
    },
    CodeInfo {
        code: "E0503",
        title: "schemas differ on an edge",
        explanation: "What a component writes must be what the topic holds, and what a function reads must be what the topic holds.

Example:

    topic orders : Order
    function f(Payment) -> string = ...
    pipeline p { orders -> f }

Fix: Change the function's types or wire it to the right topic.",
    },
    CodeInfo {
        code: "E0504",
        title: "a schema defined in terms of itself",
        explanation: "Declared schemas may refer to other declared schemas, but not in a loop.

Example:

    schema A = avro { b: B }
    schema B = avro { a: A }

Fix: Break the loop with an optional field or a named nested record.",
    },
    CodeInfo {
        code: "E0505",
        title: "a sink that cannot read the topic",
        explanation: "Every stdlib sink declares the schemas it accepts; the topic wired to it holds another kind.

Example:

    topic raw : bytes
    sink s = elasticsearch::sink { ... }
    pipeline p { raw -> s }    // Elasticsearch needs structured records

Fix: Wire a topic with an accepted schema, or convert with a function first.",
    },
    CodeInfo {
        code: "W0101",
        title: "unused declaration",
        explanation: "A schema, topic, cluster, connector or `let` value is declared but nothing uses it.

Example:

    schema Legacy = avro { id: long }   // never used

Fix: Remove it, or use it.",
    },
    CodeInfo {
        code: "W0102",
        title: "unused import",
        explanation: "A `use std::...` imports a module that no component uses.

Example:

    use std::io::kafka    // no kafka:: component

Fix: Remove the `use`.",
    },
    CodeInfo {
        code: "W0301",
        title: "a topic nobody reads",
        explanation: "A component writes the topic but nothing in this program reads it. That can be intended (another team consumes it), but it is often a missing edge.

Example:

    pipeline p { src -> raw }     // raw is read by nobody

Fix: Add the consumer, or ignore the warning if someone outside reads it.",
    },
    CodeInfo {
        code: "E0506",
        title: "a producer's schema breaks the topic's strategy",
        explanation: "A component writing to a topic registers its schema there. The broker accepts it only if it passes the topic's compatibility strategy against the registered version (all versions for the *_transitive strategies): backward means the new schema can read the old data, forward that old readers can read the new data, full both. A schema equal to a registered version is always accepted.

Example:

    topic orders : OrderV2 compat backward history [OrderV1]
    function f(string) -> OrderV1 = ...   // field `note` in V2 has no default

Fix: Make the change compatible (add defaults, keep field types), or choose another strategy for the topic.",
    },
    CodeInfo {
        code: "E0507",
        title: "a consumer cannot read the topic",
        explanation: "A component subscribing with a schema must be able to read the topic's latest version (every version for backward_transitive and full_transitive), as the broker checks when it subscribes; otherwise it fails to start with IncompatibleSchemaException and is restarted forever.

Example:

    topic orders : Order
    function f(OrderWithTier) -> ...   // reads a field `tier` without default

Fix: Give the new reader field a default, or read with the topic's schema.",
    },
    CodeInfo {
        code: "E0508",
        title: "a topic's history is not a legal evolution",
        explanation: "A topic may list its earlier versions, oldest first (`history [V1, V2]`); each version, and finally the declared schema, must be a legal registration after the ones before it under the topic's strategy.

Example:

    topic t : V2 compat backward history [V1]   // V2 adds a field without default

Fix: Fix the new version, or correct the history.",
    },
    CodeInfo {
        code: "E0509",
        title: "producers disagree on a topic's schema",
        explanation: "Two components write different schemas to one topic. Each would register its own version, and readers see a mix of both.

Example:

    pipeline p { a -> t, b -> t }   // a writes Order, b writes Payment

Fix: Write one schema to the topic, or give each producer its own topic.",
    },
    CodeInfo {
        code: "W0302",
        title: "bytes on a typed topic",
        explanation: "A component reads or writes raw bytes on a topic declared with a schema. The broker lets it through (bytes skip the registry), so nothing checks the data.

Example:

    topic orders : Order
    function f(bytes) -> ...   // reads orders as bytes

Fix: Declare the schema the component really uses, or `auto_consume` to read any schema.",
    },
    CodeInfo {
        code: "W0303",
        title: "accepted by the broker, unsafe to decode",
        explanation: "The broker's resolver accepts the schemas, but some messages cannot be decoded: typically a reader enum that lost writer symbols. `mesh check --schema-rules strict` makes this an error.

Example:

    writer enum Tier { gold, silver, bronze }, reader enum Tier { gold, silver }

Fix: Keep every symbol the writer may send, or give the reader enum a default.",
    },
    CodeInfo {
        code: "W0304",
        title: "a cycle in the pipeline",
        explanation: "Components feed each other in a loop through their topics; messages can circulate forever unless a function stops forwarding them.

Example:

    pipeline p { a -> t1 -> b -> t2 -> a }

Fix: Make sure the loop ends, or break it.",
    },
    CodeInfo {
        code: "E0414",
        title: "a vertical autoscaler with a replica range",
        explanation: "A replica range creates a horizontal pod autoscaler; the operator rejects a vertical one (`pod { vpa }`) beside it, because both would resize the same pods.

Example:

    replicas = 1..4
    pod { vpa { update_policy { update_mode = \"Auto\" } } }

Fix: Use a fixed `replicas = N` with `vpa`, or drop `vpa`.",
    },
    CodeInfo {
        code: "W0103",
        title: "settings ignored in a FunctionMesh",
        explanation: "FunctionMesh items carry no metadata and are named `<mesh>-<item>`, so a component's `labels`, `annotations` and `pulsar_name` have no effect with `--mesh`.

Example:

    function f(string) = java(\"F\") { jar = \"f.jar\", labels { team = \"a\" } }   // compiled with --mesh

Fix: Use `pod { labels { ... } }`, or compile without `--mesh`.",
    },
    CodeInfo {
        code: "E0510",
        title: "a breaking schema change since the baseline",
        explanation: "`mesh check --baseline OLD` compares every topic with the deployed version (OLD is a .mesh file, or a bundle mesh compiled, which records its topics in the `<mesh>-topics` ConfigMap). A topic whose schema changed must pass its strategy against the old versions, or the broker refuses the new schema and readers deployed with the old one break.

Example:

    // deployed: schema Order = avro { id: long }
    // now:      schema Order = avro { id: long, note: string }   // compat backward, no default

Fix: Give new fields defaults, keep field types, or publish to a new topic.",
    },
    CodeInfo {
        code: "E0112",
        title: "a template used wrongly",
        explanation: "A component declared `@template` is not deployed itself: other components instantiate it by naming it as their runtime (`function eu(Order) -> Order = enrich_template { tenant = \"eu\" }`), inheriting its runtime, types and settings, and overriding settings key by key. A template cannot be wired into a pipeline, and only a template of the same kind can be instantiated.

Example:

    @template
    function enrich(Order) -> Order = java(\"com.shop.Enrich\") { jar = \"enrich.jar\" }
    pipeline p { orders -> enrich }     // E0112: wire an instance instead

Fix: Declare instances (`function enrich_eu(Order) -> Order = enrich { ... }`) and wire them.",
    },
];
