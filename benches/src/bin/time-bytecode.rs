//! Times bpfkit's and rbpf's interpreters on one benchmark program's memory
//! with any bytecode, the way a peer's own C harness times itself: a loop of
//! `RUNS` runs, best of 7 such batches, ns per run. For peers that cannot
//! sit in the criterion bench (uBPF's interpreter is C): build the program
//! the way that peer needs it (`-mcpu=v2` for an interpreter without JMP32),
//! write the memory out with `--write-mem`, and time all three on the same
//! bytes in the same session.
//!
//! Usage: `time-bytecode NAME FILE RUNS [--write-mem OUT]`; `NAME` picks the
//! memory and the expected r0 (both VMs must return it), `FILE` is raw
//! bytecode, `RUNS` a number or `auto` (batches of about 10 ms). Prints r0,
//! the instructions one run executes, the runs per batch and the two
//! figures, on one line of `key=value` words.

use std::process::ExitCode;
use std::time::Instant;

use bpfkit_bench::{bpfkit_runner, workloads, Workload};

const BATCHES: usize = 7;

/// Best ns per call of `f` over [`BATCHES`] batches of `runs` calls.
fn best_ns(runs: u64, mut f: impl FnMut() -> Result<u64, String>) -> Result<(u64, f64), String> {
    let mut best = f64::MAX;
    let mut r0 = 0;
    for _ in 0..BATCHES {
        let start = Instant::now();
        for _ in 0..runs {
            r0 = f()?;
        }
        best = best.min(start.elapsed().as_secs_f64() * 1e9 / runs as f64);
    }
    Ok((r0, best))
}

fn run(args: &[String]) -> Result<(), String> {
    let [name, file, runs, rest @ ..] = args else {
        return Err("usage: time-bytecode NAME FILE RUNS [--write-mem OUT]".into());
    };
    let w = workloads::all()
        .into_iter()
        .find(|w| w.name == name)
        .ok_or_else(|| format!("no program {name:?}"))?;
    match rest {
        [] => {}
        [flag, out] if flag == "--write-mem" => {
            std::fs::write(out, &w.mem).map_err(|e| format!("{out}: {e}"))?
        }
        _ => return Err(format!("unexpected arguments {rest:?}")),
    }
    let bytecode = std::fs::read(file).map_err(|e| format!("{file}: {e}"))?;

    let mut vm = bpfkit_runner::load(&bytecode).map_err(|e| format!("bpfkit: {e}"))?;
    let mut mem = w.mem.clone();
    let insns = vm
        .run(&mut mem)
        .map_err(|e| format!("bpfkit: {e}"))?
        .insn_count;
    let runs: u64 = match runs.as_str() {
        // About 10 ms of bpfkit at 1 ns per instruction.
        "auto" => (10_000_000 / (insns + 10)).max(1),
        n => n.parse().map_err(|e| format!("RUNS {n:?}: {e}"))?,
    };
    let (r0, bpfkit) = best_ns(runs, || {
        vm.run(std::hint::black_box(&mut mem))
            .map(|out| out.r0)
            .map_err(|e| format!("bpfkit: {e}"))
    })?;
    check(&w, "bpfkit", r0)?;

    let rbpf_vm = rbpf::EbpfVmMbuff::new(Some(&bytecode)).map_err(|e| format!("rbpf: {e}"))?;
    let mem = w.mem.clone();
    let (r0, rbpf) = best_ns(runs, || {
        rbpf_vm
            .execute_program(std::hint::black_box(&mem), &[])
            .map_err(|e| format!("rbpf: {e}"))
    })?;
    check(&w, "rbpf", r0)?;

    println!("program={name} r0={r0:#x} insns={insns} runs={runs} bpfkit_ns={bpfkit:.1} rbpf_ns={rbpf:.1}");
    Ok(())
}

fn check(w: &Workload, vm: &str, r0: u64) -> Result<(), String> {
    if w.answers(r0) {
        Ok(())
    } else {
        Err(format!(
            "{vm} returned {r0:#x}, the reference {:#x}",
            w.expected
        ))
    }
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match run(&args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("time-bytecode: {e}");
            ExitCode::FAILURE
        }
    }
}
