//! `mesh apply` against the in-memory API server of the tests, over HTTP:
//! requests and wall time to create a bundle, to re-apply it unchanged, and
//! to apply a change to k objects. Targets: an unchanged re-apply writes
//! nothing; a change to k objects writes k.
//! `cargo bench --bench apply -- OBJECTS K`.

#[path = "../tests/support/apiserver.rs"]
mod apiserver;
#[path = "../tests/support/programs.rs"]
mod programs;

use std::time::{Duration, Instant};

fn apply(server: &apiserver::ApiServer, file: &std::path::Path) -> Duration {
    let start = Instant::now();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_mesh"))
        .arg("apply")
        .arg(file)
        .env("KUBECONFIG", server.kubeconfig())
        .output()
        .expect("run mesh apply");
    let elapsed = start.elapsed();
    assert!(out.status.success(), "mesh apply failed:\n{}", String::from_utf8_lossy(&out.stderr));
    elapsed
}

fn main() {
    let args: Vec<usize> = std::env::args().skip(1).filter_map(|a| a.parse().ok()).collect();
    // `cargo test --all-targets` runs benches too, without `--bench`: then a quick smoke run is enough.
    let benching = std::env::args().any(|a| a == "--bench");
    let objects = args.first().copied().unwrap_or(if benching { 1000 } else { 40 }).max(3);
    let k = args.get(1).copied().unwrap_or(10).min(objects - 2);
    let functions = objects - 2;
    let dir = tempfile::tempdir().expect("a temporary directory");
    let file = dir.path().join("big.mesh");
    std::fs::write(&file, programs::chain(functions)).expect("write the program");
    let server = apiserver::ApiServer::start();

    let first = apply(&server, &file);
    let created = server.writes();
    let mut again = Vec::new();
    let mut requests = 0;
    let mut writes = 0;
    for _ in 0..3 {
        server.clear_requests();
        again.push(apply(&server, &file));
        requests = server.requests().len();
        writes += server.writes();
    }
    again.sort();
    let changed: Vec<usize> = (0..k).map(|i| 1 + i * functions / k.max(1)).collect();
    std::fs::write(&file, programs::chain_changed(functions, &changed)).expect("write the change");
    server.clear_requests();
    let change = apply(&server, &file);
    let change_writes = server.writes();
    let change_requests = server.requests().len();

    let build = if cfg!(debug_assertions) { "debug" } else { "release" };
    println!("mesh apply, {objects} objects ({functions} Functions + 2 ConfigMaps), {build} build, HTTP to 127.0.0.1");
    println!("  first apply:        {:>8.3} s  {created} writes (objects + inventory parent)", first.as_secs_f64());
    println!(
        "  unchanged re-apply: {:>8.3} s  {requests} requests, {} writes (median of 3)",
        again[1].as_secs_f64(),
        writes / 3
    );
    println!(
        "  change to {k} objects: {:>6.3} s  {change_requests} requests, {change_writes} writes",
        change.as_secs_f64()
    );
    let pass = writes == 0 && change_writes == k;
    println!("target: no write when unchanged, k writes for k changes: {}", if pass { "PASS" } else { "FAIL" });
    assert!(pass);
}
