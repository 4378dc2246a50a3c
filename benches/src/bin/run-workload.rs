//! Runs one benchmark program many times in bpfkit's VM, for profilers
//! (`valgrind --tool=callgrind`, `perf record`) that need a plain process.
//!
//! Usage: `run-workload NAME [RUNS] [--v2]` (default 10 000 runs; `--v2`
//! runs the `-mcpu=v2` build); prints r0 and the instructions executed per
//! run.

use std::process::ExitCode;

use bpfkit_bench::{bpfkit_runner, workloads};

fn main() -> ExitCode {
    let mut args: Vec<String> = std::env::args().skip(1).collect();
    let v2 = args.last().is_some_and(|a| a == "--v2");
    if v2 {
        args.pop();
    }
    let mut args = args.into_iter();
    let Some(name) = args.next() else {
        eprintln!("usage: run-workload NAME [RUNS] [--v2]");
        return ExitCode::FAILURE;
    };
    let runs: u64 = match args.next().map(|s| s.parse()) {
        None => 10_000,
        Some(Ok(n)) => n,
        Some(Err(e)) => {
            eprintln!("run-workload: RUNS: {e}");
            return ExitCode::FAILURE;
        }
    };
    let Some(w) = workloads::all().into_iter().find(|w| w.name == name) else {
        let names: Vec<_> = workloads::all().iter().map(|w| w.name).collect();
        eprintln!(
            "run-workload: no program {name:?}; one of {}",
            names.join(", ")
        );
        return ExitCode::FAILURE;
    };
    let bytecode = if v2 { w.bytecode_v2 } else { w.bytecode };
    let mut vm = match bpfkit_runner::load(bytecode) {
        Ok(vm) => vm,
        Err(e) => {
            eprintln!("run-workload: {name}: {e}");
            return ExitCode::FAILURE;
        }
    };
    let mut mem = w.mem.clone();
    let mut last = None;
    for _ in 0..runs {
        match vm.run(std::hint::black_box(&mut mem)) {
            Ok(out) => last = Some(out),
            Err(e) => {
                eprintln!("run-workload: {name}: {e}");
                return ExitCode::FAILURE;
            }
        }
    }
    if let Some(out) = last {
        println!(
            "{name}: r0 = {:#x}, {} instructions per run, {runs} runs",
            out.r0, out.insn_count
        );
    }
    ExitCode::SUCCESS
}
