//! Compile-time benchmark: parse, check, emit and render synthetic programs of
//! 10, 1 000 and 10 000 components (see `examples/synth.rs` for their shape).
//!
//! ```text
//! cargo bench --bench compile              # N = 10, 1000, 10000
//! cargo bench --bench compile -- 100 5000  # other sizes
//! ```
//!
//! Each N runs in a fresh child process (this binary, re-executed with
//! `MESH_BENCH_CHILD=N`), so the peak memory read from `VmHWM` in
//! /proc/self/status belongs to that N alone. Times are medians over several
//! iterations after one warm-up run, which also checks that the program
//! compiles without diagnostics. Every stage is timed twice: wall time, and the
//! thread's CPU time, which does not count time spent waiting for a CPU when
//! the machine is shared. Targets: 10 000 components in under 1 s and under
//! 300 MB peak, and time per component that does not grow with N.

#[path = "support/synth_gen.rs"]
mod synth_gen;

use std::process::{Command, ExitCode};
use std::time::{Duration, Instant};

const CHILD_ENV: &str = "MESH_BENCH_CHILD";
const DEFAULT_SIZES: [usize; 3] = [10, 1_000, 10_000];
const TARGET_N: usize = 10_000;
const TARGET_TIME: Duration = Duration::from_secs(1);
const TARGET_PEAK_KB: u64 = 300 * 1024;
/// Per-component time at 10 000 over that at 1 000 above which growth is called superlinear.
const LINEAR_LIMIT: f64 = 1.5;
const STAGES: [&str; 4] = ["parse", "check", "emit", "render"];

/// Medians of one kind of time, in nanoseconds.
#[derive(Clone, Copy)]
struct Times {
    stages: [u64; 4],
    /// The median of the per-iteration sums, not the sum of the medians.
    total: u64,
}

/// One child's results.
struct Measurement {
    n: usize,
    iterations: usize,
    wall: Times,
    /// `None` where the thread CPU clock is not available.
    cpu: Option<Times>,
    peak_kb: Option<u64>,
    objects: usize,
    source_bytes: usize,
    yaml_bytes: usize,
}

fn main() -> ExitCode {
    if let Ok(n) = std::env::var(CHILD_ENV) {
        return match n.parse::<usize>() {
            Ok(n) if n >= 1 => child(n),
            _ => {
                eprintln!("{CHILD_ENV} must be a component count >= 1");
                ExitCode::from(2)
            }
        };
    }
    // `cargo bench` passes `--bench`; any number given after `--` is a size.
    let mut sizes: Vec<usize> = std::env::args().skip(1).filter_map(|a| a.parse().ok()).filter(|&n| n >= 1).collect();
    if sizes.is_empty() {
        // `cargo test --all-targets` runs benches too, without `--bench`: then a quick smoke run is enough.
        let benching = std::env::args().any(|a| a == "--bench");
        sizes = if benching { DEFAULT_SIZES.to_vec() } else { vec![10] };
    }
    parent(&sizes)
}

// ------------------------------------------------------------------ child

