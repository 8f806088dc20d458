//! Pulsar schemas as the checker and the emitters see them.

pub mod avro_compat;
pub mod compat;

use serde_json::Value as Json;

#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Schema {
    pub kind: SchemaKind,
    /// The `schema` declaration this came from, for messages.
    pub name: Option<String>,
    /// The Java class a function uses for values of this schema (`typeClassName`).
    pub class_name: Option<String>,
}

#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case", tag = "type", content = "of")]
pub enum SchemaKind {
    Primitive(Primitive),
    /// An Avro schema in its JSON form.
    Avro {
        schema: Json,
    },
    /// Pulsar JSON schemas are stored as Avro record schemas too.
    Json {
        schema: Json,
    },
    Protobuf {
        file: String,
        message: String,
    },
    ProtobufNative {
        file: String,
        message: String,
    },
    KeyValue {
        key: Box<Schema>,
        value: Box<Schema>,
        separated: bool,
    },
    AutoConsume,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Primitive {
    Bytes,
    String,
    Boolean,
    Int8,
    Int16,
    Int32,
    Int64,
    Float,
    Double,
    Date,
    Time,
    Timestamp,
    Instant,
    LocalDate,
    LocalTime,
    LocalDateTime,
}

impl Primitive {
    /// Mesh spelling, Pulsar schema type, Java class.
    const TABLE: [(&'static str, Primitive, &'static str, &'static str); 16] = [
        ("bytes", Primitive::Bytes, "BYTES", "[B"),
        ("string", Primitive::String, "STRING", "java.lang.String"),
        ("boolean", Primitive::Boolean, "BOOLEAN", "java.lang.Boolean"),
        ("int8", Primitive::Int8, "INT8", "java.lang.Byte"),
        ("int16", Primitive::Int16, "INT16", "java.lang.Short"),
        ("int32", Primitive::Int32, "INT32", "java.lang.Integer"),
        ("int64", Primitive::Int64, "INT64", "java.lang.Long"),
        ("float", Primitive::Float, "FLOAT", "java.lang.Float"),
        ("double", Primitive::Double, "DOUBLE", "java.lang.Double"),
        ("date", Primitive::Date, "DATE", "java.util.Date"),
        ("time", Primitive::Time, "TIME", "java.sql.Time"),
        ("timestamp", Primitive::Timestamp, "TIMESTAMP", "java.sql.Timestamp"),
        ("instant", Primitive::Instant, "INSTANT", "java.time.Instant"),
        ("local_date", Primitive::LocalDate, "LOCAL_DATE", "java.time.LocalDate"),
        ("local_time", Primitive::LocalTime, "LOCAL_TIME", "java.time.LocalTime"),
        ("local_date_time", Primitive::LocalDateTime, "LOCAL_DATE_TIME", "java.time.LocalDateTime"),
    ];

    pub fn from_name(name: &str) -> Option<Primitive> {
        Primitive::TABLE.iter().find(|r| r.0 == name).map(|r| r.1)
    }
    pub fn names() -> impl Iterator<Item = &'static str> {
        Primitive::TABLE.iter().map(|r| r.0)
    }
    fn row(self) -> &'static (&'static str, Primitive, &'static str, &'static str) {
        // Every variant has a row.
        Primitive::TABLE.iter().find(|r| r.1 == self).unwrap_or(&Primitive::TABLE[0])
    }
    pub fn name(self) -> &'static str {
        self.row().0
    }
    pub fn schema_type(self) -> &'static str {
        self.row().2
    }
    pub fn java_class(self) -> &'static str {
        self.row().3
    }
}

/// The Java class a Pulsar function runtime loads for records without a class of their own.
pub const GENERIC_OBJECT: &str = "org.apache.pulsar.client.api.schema.GenericObject";
pub const KEY_VALUE_CLASS: &str = "org.apache.pulsar.common.schema.KeyValue";

impl Schema {
    pub fn primitive(p: Primitive) -> Schema {
        Schema { kind: SchemaKind::Primitive(p), name: None, class_name: None }
    }

    pub fn bytes() -> Schema {
        Schema::primitive(Primitive::Bytes)
    }

    /// Pulsar's name for the schema type (`AVRO`, `STRING`, ...).
    pub fn schema_type(&self) -> &'static str {
        match &self.kind {
            SchemaKind::Primitive(p) => p.schema_type(),
            SchemaKind::Avro { .. } => "AVRO",
            SchemaKind::Json { .. } => "JSON",
            SchemaKind::Protobuf { .. } => "PROTOBUF",
            SchemaKind::ProtobufNative { .. } => "PROTOBUF_NATIVE",
            SchemaKind::KeyValue { .. } => "KEY_VALUE",
            SchemaKind::AutoConsume => "AUTO_CONSUME",
        }
    }

    /// The mesh spelling of the schema type, for messages and `accepts` lists.
    pub fn kind_name(&self) -> &'static str {
        match &self.kind {
            SchemaKind::Primitive(p) => p.name(),
            SchemaKind::Avro { .. } => "avro",
            SchemaKind::Json { .. } => "json",
            SchemaKind::Protobuf { .. } => "protobuf",
            SchemaKind::ProtobufNative { .. } => "protobuf_native",
            SchemaKind::KeyValue { .. } => "key_value",
            SchemaKind::AutoConsume => "auto_consume",
        }
    }

    /// The `typeClassName` for this schema.
    pub fn type_class_name(&self) -> String {
        if let Some(c) = &self.class_name {
            return c.clone();
        }
        match &self.kind {
            SchemaKind::Primitive(p) => p.java_class().to_string(),
            SchemaKind::KeyValue { .. } => KEY_VALUE_CLASS.to_string(),
            _ => GENERIC_OBJECT.to_string(),
        }
    }

    /// The name to show in messages: the declared name or the type.
    pub fn display(&self) -> String {
        match (&self.name, &self.kind) {
            (Some(n), _) => n.clone(),
            (None, SchemaKind::KeyValue { key, value, .. }) => {
                format!("key_value<{}, {}>", key.display(), value.display())
            }
            (None, _) => self.kind_name().to_string(),
        }
    }

    /// Whether two schemas describe the same data, whatever they are called.
    pub fn same_data(&self, other: &Schema) -> bool {
        match (&self.kind, &other.kind) {
            (SchemaKind::KeyValue { key: k1, value: v1, .. }, SchemaKind::KeyValue { key: k2, value: v2, .. }) => {
                k1.same_data(k2) && v1.same_data(v2)
            }
            (a, b) => a == b,
        }
    }
}
