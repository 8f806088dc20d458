//! `mesh check` over many files, as CI runs it on a repository of pipelines:
//! 1 000 files of 50 components each, checked by the real binary.
//! Target: under 2 s on the 2-core machine. `cargo bench --bench check_many -- FILES COMPONENTS`.

#[path = "support/synth_gen.rs"]
#[allow(dead_code)]
mod synth_gen;

use std::time::Instant;

fn main() {
    let args: Vec<usize> = std::env::args().skip(1).filter_map(|a| a.parse().ok()).collect();
    // `cargo test --all-targets` runs benches too, without `--bench`: then a quick smoke run is enough.
    let benching = std::env::args().any(|a| a == "--bench");
    let files = args.first().copied().unwrap_or(if benching { 1000 } else { 4 });
    let components = args.get(1).copied().unwrap_or(if benching { 50 } else { 5 });
    let dir = tempfile::tempdir().expect("a temporary directory");
    let text = synth_gen::generate(components);
    for i in 0..files {
        std::fs::write(dir.path().join(format!("pipeline_{i:04}.mesh")), &text).expect("write a pipeline");
    }
    let mut times = Vec::new();
    for _ in 0..3 {
        let start = Instant::now();
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_mesh"))
            .arg("check")
            .arg(dir.path())
            .arg("--deny-warnings")
            .output()
            .expect("run mesh check");
        times.push(start.elapsed().as_secs_f64());
        assert!(out.status.success(), "mesh check failed:\n{}", String::from_utf8_lossy(&out.stderr));
    }
    times.sort_by(f64::total_cmp);
    let median = times[times.len() / 2];
    println!("mesh check: {files} files x {components} components, median of 3 runs: {:.3} s", median);
    let verdict = if median < 2.0 { "PASS" } else { "FAIL" };
    println!("target: {files} files of {components} components under 2 s: {verdict}");
}