fn child(n: usize) -> ExitCode {
    let text = synth_gen::generate(n);
    let name = format!("synth-{n}.mesh");

    // Warm-up through the public one-call API, which also validates the program.
    let loaded = mesh::load::load_text(&name, &text);
    let out = mesh::compile::compile(&loaded, &mesh::compile::Options::default());
    if !out.diags.is_empty() {
        let shown = mesh::diag::render_human(&loaded.sources, &out.diags[..out.diags.len().min(5)], false);
        eprintln!("synthetic program with {n} components has {} diagnostics:\n{shown}", out.diags.len());
        return ExitCode::from(1);
    }
    let Some(objects) = out.objects else {
        eprintln!("synthetic program with {n} components produced no objects");
        return ExitCode::from(1);
    };
    let objects_len = objects.len();
    let yaml_bytes = mesh::render::yaml(&objects).len();
    drop((objects, out.program, loaded));

    let (min_iters, max_iters, budget) = match n {
        0..=100 => (20, 500, Duration::from_secs(1)),
        101..=2_000 => (5, 100, Duration::from_secs(3)),
        _ => (3, 20, Duration::from_secs(6)),
    };
    let mut samples: Vec<Sample> = Vec::new();
    let started = Instant::now();
    while samples.len() < min_iters || (samples.len() < max_iters && started.elapsed() < budget) {
        samples.push(iteration(&name, &text, objects_len));
    }

    let wall = times(samples.iter().map(|s| s.wall).collect());
    let cpu = samples.iter().map(|s| s.cpu).collect::<Option<Vec<_>>>().map(times);
    let m = Measurement {
        n,
        iterations: samples.len(),
        wall,
        cpu,
        peak_kb: peak_kb(),
        objects: objects_len,
        source_bytes: text.len(),
        yaml_bytes,
    };
    let cpu = m.cpu.map_or([-1; 5], |c| {
        [c.stages[0] as i64, c.stages[1] as i64, c.stages[2] as i64, c.stages[3] as i64, c.total as i64]
    });
    let fields: Vec<String> = [m.n as i64, m.iterations as i64]
        .into_iter()
        .chain(m.wall.stages.iter().map(|&t| t as i64))
        .chain([m.wall.total as i64])
        .chain(cpu)
        .chain([m.peak_kb.map_or(-1, |k| k as i64), m.objects as i64, m.source_bytes as i64, m.yaml_bytes as i64])
        .map(|x| x.to_string())
        .collect();
    println!("RESULT {}", fields.join(" "));
    ExitCode::SUCCESS
}

/// One iteration's time per stage, in nanoseconds.
struct Sample {
    wall: [u64; 4],
    cpu: Option<[u64; 4]>,
}

/// A point in time on both clocks.
struct Stamp(Instant, Option<u64>);

impl Stamp {
    fn now() -> Stamp {
        Stamp(Instant::now(), thread_cpu_ns())
    }
}

/// One timed run of every stage.
fn iteration(name: &str, text: &str, expected_objects: usize) -> Sample {
    let t0 = Stamp::now();
    let loaded = mesh::load::load_text(name, text);
    let t1 = Stamp::now();
    let (program, diags) = mesh::check::check(&loaded, &mesh::check::Options::default());
    let t2 = Stamp::now();
    let program = program.unwrap_or_else(|| panic!("check failed with {} diagnostics", diags.len()));
    let objects = mesh::emit::crd::emit(&program, mesh::emit::crd::CrdOptions::default());
    let t3 = Stamp::now();
    let yaml = mesh::render::yaml(&objects);
    let t4 = Stamp::now();
    assert_eq!(objects.len(), expected_objects);
    std::hint::black_box(&yaml);
    // Freeing is part of a compiler run too, but of no stage: drop outside the timings.
    drop((yaml, objects, program, diags, loaded));
    let stamps = [t0, t1, t2, t3, t4];
    let wall = std::array::from_fn(|i| (stamps[i + 1].0 - stamps[i].0).as_nanos() as u64);
    let cpu: Option<Vec<u64>> = (0..4).map(|i| Some(stamps[i + 1].1?.saturating_sub(stamps[i].1?))).collect();
    Sample { wall, cpu: cpu.map(|c| [c[0], c[1], c[2], c[3]]) }
}

fn times(samples: Vec<[u64; 4]>) -> Times {
    let stage = |i: usize| median(samples.iter().map(|s| s[i]).collect());
    Times {
        stages: [stage(0), stage(1), stage(2), stage(3)],
        total: median(samples.iter().map(|s| s.iter().sum()).collect()),
    }
}

fn median(mut v: Vec<u64>) -> u64 {
    v.sort_unstable();
    let mid = v.len() / 2;
    if v.len().is_multiple_of(2) {
        (v[mid - 1] + v[mid]) / 2
    } else {
        v[mid]
    }
}

