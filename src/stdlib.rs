//! The standard library: `.mesh` files under `stdlib/`, embedded in the binary
//! so `use std::io::kafka` needs no files beside the user's.

/// Module path (without the `std::` prefix) and source text of every stdlib file.
pub static MODULES: &[(&str, &str)] = &[
    ("io::aerospike", include_str!("../stdlib/io/aerospike.mesh")),
    ("io::alluxio", include_str!("../stdlib/io/alluxio.mesh")),
    ("io::azure_data_explorer", include_str!("../stdlib/io/azure_data_explorer.mesh")),
    ("io::batch_data_generator", include_str!("../stdlib/io/batch_data_generator.mesh")),
    ("io::canal", include_str!("../stdlib/io/canal.mesh")),
    ("io::cassandra", include_str!("../stdlib/io/cassandra.mesh")),
    ("io::data_generator", include_str!("../stdlib/io/data_generator.mesh")),
    ("io::debezium_mongodb", include_str!("../stdlib/io/debezium_mongodb.mesh")),
    ("io::debezium_mssql", include_str!("../stdlib/io/debezium_mssql.mesh")),
    ("io::debezium_mysql", include_str!("../stdlib/io/debezium_mysql.mesh")),
    ("io::debezium_oracle", include_str!("../stdlib/io/debezium_oracle.mesh")),
    ("io::debezium_postgres", include_str!("../stdlib/io/debezium_postgres.mesh")),
    ("io::dynamodb", include_str!("../stdlib/io/dynamodb.mesh")),
    ("io::elasticsearch", include_str!("../stdlib/io/elasticsearch.mesh")),
    ("io::file", include_str!("../stdlib/io/file.mesh")),
    ("io::hbase", include_str!("../stdlib/io/hbase.mesh")),
    ("io::hdfs3", include_str!("../stdlib/io/hdfs3.mesh")),
    ("io::http", include_str!("../stdlib/io/http.mesh")),
    ("io::influxdb", include_str!("../stdlib/io/influxdb.mesh")),
    ("io::influxdb_v1", include_str!("../stdlib/io/influxdb_v1.mesh")),
    ("io::jdbc_clickhouse", include_str!("../stdlib/io/jdbc_clickhouse.mesh")),
    ("io::jdbc_mariadb", include_str!("../stdlib/io/jdbc_mariadb.mesh")),
    ("io::jdbc_openmldb", include_str!("../stdlib/io/jdbc_openmldb.mesh")),
    ("io::jdbc_postgres", include_str!("../stdlib/io/jdbc_postgres.mesh")),
    ("io::jdbc_sqlite", include_str!("../stdlib/io/jdbc_sqlite.mesh")),
    ("io::kafka", include_str!("../stdlib/io/kafka.mesh")),
    ("io::kafka_connect_adaptor", include_str!("../stdlib/io/kafka_connect_adaptor.mesh")),
    ("io::kinesis", include_str!("../stdlib/io/kinesis.mesh")),
    ("io::mongo", include_str!("../stdlib/io/mongo.mesh")),
    ("io::mqtt", include_str!("../stdlib/io/mqtt.mesh")),
    ("io::netty", include_str!("../stdlib/io/netty.mesh")),
    ("io::nsq", include_str!("../stdlib/io/nsq.mesh")),
    ("io::rabbitmq", include_str!("../stdlib/io/rabbitmq.mesh")),
    ("io::redis", include_str!("../stdlib/io/redis.mesh")),
    ("io::solr", include_str!("../stdlib/io/solr.mesh")),
];

pub fn module(path: &str) -> Option<&'static str> {
    MODULES.iter().find(|(p, _)| *p == path).map(|(_, text)| *text)
}

/// Display name of a stdlib module in diagnostics.
pub fn file_name(path: &str) -> String {
    format!("<std>/{}.mesh", path.replace("::", "/"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::FileId;

    #[test]
    fn every_module_parses() {
        for (path, text) in MODULES {
            let (_, diags) = crate::syntax::parse_file(FileId(0), text);
            assert!(diags.is_empty(), "std::{path}: {diags:?}");
        }
    }

    #[test]
    fn every_file_is_embedded() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("stdlib");
        let mut stack = vec![root.clone()];
        while let Some(dir) = stack.pop() {
            for entry in std::fs::read_dir(&dir).unwrap() {
                let path = entry.unwrap().path();
                if path.is_dir() {
                    stack.push(path);
                } else if path.extension().is_some_and(|e| e == "mesh") {
                    let rel = path.strip_prefix(&root).unwrap().with_extension("");
                    let module = rel.to_string_lossy().replace(std::path::MAIN_SEPARATOR, "::");
                    assert!(
                        super::module(&module).is_some(),
                        "stdlib/{} is not listed in src/stdlib.rs",
                        rel.display()
                    );
                }
            }
        }
    }
}
