//! Reader/writer cases for `avro_compat`, from the Avro specification's
//! schema resolution rules, Pulsar's broker behaviour (Avro's `Resolver` as
//! its schema validator runs it) and Java `SchemaCompatibility`.
//!
//! Every row is checked under both rule sets; `Fails(p)` and `Warns(p)`
//! name a substring of the expected path.

use super::*;
use proptest::prelude::*;
use serde_json::json;

#[derive(Clone, Copy, Debug)]
enum Expect {
    Compatible,
    /// Compatible, with a warning whose path contains this.
    Warns(&'static str),
    /// Incompatible at a path containing this.
    Fails(&'static str),
    /// Incompatible at the schemas' roots.
    FailsAtRoot,
}

use Expect::*;

struct Case {
    name: &'static str,
    writer: &'static str,
    reader: &'static str,
    broker: Expect,
    strict: Expect,
}

const fn both(name: &'static str, writer: &'static str, reader: &'static str, expect: Expect) -> Case {
    Case { name, writer, reader, broker: expect, strict: expect }
}

const fn split(name: &'static str, writer: &'static str, reader: &'static str, broker: Expect, strict: Expect) -> Case {
    Case { name, writer, reader, broker, strict }
}

const CASES: &[Case] = &[
    // ---- primitives: the spec's promotions ----
    both("int to long", r#""int""#, r#""long""#, Compatible),
    both("int to float", r#""int""#, r#""float""#, Compatible),
    both("int to double", r#""int""#, r#""double""#, Compatible),
    both("long to float", r#""long""#, r#""float""#, Compatible),
    both("long to double", r#""long""#, r#""double""#, Compatible),
    both("float to double", r#""float""#, r#""double""#, Compatible),
    both("string to bytes", r#""string""#, r#""bytes""#, Compatible),
    both("bytes to string", r#""bytes""#, r#""string""#, Compatible),
    // ---- primitives: no demotion, no cross-family reads ----
    both("long to int", r#""long""#, r#""int""#, FailsAtRoot),
    both("double to float", r#""double""#, r#""float""#, FailsAtRoot),
    both("float to long", r#""float""#, r#""long""#, FailsAtRoot),
    both("double to long", r#""double""#, r#""long""#, FailsAtRoot),
    both("int to string", r#""int""#, r#""string""#, FailsAtRoot),
    both("string to int", r#""string""#, r#""int""#, FailsAtRoot),
    both("boolean to int", r#""boolean""#, r#""int""#, FailsAtRoot),
    both("int to boolean", r#""int""#, r#""boolean""#, FailsAtRoot),
    both("null to string", r#""null""#, r#""string""#, FailsAtRoot),
    both("bytes to double", r#""bytes""#, r#""double""#, FailsAtRoot),
    // ---- primitives: same type, either spelling ----
    both("null to null", r#""null""#, r#""null""#, Compatible),
    both("boolean to boolean", r#""boolean""#, r#"{"type":"boolean"}"#, Compatible),
    both("int to int", r#"{"type":"int"}"#, r#""int""#, Compatible),
    both("double to double", r#""double""#, r#""double""#, Compatible),
    both("string to string", r#""string""#, r#"{"type":"string"}"#, Compatible),
    // ---- records: fields added and removed ----
    both(
        "writer adds a field, the reader skips it",
        r#"{"type":"record","name":"User","fields":[{"name":"id","type":"long"},{"name":"email","type":"string"}]}"#,
        r#"{"type":"record","name":"User","fields":[{"name":"id","type":"long"}]}"#,
        Compatible,
    ),
    both(
        "reader adds a field with a default",
        r#"{"type":"record","name":"User","fields":[{"name":"id","type":"long"}]}"#,
        r#"{"type":"record","name":"User","fields":[{"name":"id","type":"long"},{"name":"email","type":"string","default":""}]}"#,
        Compatible,
    ),
    both(
        "reader adds a field without a default",
        r#"{"type":"record","name":"User","fields":[{"name":"id","type":"long"}]}"#,
        r#"{"type":"record","name":"User","fields":[{"name":"id","type":"long"},{"name":"email","type":"string"}]}"#,
        Fails("field email"),
    ),
    both(
        "reader adds a nullable field defaulting to null",
        r#"{"type":"record","name":"User","fields":[{"name":"id","type":"long"}]}"#,
        r#"{"type":"record","name":"User","fields":[{"name":"id","type":"long"},{"name":"email","type":["null","string"],"default":null}]}"#,
        Compatible,
    ),
    both(
        "reader adds a record field with a record default",
        r#"{"type":"record","name":"User","fields":[{"name":"id","type":"long"}]}"#,
        r#"{"type":"record","name":"User","fields":[{"name":"id","type":"long"},{"name":"address","type":{"type":"record","name":"Address","fields":[{"name":"city","type":"string"}]},"default":{"city":""}}]}"#,
        Compatible,
    ),
    both(
        "reader adds an enum field with an enum default but no field default",
        r#"{"type":"record","name":"User","fields":[{"name":"id","type":"long"}]}"#,
        r#"{"type":"record","name":"User","fields":[{"name":"id","type":"long"},{"name":"tier","type":{"type":"enum","name":"Tier","symbols":["gold","basic"],"default":"basic"}}]}"#,
        Fails("field tier"),
    ),
    both(
        "reader removes a field with a default",
        r#"{"type":"record","name":"User","fields":[{"name":"id","type":"long"},{"name":"email","type":"string","default":""}]}"#,
        r#"{"type":"record","name":"User","fields":[{"name":"id","type":"long"}]}"#,
        Compatible,
    ),
    both(
        "field order changes",
        r#"{"type":"record","name":"User","fields":[{"name":"id","type":"long"},{"name":"name","type":"string"}]}"#,
        r#"{"type":"record","name":"User","fields":[{"name":"name","type":"string"},{"name":"id","type":"long"}]}"#,
        Compatible,
    ),
    both(
        "empty records",
        r#"{"type":"record","name":"Ping","fields":[]}"#,
        r#"{"type":"record","name":"Ping","fields":[]}"#,
        Compatible,
    ),
    both(
        "field promoted from int to long",
        r#"{"type":"record","name":"Payment","fields":[{"name":"amount","type":"int"}]}"#,
        r#"{"type":"record","name":"Payment","fields":[{"name":"amount","type":"long"}]}"#,
        Compatible,
    ),
    both(
        "field changed from string to double",
        r#"{"type":"record","name":"Payment","fields":[{"name":"amount","type":"string"}]}"#,
        r#"{"type":"record","name":"Payment","fields":[{"name":"amount","type":"double"}]}"#,
        Fails("field amount"),
    ),
    both(
        "field narrowed from long to int",
        r#"{"type":"record","name":"Payment","fields":[{"name":"id","type":"long"},{"name":"amount","type":"long"}]}"#,
        r#"{"type":"record","name":"Payment","fields":[{"name":"id","type":"long"},{"name":"amount","type":"int"}]}"#,
        Fails("field amount"),
    ),
    both(
        "record read as a string",
        r#"{"type":"record","name":"User","fields":[{"name":"id","type":"long"}]}"#,
        r#""string""#,
        FailsAtRoot,
    ),
    both(
        "string read as a record",
        r#""string""#,
        r#"{"type":"record","name":"User","fields":[{"name":"id","type":"long"}]}"#,
        FailsAtRoot,
    ),
    // ---- records: nesting ----
    both(
        "nested field changes type",
        r#"{"type":"record","name":"User","fields":[{"name":"address","type":{"type":"record","name":"Address","fields":[{"name":"zip","type":"string"}]}}]}"#,
        r#"{"type":"record","name":"User","fields":[{"name":"address","type":{"type":"record","name":"Address","fields":[{"name":"zip","type":"int"}]}}]}"#,
        Fails("field address.zip"),
    ),
    both(
        "nested reader field without default",
        r#"{"type":"record","name":"User","fields":[{"name":"address","type":{"type":"record","name":"Address","fields":[{"name":"zip","type":"string"}]}}]}"#,
        r#"{"type":"record","name":"User","fields":[{"name":"address","type":{"type":"record","name":"Address","fields":[{"name":"zip","type":"string"},{"name":"country","type":"string"}]}}]}"#,
        Fails("field address.country"),
    ),
    both(
        "nested reader field with default",
        r#"{"type":"record","name":"User","fields":[{"name":"address","type":{"type":"record","name":"Address","fields":[{"name":"zip","type":"string"}]}}]}"#,
        r#"{"type":"record","name":"User","fields":[{"name":"address","type":{"type":"record","name":"Address","fields":[{"name":"zip","type":"string"},{"name":"country","type":"string","default":"NL"}]}}]}"#,
        Compatible,
    ),
    both(
        "three levels deep",
        r#"{"type":"record","name":"A","fields":[{"name":"b","type":{"type":"record","name":"B","fields":[{"name":"c","type":{"type":"record","name":"C","fields":[{"name":"n","type":"float"}]}}]}}]}"#,
        r#"{"type":"record","name":"A","fields":[{"name":"b","type":{"type":"record","name":"B","fields":[{"name":"c","type":{"type":"record","name":"C","fields":[{"name":"n","type":"int"}]}}]}}]}"#,
        Fails("field b.c.n"),
    ),
    split(
        "nested record renamed without alias",
        r#"{"type":"record","name":"Order","fields":[{"name":"address","type":{"type":"record","name":"Addr","fields":[{"name":"zip","type":"string"}]}}]}"#,
        r#"{"type":"record","name":"Order","fields":[{"name":"address","type":{"type":"record","name":"Address","fields":[{"name":"zip","type":"string"}]}}]}"#,
        Compatible,
        Fails("field address"),
    ),
    // ---- records: renames ----
    both(
        "field renamed with a reader alias",
        r#"{"type":"record","name":"User","fields":[{"name":"userName","type":"string"}]}"#,
        r#"{"type":"record","name":"User","fields":[{"name":"name","type":"string","aliases":["userName"]}]}"#,
        Compatible,
    ),
    both(
        "field renamed without alias",
        r#"{"type":"record","name":"User","fields":[{"name":"userName","type":"string"}]}"#,
        r#"{"type":"record","name":"User","fields":[{"name":"name","type":"string"}]}"#,
        Fails("field name"),
    ),
    both(
        "field alias on the writer side does not count",
        r#"{"type":"record","name":"User","fields":[{"name":"name","type":"string","aliases":["userName"]}]}"#,
        r#"{"type":"record","name":"User","fields":[{"name":"userName","type":"string"}]}"#,
        Fails("field userName"),
    ),
    both(
        "field renamed with alias and promoted",
        r#"{"type":"record","name":"User","fields":[{"name":"age","type":"int"}]}"#,
        r#"{"type":"record","name":"User","fields":[{"name":"years","type":"long","aliases":["age"]}]}"#,
        Compatible,
    ),
    both(
        "field renamed with alias to an incompatible type",
        r#"{"type":"record","name":"User","fields":[{"name":"age","type":"string"}]}"#,
        r#"{"type":"record","name":"User","fields":[{"name":"years","type":"long","aliases":["age"]}]}"#,
        Fails("field years"),
    ),
    both(
        "nested field renamed with alias",
        r#"{"type":"record","name":"User","fields":[{"name":"address","type":{"type":"record","name":"Address","fields":[{"name":"postcode","type":"string"}]}}]}"#,
        r#"{"type":"record","name":"User","fields":[{"name":"address","type":{"type":"record","name":"Address","fields":[{"name":"zip","type":"string","aliases":["postcode"]}]}}]}"#,
        Compatible,
    ),
    split(
        "record renamed without alias",
        r#"{"type":"record","name":"User","fields":[{"name":"id","type":"long"}]}"#,
        r#"{"type":"record","name":"Customer","fields":[{"name":"id","type":"long"}]}"#,
        Compatible,
        FailsAtRoot,
    ),
    both(
        "record renamed with a reader alias",
        r#"{"type":"record","name":"User","fields":[{"name":"id","type":"long"}]}"#,
        r#"{"type":"record","name":"Customer","aliases":["User"],"fields":[{"name":"id","type":"long"}]}"#,
        Compatible,
    ),
    both(
        "record renamed across namespaces with a qualified alias",
        r#"{"type":"record","name":"User","namespace":"a","fields":[{"name":"id","type":"long"}]}"#,
        r#"{"type":"record","name":"Customer","namespace":"b","aliases":["a.User"],"fields":[{"name":"id","type":"long"}]}"#,
        Compatible,
    ),
    split(
        "unqualified alias resolves in the reader's namespace",
        r#"{"type":"record","name":"User","namespace":"a","fields":[{"name":"id","type":"long"}]}"#,
        r#"{"type":"record","name":"Customer","namespace":"b","aliases":["User"],"fields":[{"name":"id","type":"long"}]}"#,
        Compatible,
        FailsAtRoot,
    ),
    both(
        "record and field renamed together with aliases",
        r#"{"type":"record","name":"User","fields":[{"name":"userName","type":"string"}]}"#,
        r#"{"type":"record","name":"Customer","aliases":["User"],"fields":[{"name":"name","type":"string","aliases":["userName"]}]}"#,
        Compatible,
    ),
    split(
        // Avro's applyAliases looks field aliases up under the reader record's
        // name, so with different record names and no record alias the broker
        // does not rename the field.
        "field alias under a renamed record without record alias",
        r#"{"type":"record","name":"UserV1","fields":[{"name":"userName","type":"string"}]}"#,
        r#"{"type":"record","name":"UserV2","fields":[{"name":"name","type":"string","aliases":["userName"]}]}"#,
        Fails("field name"),
        FailsAtRoot,
    ),
    split(
        "field alias under a record whose namespace changed",
        r#"{"type":"record","name":"User","namespace":"a","fields":[{"name":"userName","type":"string"}]}"#,
        r#"{"type":"record","name":"User","namespace":"b","fields":[{"name":"name","type":"string","aliases":["userName"]}]}"#,
        Fails("field name"),
        Compatible,
    ),
    both(
        "record namespace changes, same name",
        r#"{"type":"record","name":"User","namespace":"com.acme.v1","fields":[{"name":"id","type":"long"}]}"#,
        r#"{"type":"record","name":"User","namespace":"com.acme.v2","fields":[{"name":"id","type":"long"}]}"#,
        Compatible,
    ),
    both(
        "dotted name equals name plus namespace",
        r#"{"type":"record","name":"com.acme.User","fields":[{"name":"id","type":"long"}]}"#,
        r#"{"type":"record","name":"User","namespace":"com.acme","fields":[{"name":"id","type":"long"}]}"#,
        Compatible,
    ),
    both(
        "Java nested-class namespace with a dollar sign",
        r#"{"type":"record","name":"Inner","namespace":"com.acme.Outer$","fields":[{"name":"id","type":"long"}]}"#,
        r#"{"type":"record","name":"Inner","namespace":"com.acme.Outer$","fields":[{"name":"id","type":"long"},{"name":"note","type":"string","default":""}]}"#,
        Compatible,
    ),
    // ---- arrays and maps ----
    both("array items promoted", r#"{"type":"array","items":"int"}"#, r#"{"type":"array","items":"long"}"#, Compatible),
    both(
        "array items narrowed",
        r#"{"type":"array","items":"long"}"#,
        r#"{"type":"array","items":"int"}"#,
        Fails("array items"),
    ),
    both("map values promoted", r#"{"type":"map","values":"int"}"#, r#"{"type":"map","values":"double"}"#, Compatible),
    both(
        "map values changed",
        r#"{"type":"map","values":"string"}"#,
        r#"{"type":"map","values":"int"}"#,
        Fails("map values"),
    ),
    both("array read as map", r#"{"type":"array","items":"int"}"#, r#"{"type":"map","values":"int"}"#, FailsAtRoot),
    both(
        "map of arrays, inner items changed",
        r#"{"type":"map","values":{"type":"array","items":"int"}}"#,
        r#"{"type":"map","values":{"type":"array","items":"string"}}"#,
        Fails("map values, array items"),
    ),
    both(
        "array of records, reader adds a field without default",
        r#"{"type":"record","name":"Order","fields":[{"name":"lines","type":{"type":"array","items":{"type":"record","name":"Line","fields":[{"name":"sku","type":"string"}]}}}]}"#,
        r#"{"type":"record","name":"Order","fields":[{"name":"lines","type":{"type":"array","items":{"type":"record","name":"Line","fields":[{"name":"sku","type":"string"},{"name":"qty","type":"int"}]}}}]}"#,
        Fails("field lines, array items, field qty"),
    ),
    both(
        "array of records, item field promoted",
        r#"{"type":"record","name":"Order","fields":[{"name":"lines","type":{"type":"array","items":{"type":"record","name":"Line","fields":[{"name":"qty","type":"int"}]}}}]}"#,
        r#"{"type":"record","name":"Order","fields":[{"name":"lines","type":{"type":"array","items":{"type":"record","name":"Line","fields":[{"name":"qty","type":"long"}]}}}]}"#,
        Compatible,
    ),
    split(
        "array of records, item record renamed",
        r#"{"type":"array","items":{"type":"record","name":"Line","fields":[{"name":"qty","type":"int"}]}}"#,
        r#"{"type":"array","items":{"type":"record","name":"OrderLine","fields":[{"name":"qty","type":"int"}]}}"#,
        Compatible,
        Fails("array items"),
    ),
    both(
        "map of records, value field changed",
        r#"{"type":"map","values":{"type":"record","name":"Stock","fields":[{"name":"level","type":"string"}]}}"#,
        r#"{"type":"map","values":{"type":"record","name":"Stock","fields":[{"name":"level","type":"float"}]}}"#,
        Fails("map values, field level"),
    ),
    // ---- enums ----
    both(
        "same enum",
        r#"{"type":"enum","name":"Tier","symbols":["gold","silver"]}"#,
        r#"{"type":"enum","name":"Tier","symbols":["gold","silver"]}"#,
        Compatible,
    ),
    both(
        "reader adds a symbol",
        r#"{"type":"enum","name":"Tier","symbols":["gold","silver"]}"#,
        r#"{"type":"enum","name":"Tier","symbols":["gold","silver","bronze"]}"#,
        Compatible,
    ),
    split(
        "reader drops a symbol, no default",
        r#"{"type":"enum","name":"Tier","symbols":["gold","silver","bronze"]}"#,
        r#"{"type":"enum","name":"Tier","symbols":["gold","silver"]}"#,
        Warns("enum Tier symbol bronze"),
        Fails("enum Tier symbol bronze"),
    ),
    both(
        "reader drops a symbol, has a default",
        r#"{"type":"enum","name":"Tier","symbols":["gold","silver","bronze"]}"#,
        r#"{"type":"enum","name":"Tier","symbols":["gold","silver","unknown"],"default":"unknown"}"#,
        Compatible,
    ),
    both(
        "symbols reordered",
        r#"{"type":"enum","name":"Tier","symbols":["gold","silver","bronze"]}"#,
        r#"{"type":"enum","name":"Tier","symbols":["bronze","gold","silver"]}"#,
        Compatible,
    ),
    split(
        "enum field loses a symbol",
        r#"{"type":"record","name":"User","fields":[{"name":"tier","type":{"type":"enum","name":"Tier","symbols":["gold","bronze"]}}]}"#,
        r#"{"type":"record","name":"User","fields":[{"name":"tier","type":{"type":"enum","name":"Tier","symbols":["gold"]}}]}"#,
        Warns("field tier, enum Tier symbol bronze"),
        Fails("field tier, enum Tier symbol bronze"),
    ),
    split(
        "nullable enum field loses a symbol",
        r#"{"type":"record","name":"User","fields":[{"name":"tier","type":["null",{"type":"enum","name":"Tier","symbols":["gold","bronze"]}]}]}"#,
        r#"{"type":"record","name":"User","fields":[{"name":"tier","type":["null",{"type":"enum","name":"Tier","symbols":["gold"]}]}]}"#,
        Warns("enum Tier symbol bronze"),
        Fails("enum Tier symbol bronze"),
    ),
    both(
        "enum renamed without alias",
        r#"{"type":"enum","name":"Color","symbols":["RED"]}"#,
        r#"{"type":"enum","name":"Colour","symbols":["RED"]}"#,
        FailsAtRoot,
    ),
    both(
        "enum renamed with a reader alias",
        r#"{"type":"enum","name":"Color","symbols":["RED"]}"#,
        r#"{"type":"enum","name":"Colour","aliases":["Color"],"symbols":["RED"]}"#,
        Compatible,
    ),
    both(
        "enum alias in the wrong namespace",
        r#"{"type":"enum","name":"Old","namespace":"a","symbols":["RED"]}"#,
        r#"{"type":"enum","name":"New","namespace":"b","aliases":["Old"],"symbols":["RED"]}"#,
        FailsAtRoot,
    ),
    both(
        "enum namespace changes, same name",
        r#"{"type":"enum","name":"Tier","namespace":"a","symbols":["gold"]}"#,
        r#"{"type":"enum","name":"Tier","namespace":"b","symbols":["gold"]}"#,
        Compatible,
    ),
    both("enum read as string", r#"{"type":"enum","name":"Tier","symbols":["gold"]}"#, r#""string""#, FailsAtRoot),
    both("string read as enum", r#""string""#, r#"{"type":"enum","name":"Tier","symbols":["gold"]}"#, FailsAtRoot),
    split(
        // The resolver picks a reader union branch of a named type by full
        // name only (records also by structure), so the namespace matters here
        // though it does not for enum against enum.
        "enum into a nullable enum of another namespace",
        r#"{"type":"record","name":"R","fields":[{"name":"tier","type":{"type":"enum","name":"Tier","namespace":"a","symbols":["gold"]}}]}"#,
        r#"{"type":"record","name":"R","fields":[{"name":"tier","type":["null",{"type":"enum","name":"Tier","namespace":"b","symbols":["gold"]}]}]}"#,
        Fails("field tier"),
        Compatible,
    ),
    both(
        "enum into a nullable enum of the same name",
        r#"{"type":"record","name":"R","fields":[{"name":"tier","type":{"type":"enum","name":"Tier","symbols":["gold"]}}]}"#,
        r#"{"type":"record","name":"R","fields":[{"name":"tier","type":["null",{"type":"enum","name":"Tier","symbols":["gold","silver"]}]}]}"#,
        Compatible,
    ),
    both(
        "enum into a union through the reader alias",
        r#"{"type":"enum","name":"Old","symbols":["RED"]}"#,
        r#"["null",{"type":"enum","name":"New","aliases":["Old"],"symbols":["RED"]}]"#,
        Compatible,
    ),
    // ---- fixed ----
    both(
        "same fixed",
        r#"{"type":"fixed","name":"Hash","size":16}"#,
        r#"{"type":"fixed","name":"Hash","size":16}"#,
        Compatible,
    ),
    both(
        "fixed size changes",
        r#"{"type":"fixed","name":"Hash","size":16}"#,
        r#"{"type":"fixed","name":"Hash","size":32}"#,
        FailsAtRoot,
    ),
    both(
        "fixed renamed without alias",
        r#"{"type":"fixed","name":"Hash","size":16}"#,
        r#"{"type":"fixed","name":"Digest","size":16}"#,
        FailsAtRoot,
    ),
    both(
        "fixed renamed with a reader alias",
        r#"{"type":"fixed","name":"Hash","size":16}"#,
        r#"{"type":"fixed","name":"Digest","aliases":["Hash"],"size":16}"#,
        Compatible,
    ),
    both(
        "fixed namespace changes, same name",
        r#"{"type":"fixed","name":"Hash","namespace":"a","size":16}"#,
        r#"{"type":"fixed","name":"Hash","namespace":"b","size":16}"#,
        Compatible,
    ),
    both("fixed read as bytes", r#"{"type":"fixed","name":"Hash","size":16}"#, r#""bytes""#, FailsAtRoot),
    both("bytes read as fixed", r#""bytes""#, r#"{"type":"fixed","name":"Hash","size":16}"#, FailsAtRoot),
    both(
        "fixed field size changes",
        r#"{"type":"record","name":"Tx","fields":[{"name":"id","type":{"type":"fixed","name":"Id","size":8}}]}"#,
        r#"{"type":"record","name":"Tx","fields":[{"name":"id","type":{"type":"fixed","name":"Id","size":12}}]}"#,
        Fails("field id"),
    ),
    split(
        "fixed into a nullable fixed of another namespace",
        r#"{"type":"record","name":"Tx","fields":[{"name":"id","type":{"type":"fixed","name":"Id","namespace":"a","size":8}}]}"#,
        r#"{"type":"record","name":"Tx","fields":[{"name":"id","type":["null",{"type":"fixed","name":"Id","namespace":"b","size":8}]}]}"#,
        Fails("field id"),
        Compatible,
    ),
    // ---- unions ----
    both("value into nullable", r#""int""#, r#"["null","int"]"#, Compatible),
    both("nullable into value", r#"["null","int"]"#, r#""int""#, Fails("union branch 0")),
    both("branches reordered", r#"["null","string"]"#, r#"["string","null"]"#, Compatible),
    both("reader adds a branch", r#"["int","string"]"#, r#"["string","int","null"]"#, Compatible),
    both("reader removes a branch", r#"["int","string","null"]"#, r#"["int","string"]"#, Fails("union branch 2")),
    both("branch promoted inside unions", r#"["int","string"]"#, r#"["long","string"]"#, Compatible),
    both("single-branch union into value", r#"["int"]"#, r#""long""#, Compatible),
    both("value promoted into a union branch", r#""int""#, r#"["null","long"]"#, Compatible),
    both("value with no branch to go to", r#""int""#, r#"["null","string"]"#, FailsAtRoot),
    both("long cannot go to an int branch", r#""long""#, r#"["int","null"]"#, FailsAtRoot),
    both("nullable promoted", r#"["null","int"]"#, r#"["null","long"]"#, Compatible),
    both("string into a bytes branch", r#""string""#, r#"["null","bytes"]"#, Compatible),
    both("boolean with no branch", r#""boolean""#, r#"["null","int"]"#, FailsAtRoot),
    both("first promotable branch", r#""int""#, r#"["string","float","long"]"#, Compatible),
    both(
        "union branch unreadable by a smaller union",
        r#"["null","int","boolean"]"#,
        r#"["null","long"]"#,
        Fails("union branch 2"),
    ),
    both(
        "field made nullable",
        r#"{"type":"record","name":"User","fields":[{"name":"email","type":"string"}]}"#,
        r#"{"type":"record","name":"User","fields":[{"name":"email","type":["null","string"],"default":null}]}"#,
        Compatible,
    ),
    both(
        "nullable field made required",
        r#"{"type":"record","name":"User","fields":[{"name":"email","type":["null","string"],"default":null}]}"#,
        r#"{"type":"record","name":"User","fields":[{"name":"email","type":"string"}]}"#,
        Fails("field email, union branch 0"),
    ),
    both(
        "record into a nullable record of the same name",
        r#"{"type":"record","name":"User","fields":[{"name":"id","type":"long"}]}"#,
        r#"["null",{"type":"record","name":"User","fields":[{"name":"id","type":"long"}]}]"#,
        Compatible,
    ),
    split(
        "record into a nullable record of another name, same structure",
        r#"{"type":"record","name":"User","fields":[{"name":"id","type":"long"}]}"#,
        r#"["null",{"type":"record","name":"Customer","fields":[{"name":"id","type":"long"}]}]"#,
        Compatible,
        Fails("reader union branch 1"),
    ),
    both(
        "record into a nullable record of another namespace",
        r#"{"type":"record","name":"User","namespace":"a","fields":[{"name":"id","type":"long"}]}"#,
        r#"["null",{"type":"record","name":"User","namespace":"b","fields":[{"name":"id","type":"long"}]}]"#,
        Compatible,
    ),
    both(
        "record into a nullable record missing a required field",
        r#"{"type":"record","name":"User","fields":[{"name":"id","type":"long"}]}"#,
        r#"["null",{"type":"record","name":"User","fields":[{"name":"id","type":"long"},{"name":"email","type":"string"}]}]"#,
        Fails("reader union branch 1, field email"),
    ),
    both(
        "nullable record gains a defaulted field",
        r#"["null",{"type":"record","name":"User","fields":[{"name":"id","type":"long"}]}]"#,
        r#"["null",{"type":"record","name":"User","fields":[{"name":"id","type":"long"},{"name":"email","type":"string","default":""}]}]"#,
        Compatible,
    ),
    split(
        "record picks the structurally matching branch",
        r#"{"type":"record","name":"Point","namespace":"a","fields":[{"name":"x","type":"int"},{"name":"y","type":"int"}]}"#,
        r#"[{"type":"record","name":"Other","namespace":"b","fields":[{"name":"z","type":"string"}]},{"type":"record","name":"Point2","namespace":"b","fields":[{"name":"x","type":"long"},{"name":"y","type":"long"}]}]"#,
        Compatible,
        Fails("reader union branch"),
    ),
    split(
        // Avro's structural branch choice looks only one level deep, so the
        // broker commits to branch 0 and then fails inside it.
        "structural branch choice is shallow",
        r#"{"type":"record","name":"P","namespace":"a","fields":[{"name":"x","type":"int"},{"name":"inner","type":{"type":"record","name":"I","fields":[{"name":"v","type":"string"}]}}]}"#,
        r#"[{"type":"record","name":"Q","namespace":"b","fields":[{"name":"x","type":"int"},{"name":"inner","type":{"type":"record","name":"I1","fields":[{"name":"v","type":"int"}]}}]},{"type":"record","name":"R","namespace":"b","fields":[{"name":"x","type":"int"},{"name":"inner","type":{"type":"record","name":"I2","fields":[{"name":"v","type":"string"}]}}]}]"#,
        Fails("reader union branch 0, field inner.v"),
        Fails("reader union branch"),
    ),
    split(
        "structural branch choice prefers the same unqualified name",
        r#"{"type":"record","name":"P","namespace":"a","fields":[{"name":"x","type":"int"},{"name":"inner","type":{"type":"record","name":"I","fields":[{"name":"v","type":"string"}]}}]}"#,
        r#"[{"type":"record","name":"Q","namespace":"b","fields":[{"name":"x","type":"int"},{"name":"inner","type":{"type":"record","name":"I1","fields":[{"name":"v","type":"string"}]}}]},{"type":"record","name":"P","namespace":"b","fields":[{"name":"x","type":"int"},{"name":"inner","type":{"type":"record","name":"I2","fields":[{"name":"v","type":"int"}]}}]}]"#,
        Fails("reader union branch 1, field inner.v"),
        Fails("reader union branch 1, field inner"),
    ),
    both(
        "union of records reordered",
        r#"[{"type":"record","name":"A","fields":[{"name":"a","type":"int"}]},{"type":"record","name":"B","fields":[{"name":"b","type":"int"}]}]"#,
        r#"[{"type":"record","name":"B","fields":[{"name":"b","type":"int"}]},{"type":"record","name":"A","fields":[{"name":"a","type":"int"}]}]"#,
        Compatible,
    ),
    both(
        "map into a nullable map",
        r#"{"type":"map","values":"int"}"#,
        r#"["null",{"type":"map","values":"long"}]"#,
        Compatible,
    ),
    both(
        "array into a nullable array of another item type",
        r#"{"type":"array","items":"string"}"#,
        r#"["null",{"type":"array","items":"int"}]"#,
        Fails("reader union branch 1, array items"),
    ),
    // ---- recursion ----
    both(
        "linked list, same",
        r#"{"type":"record","name":"Node","fields":[{"name":"value","type":"int"},{"name":"next","type":["null","Node"],"default":null}]}"#,
        r#"{"type":"record","name":"Node","fields":[{"name":"value","type":"int"},{"name":"next","type":["null","Node"],"default":null}]}"#,
        Compatible,
    ),
    both(
        "linked list, value promoted",
        r#"{"type":"record","name":"Node","fields":[{"name":"value","type":"int"},{"name":"next","type":["null","Node"]}]}"#,
        r#"{"type":"record","name":"Node","fields":[{"name":"value","type":"long"},{"name":"next","type":["null","Node"]}]}"#,
        Compatible,
    ),
    both(
        "linked list, value changed",
        r#"{"type":"record","name":"Node","fields":[{"name":"value","type":"string"},{"name":"next","type":["null","Node"]}]}"#,
        r#"{"type":"record","name":"Node","fields":[{"name":"value","type":"int"},{"name":"next","type":["null","Node"]}]}"#,
        Fails("field value"),
    ),
    both(
        "linked list, reader adds a defaulted field",
        r#"{"type":"record","name":"Node","fields":[{"name":"value","type":"int"},{"name":"next","type":["null","Node"]}]}"#,
        r#"{"type":"record","name":"Node","fields":[{"name":"value","type":"int"},{"name":"next","type":["null","Node"]},{"name":"label","type":"string","default":""}]}"#,
        Compatible,
    ),
    both(
        "linked list, reader adds a required field",
        r#"{"type":"record","name":"Node","fields":[{"name":"value","type":"int"},{"name":"next","type":["null","Node"]}]}"#,
        r#"{"type":"record","name":"Node","fields":[{"name":"value","type":"int"},{"name":"next","type":["null","Node"]},{"name":"label","type":"string"}]}"#,
        Fails("field label"),
    ),
    split(
        "linked list renamed",
        r#"{"type":"record","name":"Node","fields":[{"name":"value","type":"int"},{"name":"next","type":["null","Node"]}]}"#,
        r#"{"type":"record","name":"Cell","fields":[{"name":"value","type":"int"},{"name":"next","type":["null","Cell"]}]}"#,
        Compatible,
        FailsAtRoot,
    ),
    both(
        "linked list renamed with alias",
        r#"{"type":"record","name":"Node","fields":[{"name":"value","type":"int"},{"name":"next","type":["null","Node"]}]}"#,
        r#"{"type":"record","name":"Cell","aliases":["Node"],"fields":[{"name":"value","type":"int"},{"name":"next","type":["null","Cell"]}]}"#,
        Compatible,
    ),
    both(
        "tree through an array of itself",
        r#"{"type":"record","name":"Tree","fields":[{"name":"label","type":"string"},{"name":"children","type":{"type":"array","items":"Tree"}}]}"#,
        r#"{"type":"record","name":"Tree","fields":[{"name":"label","type":"bytes"},{"name":"children","type":{"type":"array","items":"Tree"}}]}"#,
        Compatible,
    ),
    both(
        "mutually recursive records, promoted",
        r#"{"type":"record","name":"A","fields":[{"name":"x","type":"int"},{"name":"b","type":["null",{"type":"record","name":"B","fields":[{"name":"y","type":"int"},{"name":"a","type":["null","A"]}]}]}]}"#,
        r#"{"type":"record","name":"A","fields":[{"name":"x","type":"int"},{"name":"b","type":["null",{"type":"record","name":"B","fields":[{"name":"y","type":"long"},{"name":"a","type":["null","A"]}]}]}]}"#,
        Compatible,
    ),
    both(
        "mutually recursive records, changed",
        r#"{"type":"record","name":"A","fields":[{"name":"x","type":"int"},{"name":"b","type":["null",{"type":"record","name":"B","fields":[{"name":"y","type":"int"},{"name":"a","type":["null","A"]}]}]}]}"#,
        r#"{"type":"record","name":"A","fields":[{"name":"x","type":"int"},{"name":"b","type":["null",{"type":"record","name":"B","fields":[{"name":"y","type":"string"},{"name":"a","type":["null","A"]}]}]}]}"#,
        Fails("field y"),
    ),
    // ---- a named type defined once and referenced elsewhere ----
    both(
        "definition and reference swap fields",
        r#"{"type":"record","name":"Person","fields":[{"name":"home","type":{"type":"record","name":"Address","fields":[{"name":"zip","type":"string"}]}},{"name":"work","type":"Address"}]}"#,
        r#"{"type":"record","name":"Person","fields":[{"name":"work","type":{"type":"record","name":"Address","fields":[{"name":"zip","type":"string"}]}},{"name":"home","type":"Address"}]}"#,
        Compatible,
    ),
    both(
        "definition and reference swap fields, type changed",
        r#"{"type":"record","name":"Person","fields":[{"name":"home","type":{"type":"record","name":"Address","fields":[{"name":"zip","type":"string"}]}},{"name":"work","type":"Address"}]}"#,
        r#"{"type":"record","name":"Person","fields":[{"name":"work","type":{"type":"record","name":"Address","fields":[{"name":"zip","type":"int"}]}},{"name":"home","type":"Address"}]}"#,
        Fails("zip"),
    ),
    both(
        "enum defined in a union, referenced in a field, swapped",
        r#"{"type":"record","name":"Paint","fields":[{"name":"a","type":["null",{"type":"enum","name":"Color","symbols":["RED","GREEN"]}]},{"name":"b","type":"Color"}]}"#,
        r#"{"type":"record","name":"Paint","fields":[{"name":"b","type":{"type":"enum","name":"Color","symbols":["RED","GREEN"]}},{"name":"a","type":["null","Color"]}]}"#,
        Compatible,
    ),
    both(
        "record defined in array items, referenced in a field, swapped",
        r#"{"type":"record","name":"Order","fields":[{"name":"items","type":{"type":"array","items":{"type":"record","name":"Item","fields":[{"name":"sku","type":"string"}]}}},{"name":"first","type":"Item"}]}"#,
        r#"{"type":"record","name":"Order","fields":[{"name":"first","type":{"type":"record","name":"Item","fields":[{"name":"sku","type":"string"}]}},{"name":"items","type":{"type":"array","items":"Item"}}]}"#,
        Compatible,
    ),
    both(
        "fixed defined in one field, referenced in a map",
        r#"{"type":"record","name":"Keys","fields":[{"name":"main","type":{"type":"fixed","name":"Key","size":32}},{"name":"others","type":{"type":"map","values":"Key"}}]}"#,
        r#"{"type":"record","name":"Keys","fields":[{"name":"others","type":{"type":"map","values":{"type":"fixed","name":"Key","size":32}}},{"name":"main","type":"Key"}]}"#,
        Compatible,
    ),
    both(
        "reference by namespace-relative name",
        r#"{"type":"record","name":"Person","namespace":"com.acme","fields":[{"name":"home","type":{"type":"record","name":"Address","fields":[{"name":"zip","type":"string"}]}},{"name":"work","type":"com.acme.Address"}]}"#,
        r#"{"type":"record","name":"Person","namespace":"com.acme","fields":[{"name":"work","type":{"type":"record","name":"Address","fields":[{"name":"zip","type":"string"}]}},{"name":"home","type":"Address"}]}"#,
        Compatible,
    ),
    // ---- logical types: compared by their underlying types ----
    both(
        "decimal precision and scale change",
        r#"{"type":"bytes","logicalType":"decimal","precision":10,"scale":2}"#,
        r#"{"type":"bytes","logicalType":"decimal","precision":12,"scale":4}"#,
        Compatible,
    ),
    both(
        "timestamp-millis read as long",
        r#"{"type":"long","logicalType":"timestamp-millis"}"#,
        r#""long""#,
        Compatible,
    ),
    both(
        "long read as timestamp-millis",
        r#""long""#,
        r#"{"type":"long","logicalType":"timestamp-millis"}"#,
        Compatible,
    ),
    both(
        "timestamp-millis read as timestamp-micros",
        r#"{"type":"long","logicalType":"timestamp-millis"}"#,
        r#"{"type":"long","logicalType":"timestamp-micros"}"#,
        Compatible,
    ),
    both("date promoted to long", r#"{"type":"int","logicalType":"date"}"#, r#""long""#, Compatible),
    both("date read as string", r#"{"type":"int","logicalType":"date"}"#, r#""string""#, FailsAtRoot),
    both("time-millis read as int", r#"{"type":"int","logicalType":"time-millis"}"#, r#""int""#, Compatible),
    both("uuid read as string", r#"{"type":"string","logicalType":"uuid"}"#, r#""string""#, Compatible),
    both(
        "local-timestamp-micros read as long",
        r#"{"type":"long","logicalType":"local-timestamp-micros"}"#,
        r#""long""#,
        Compatible,
    ),
    both(
        "decimal bytes read as string",
        r#"{"type":"bytes","logicalType":"decimal","precision":10,"scale":2}"#,
        r#""string""#,
        Compatible,
    ),
    both(
        "decimal on fixed, size changes",
        r#"{"type":"fixed","name":"Money","size":8,"logicalType":"decimal","precision":10}"#,
        r#"{"type":"fixed","name":"Money","size":16,"logicalType":"decimal","precision":20}"#,
        FailsAtRoot,
    ),
    both(
        "decimal on fixed, precision changes",
        r#"{"type":"fixed","name":"Money","size":8,"logicalType":"decimal","precision":10,"scale":2}"#,
        r#"{"type":"fixed","name":"Money","size":8,"logicalType":"decimal","precision":12,"scale":3}"#,
        Compatible,
    ),
    both("unknown logical type", r#"{"type":"string","logicalType":"email"}"#, r#""string""#, Compatible),
    both(
        "decimal field gains precision",
        r#"{"type":"record","name":"Price","fields":[{"name":"amount","type":{"type":"bytes","logicalType":"decimal","precision":9,"scale":2}}]}"#,
        r#"{"type":"record","name":"Price","fields":[{"name":"amount","type":{"type":"bytes","logicalType":"decimal","precision":18,"scale":2}}]}"#,
        Compatible,
    ),
    // ---- namespaces ----
    both(
        "nested enum inherits the record namespace, both sides moved",
        r#"{"type":"record","name":"User","namespace":"a","fields":[{"name":"tier","type":{"type":"enum","name":"Tier","symbols":["gold"]}}]}"#,
        r#"{"type":"record","name":"User","namespace":"b","fields":[{"name":"tier","type":{"type":"enum","name":"Tier","symbols":["gold"]}}]}"#,
        Compatible,
    ),
    both(
        "named type with explicit namespace inside another",
        r#"{"type":"record","name":"User","namespace":"a","fields":[{"name":"id","type":{"type":"fixed","name":"Id","namespace":"ids","size":4}}]}"#,
        r#"{"type":"record","name":"User","namespace":"a","fields":[{"name":"id","type":{"type":"fixed","name":"ids.Id","size":4}}]}"#,
        Compatible,
    ),
    // ---- top-level primitives ----
    both("top-level string read as bytes", r#""string""#, r#""bytes""#, Compatible),
    both("top-level bytes read as string", r#""bytes""#, r#""string""#, Compatible),
    both("top-level int read as string", r#""int""#, r#""string""#, FailsAtRoot),
    both("top-level long read as long", r#""long""#, r#""long""#, Compatible),
];

fn check(case: &Case, rules: Rules, expect: Expect) -> Result<(), String> {
    let writer = parse_text(case.writer).map_err(|e| format!("writer does not parse: {e}"))?;
    let reader = parse_text(case.reader).map_err(|e| format!("reader does not parse: {e}"))?;
    let got = can_read(&writer, &reader, rules);
    let fine = match (&got, expect) {
        (Ok(v), Compatible) => v.warnings.is_empty(),
        (Ok(v), Warns(path)) => v.warnings.iter().any(|w| w.path.contains(path)),
        (Err(e), Fails(path)) => e.path.contains(path),
        (Err(e), FailsAtRoot) => e.path.is_empty(),
        _ => false,
    };
    if fine {
        Ok(())
    } else {
        Err(format!("expected {expect:?}, got {got:?}"))
    }
}

fn parse_text(text: &str) -> Result<Schema, String> {
    let json: serde_json::Value = serde_json::from_str(text).map_err(|e| e.to_string())?;
    parse(&json)
}

fn schema(value: serde_json::Value) -> Schema {
    parse(&value).expect("test schema parses")
}

#[test]
fn table() {
    assert!(CASES.len() >= 110, "only {} cases", CASES.len());
    let mut failures = Vec::new();
    for case in CASES {
        for (rules, expect) in [(Rules::Broker, case.broker), (Rules::Strict, case.strict)] {
            if let Err(why) = check(case, rules, expect) {
                failures.push(format!("{} ({rules:?}): {why}", case.name));
            }
        }
    }
    assert!(failures.is_empty(), "{} of {} checks failed:\n{}", failures.len(), CASES.len() * 2, failures.join("\n"));
}

#[test]
#[ignore = "prints every verdict, for reviewing messages"]
fn print_verdicts() {
    for case in CASES {
        for rules in [Rules::Broker, Rules::Strict] {
            let writer = parse_text(case.writer).unwrap();
            let reader = parse_text(case.reader).unwrap();
            println!("{} ({rules:?}): {:?}", case.name, can_read(&writer, &reader, rules));
        }
    }
}

#[test]
fn case_names_are_unique() {
    let mut seen = HashSet::new();
    for case in CASES {
        assert!(seen.insert(case.name), "duplicate case name {}", case.name);
    }
}

#[test]
fn messages_name_both_types() {
    let writer = schema(json!({"type":"record","name":"P","fields":[{"name":"amount","type":"string"}]}));
    let reader = schema(json!({"type":"record","name":"P","fields":[{"name":"amount","type":"double"}]}));
    let problem = can_read(&writer, &reader, Rules::Broker).unwrap_err();
    assert_eq!(problem.path, "field amount");
    assert_eq!(problem.message, "writer type string cannot be read as double");
    assert_eq!(problem.to_string(), "field amount: writer type string cannot be read as double");
}

#[test]
fn missing_default_message() {
    let writer = schema(json!({"type":"record","name":"U","fields":[]}));
    let reader = schema(json!({"type":"record","name":"U","fields":[{"name":"email","type":"string"}]}));
    let problem = can_read(&writer, &reader, Rules::Strict).unwrap_err();
    assert_eq!(problem.path, "field email");
    assert_eq!(problem.message, "reader field email has no default and the writer has no such field");
}

#[test]
fn every_lost_symbol_is_a_warning() {
    let writer = schema(json!({"type":"enum","name":"Tier","symbols":["gold","silver","bronze"]}));
    let reader = schema(json!({"type":"enum","name":"Tier","symbols":["gold"]}));
    let verdict = can_read(&writer, &reader, Rules::Broker).unwrap();
    let paths: Vec<&str> = verdict.warnings.iter().map(|w| w.path.as_str()).collect();
    assert_eq!(paths, ["enum Tier symbol silver", "enum Tier symbol bronze"]);
    assert!(verdict.warnings[0].message.contains("fails to decode"));
}

#[test]
fn shared_enum_warns_once_per_path() {
    let writer = schema(json!({"type":"record","name":"R","fields":[
        {"name":"a","type":{"type":"enum","name":"E","symbols":["x","y"]}},
        {"name":"b","type":"E"}
    ]}));
    let reader = schema(json!({"type":"record","name":"R","fields":[
        {"name":"a","type":{"type":"enum","name":"E","symbols":["x"]}},
        {"name":"b","type":"E"}
    ]}));
    let verdict = can_read(&writer, &reader, Rules::Broker).unwrap();
    let paths: Vec<&str> = verdict.warnings.iter().map(|w| w.path.as_str()).collect();
    assert_eq!(paths, ["field a, enum E symbol y", "field b, enum E symbol y"]);
}

#[test]
fn mutual_checks_both_directions() {
    let int = schema(json!("int"));
    let long = schema(json!("long"));
    assert!(can_read(&int, &long, Rules::Broker).is_ok());
    let problem = mutual(&int, &long, Rules::Broker).unwrap_err();
    assert!(problem.message.contains("data written with the second schema"), "{problem}");
    assert!(mutual(&long, &int, Rules::Broker).is_err());

    let v1 = schema(json!({"type":"record","name":"U","fields":[{"name":"id","type":"long"}]}));
    let v2 = schema(json!({"type":"record","name":"U","fields":[
        {"name":"id","type":"long"},{"name":"email","type":"string","default":""}
    ]}));
    assert_eq!(mutual(&v1, &v2, Rules::Strict), Ok(Verdict::default()));

    let small = schema(json!({"type":"enum","name":"Tier","symbols":["gold"]}));
    let big = schema(json!({"type":"enum","name":"Tier","symbols":["gold","silver"]}));
    let verdict = mutual(&small, &big, Rules::Broker).unwrap();
    assert_eq!(verdict.warnings.len(), 1);
    assert_eq!(verdict.warnings[0].path, "enum Tier symbol silver");
    assert!(mutual(&small, &big, Rules::Strict).is_err());
}

#[test]
fn identical_schemas_pass_even_with_colliding_aliases() {
    // Avro skips alias rewriting for identical schemas, and Pulsar never
    // checks a schema it already has.
    let s = schema(json!({"type":"record","name":"R","fields":[
        {"name":"a","type":"int"},{"name":"b","type":"string","aliases":["a"]}
    ]}));
    assert_eq!(can_read(&s, &s, Rules::Broker), Ok(Verdict::default()));
    assert_eq!(can_read(&s, &s, Rules::Strict), Ok(Verdict::default()));
}

#[test]
fn parses_every_primitive() {
    for name in ["null", "boolean", "int", "long", "float", "double", "bytes", "string"] {
        assert!(parse(&json!(name)).is_ok(), "{name}");
        assert!(parse(&json!({ "type": name })).is_ok(), "{{type: {name}}}");
    }
}

#[test]
fn malformed_schemas_are_errors() {
    let bad = [
        json!({}),
        json!(42),
        json!(null),
        json!("nope"),
        json!("bool"),
        json!({"type":"record"}),
        json!({"type":"record","name":"R"}),
        json!({"type":"record","name":"R","fields":{}}),
        json!({"type":"record","name":"R","fields":[{"name":"a","type":"int"},{"name":"a","type":"long"}]}),
        json!({"type":"record","name":"R","fields":[{"name":"a"}]}),
        json!({"type":"record","name":"R","fields":[{"name":"a","type":"Missing"}]}),
        json!({"type":"record","name":"R","fields":[{"name":"a","type":"int","default":"x"}]}),
        json!({"type":"record","name":"1R","fields":[]}),
        json!({"type":"record","name":"R","aliases":["no good"],"fields":[]}),
        json!({"type":"enum","name":"E"}),
        json!({"type":"enum","name":"E","symbols":["a","a"]}),
        json!({"type":"enum","name":"E","symbols":["a"],"default":"b"}),
        json!({"type":"enum","name":"E","symbols":[1]}),
        json!({"type":"fixed","name":"F"}),
        json!({"type":"fixed","name":"F","size":-1}),
        json!({"type":"array"}),
        json!({"type":"map"}),
        json!(["int", "int"]),
        json!(["int", ["null", "int"]]),
        json!({"type":"bytes","logicalType":7}),
    ];
    for json in bad {
        let result = parse(&json);
        assert!(result.is_err(), "{json} parsed as {result:?}");
        assert!(result.unwrap_err().starts_with("invalid Avro schema: "));
    }
}

#[test]
fn undefined_reference_is_an_incompatibility_not_a_panic() {
    let dangling = Schema::Ref { name: Name::new("Nowhere").unwrap() };
    let int = schema(json!("int"));
    let problem = can_read(&dangling, &int, Rules::Broker).unwrap_err();
    assert!(problem.message.contains("Nowhere"), "{problem}");
    assert!(can_read(&int, &dangling, Rules::Strict).is_err());
}

#[test]
fn paths_render_fields_with_dots_and_other_steps_with_commas() {
    let path = [
        Step::Field("orders".into()),
        Step::ArrayItems,
        Step::Field("address".into()),
        Step::Field("zip".into()),
        Step::WriterBranch(1),
        Step::ReaderBranch(0),
        Step::MapValues,
        Step::EnumSymbol { enum_name: "Tier".into(), symbol: "bronze".into() },
    ];
    assert_eq!(
        render(&path),
        "field orders, array items, field address.zip, union branch 1, reader union branch 0, map values, \
         enum Tier symbol bronze"
    );
    assert_eq!(render(&[]), "");
}

/// Random schema JSON: primitives, logical types, named types (with a few
/// shared names, so references and redefinitions occur), arrays, maps,
/// unions (often invalid) and records.
fn schema_json() -> impl Strategy<Value = serde_json::Value> {
    let leaf = prop_oneof![
        Just(json!("null")),
        Just(json!("boolean")),
        Just(json!("int")),
        Just(json!("long")),
        Just(json!("float")),
        Just(json!("double")),
        Just(json!("bytes")),
        Just(json!("string")),
        Just(json!({"type":"int","logicalType":"date"})),
        Just(json!({"type":"bytes","logicalType":"decimal","precision":4,"scale":2})),
        Just(json!({"type":"enum","name":"E","symbols":["A","B"]})),
        Just(json!({"type":"enum","name":"E","symbols":["B"],"default":"B"})),
        Just(json!({"type":"fixed","name":"F","size":4})),
        Just(json!("E")),
        Just(json!("R")),
    ];
    leaf.prop_recursive(4, 32, 4, |inner| {
        prop_oneof![
            inner.clone().prop_map(|items| json!({"type":"array","items":items})),
            inner.clone().prop_map(|values| json!({"type":"map","values":values})),
            prop::collection::vec(inner.clone(), 1..4).prop_map(serde_json::Value::Array),
            (prop::collection::vec((inner, any::<bool>()), 0..4), prop::sample::select(vec!["R", "S", "a.R"]))
                .prop_map(|(fields, name)| {
                    let fields: Vec<serde_json::Value> = fields
                        .into_iter()
                        .enumerate()
                        .map(|(i, (ty, aliased))| {
                            let mut field = json!({"name": format!("f{i}"), "type": ty});
                            if aliased {
                                field["aliases"] = json!([format!("old{i}")]);
                            }
                            field
                        })
                        .collect();
                    json!({"type":"record","name":name,"fields":fields})
                }),
        ]
    })
}

proptest! {
    #[test]
    fn never_panics_and_reads_itself(a in schema_json(), b in schema_json()) {
        let (Ok(a), Ok(b)) = (parse(&a), parse(&b)) else { return Ok(()) };
        for rules in [Rules::Broker, Rules::Strict] {
            let _ = can_read(&a, &b, rules);
            let _ = mutual(&a, &b, rules);
            // Bypass the identical-schema shortcut so the resolver itself is
            // exercised on a schema against itself.
            for s in [&a, &b] {
                let mut checker = Checker::new(s, s, rules);
                let node = checker.writer.node(s).unwrap();
                let outcome = checker.resolve(node, node);
                prop_assert!(outcome.is_ok(), "{:?} does not read itself under {:?}: {:?}", s, rules, outcome.err());
            }
        }
    }
}