/// The CPU time this thread has used, in nanoseconds.
#[cfg(target_os = "linux")]
fn thread_cpu_ns() -> Option<u64> {
    #[repr(C)]
    struct Timespec {
        tv_sec: i64,
        tv_nsec: i64,
    }
    const CLOCK_THREAD_CPUTIME_ID: i32 = 3;
    extern "C" {
        fn clock_gettime(clock: i32, ts: *mut Timespec) -> i32;
    }
    let mut ts = Timespec { tv_sec: 0, tv_nsec: 0 };
    // SAFETY: clock_gettime from the C library std already links; it writes
    // one timespec (two 64-bit fields on 64-bit Linux) to a valid pointer.
    let rc = unsafe { clock_gettime(CLOCK_THREAD_CPUTIME_ID, &mut ts) };
    (rc == 0 && cfg!(target_pointer_width = "64")).then(|| ts.tv_sec as u64 * 1_000_000_000 + ts.tv_nsec as u64)
}

#[cfg(not(target_os = "linux"))]
fn thread_cpu_ns() -> Option<u64> {
    None
}

/// The process's peak resident set size (`VmHWM`), in KiB; Linux only.
fn peak_kb() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

// ------------------------------------------------------------------ parent

fn parent(sizes: &[usize]) -> ExitCode {
    let exe = match std::env::current_exe() {
        Ok(exe) => exe,
        Err(e) => {
            eprintln!("cannot find the benchmark executable: {e}");
            return ExitCode::from(2);
        }
    };
    println!("mesh compile benchmark: parse + check + emit + render, medians per run");
    let cpus = std::thread::available_parallelism().map_or(0, |n| n.get());
    match std::fs::read_to_string("/proc/loadavg") {
        Ok(load) => {
            println!("{cpus} CPUs, load average {}", load.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        }
        Err(_) => println!("{cpus} CPUs"),
    }
    println!();
    let mut results = Vec::new();
    for &n in sizes {
        let out = match Command::new(&exe).env(CHILD_ENV, n.to_string()).output() {
            Ok(out) => out,
            Err(e) => {
                eprintln!("cannot run the child for N = {n}: {e}");
                return ExitCode::from(2);
            }
        };
        let stdout = String::from_utf8_lossy(&out.stdout);
        match stdout.lines().find_map(parse_result) {
            Some(m) if out.status.success() => results.push(m),
            _ => {
                eprintln!("N = {n} failed ({}):\n{}{}", out.status, stdout, String::from_utf8_lossy(&out.stderr));
                return ExitCode::from(1);
            }
        }
    }
    print_table("wall time", &results, |m| Some(m.wall), true);
    if results.iter().all(|m| m.cpu.is_some()) {
        print_table("CPU time (excludes waiting for a CPU on a busy machine)", &results, |m| m.cpu, false);
    }
    print_verdicts(&results);
    ExitCode::SUCCESS
}

fn parse_result(line: &str) -> Option<Measurement> {
    let rest = line.strip_prefix("RESULT ")?;
    let f: Vec<i64> = rest.split_whitespace().map(str::parse).collect::<Result<_, _>>().ok()?;
    let &[n, iterations, w0, w1, w2, w3, wt, c0, c1, c2, c3, ct, peak, objects, source_bytes, yaml_bytes] =
        f.as_slice()
    else {
        return None;
    };
    let u = |x: i64| x as u64;
    Some(Measurement {
        n: n as usize,
        iterations: iterations as usize,
        wall: Times { stages: [u(w0), u(w1), u(w2), u(w3)], total: u(wt) },
        cpu: (ct >= 0).then(|| Times { stages: [u(c0), u(c1), u(c2), u(c3)], total: u(ct) }),
        peak_kb: (peak >= 0).then_some(u(peak)),
        objects: objects as usize,
        source_bytes: source_bytes as usize,
        yaml_bytes: yaml_bytes as usize,
    })
}

fn ms(ns: u64) -> String {
    format!("{:.3}", ns as f64 / 1e6)
}

fn us_per_component(t: &Times, n: usize) -> f64 {
    t.total as f64 / 1e3 / n as f64
}

fn print_table(title: &str, results: &[Measurement], pick: impl Fn(&Measurement) -> Option<Times>, sizes: bool) {
    println!("{title}, median per run:");
    let mut header = format!("{:>7} {:>5}", "N", "iters");
    for s in STAGES {
        header.push_str(&format!(" {:>10}", format!("{s} ms")));
    }
    header.push_str(&format!(" {:>10} {:>9}", "total ms", "us/comp"));
    if sizes {
        header.push_str(&format!(" {:>8} {:>8} {:>8} {:>8}", "peak MB", "objects", "src KB", "yaml KB"));
    }
    println!("{header}");
    println!("{}", "-".repeat(header.len()));
    for m in results {
        let Some(t) = pick(m) else { continue };
        let mut row = format!("{:>7} {:>5}", m.n, m.iterations);
        for s in t.stages {
            row.push_str(&format!(" {:>10}", ms(s)));
        }
        row.push_str(&format!(" {:>10} {:>9.2}", ms(t.total), us_per_component(&t, m.n)));
        if sizes {
            let peak = m.peak_kb.map_or("n/a".to_string(), |k| format!("{:.1}", k as f64 / 1024.0));
            row.push_str(&format!(
                " {:>8} {:>8} {:>8} {:>8}",
                peak,
                m.objects,
                m.source_bytes / 1024,
                m.yaml_bytes / 1024
            ));
        }
        println!("{row}");
    }
    println!();
}

fn print_verdicts(results: &[Measurement]) {
    let verdict = |ok: bool| if ok { "PASS" } else { "FAIL" };
    match results.iter().find(|m| m.n == TARGET_N) {
        Some(m) => {
            // CPU time is what the compiler costs; wall time adds whatever else the machine runs.
            let (t, clock) = match m.cpu {
                Some(c) => (c.total, format!("CPU time; wall {} ms", ms(m.wall.total))),
                None => (m.wall.total, "wall time".to_string()),
            };
            println!(
                "target: {TARGET_N} components under {} s: {} ({} ms {clock})",
                TARGET_TIME.as_secs(),
                verdict(u128::from(t) < TARGET_TIME.as_nanos()),
                ms(t)
            );
            match m.peak_kb {
                Some(kb) => println!(
                    "target: {TARGET_N} components under {} MB peak: {} ({:.1} MB)",
                    TARGET_PEAK_KB / 1024,
                    verdict(kb < TARGET_PEAK_KB),
                    kb as f64 / 1024.0
                ),
                None => println!("target: peak memory: not measured (no /proc/self/status)"),
            }
        }
        None => println!("targets: not checked (N = {TARGET_N} was not run)"),
    }
    let small = results.iter().find(|m| m.n == 1_000);
    let big = results.iter().find(|m| m.n == TARGET_N);
    if let (Some(a), Some(b)) = (small, big) {
        let (ta, tb, clock) = match (a.cpu, b.cpu) {
            (Some(ca), Some(cb)) => (ca, cb, "CPU"),
            _ => (a.wall, b.wall, "wall"),
        };
        let ratio = us_per_component(&tb, b.n) / us_per_component(&ta, a.n);
        println!(
            "growth: {clock} time per component at {} / at {} = {ratio:.2}: {} (linear if <= {LINEAR_LIMIT})",
            b.n,
            a.n,
            if ratio <= LINEAR_LIMIT { "linear" } else { "SUPERLINEAR" }
        );
        let stages: Vec<String> = STAGES
            .iter()
            .enumerate()
            .map(|(i, s)| {
                let per = |t: &Times, n: usize| t.stages[i] as f64 / n as f64;
                format!("{s} {:.2}", per(&tb, b.n) / per(&ta, a.n).max(f64::MIN_POSITIVE))
            })
            .collect();
        println!("growth by stage (same ratio): {}", stages.join(", "));
    }
}
