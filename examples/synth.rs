//! Prints a synthetic .mesh program with N components, for benchmarks and
//! stress tests:
//!
//! ```text
//! cargo run --release --example synth -- 1000 > big.mesh
//! mesh compile big.mesh > /dev/null
//! ```
//!
//! The program is a Kafka source feeding a chain of Java functions, with every
//! fourth chain topic fanning out to a Kafka sink and a branch function that
//! feeds an Elasticsearch sink. The same N always gives the same text.

#[path = "../benches/support/synth_gen.rs"]
mod synth_gen;

use std::io::Write;
use std::process::ExitCode;

const USAGE: &str = "usage: synth N    (N >= 1: the number of components)";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let n = match args.as_slice() {
        [n] => n.parse::<usize>().ok().filter(|&n| n >= 1),
        _ => None,
    };
    let Some(n) = n else {
        eprintln!("{USAGE}");
        return ExitCode::from(2);
    };
    let text = synth_gen::generate(n);
    let mut out = std::io::stdout().lock();
    if out.write_all(text.as_bytes()).and_then(|()| out.flush()).is_err() {
        return ExitCode::from(2);
    }
    ExitCode::SUCCESS
}
