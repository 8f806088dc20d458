//! Generated programs shared by cluster tests and the apply benchmark.
#![allow(dead_code)] // Each test binary uses a different part of the support code.

/// A chain of `n` functions, one custom resource each; with the cluster
/// ConfigMap and the topics snapshot the bundle has `n + 2` objects.
pub fn chain(n: usize) -> String {
    let mut text = String::from(
        "pulsar p { web_service_url = \"http://b:8080\", broker_service_url = \"pulsar://b:6650\" }\n\
         topic t0 : string external\n",
    );
    let mut edges = String::from("t0");
    for i in 1..=n {
        text.push_str(&format!("topic t{i} : string external\n"));
        text.push_str(&format!("function f{i}(string) -> string = java(\"com.F\") {{ jar = \"f{i}.jar\" }}\n"));
        edges.push_str(&format!(" -> f{i} -> t{i}"));
    }
    text.push_str(&format!("pipeline big {{ {edges} }}\n"));
    text
}

/// `chain(n)` with new jars for the functions numbered in `changed`.
pub fn chain_changed(n: usize, changed: &[usize]) -> String {
    let mut text = chain(n);
    for i in changed {
        text = text.replace(&format!("jar = \"f{i}.jar\""), &format!("jar = \"f{i}-v2.jar\""));
    }
    text
}
