//! What one dispatch of bpfkit's interpreter costs on this machine, apart
//! from any real program: loops of eight ALU instructions that are either
//! independent of each other or one chain through a single register.
//!
//! Usage: `cargo run --release -p bpfkit-bench --bin dispatch-floor`.
//!
//! The independent loops give the cost of the dispatch itself; the chained
//! ones add the latency of a BPF register carried through the register
//! file in memory (store to load forwarding, about five cycles on most
//! x86 cores). A real program's ns/insn lies between the two, divided by
//! how many instructions its superinstructions run per dispatch.

use std::process::ExitCode;
use std::time::Instant;

use bpfkit_bench::bpfkit_runner;
use bpfkit_isa::{asm, encode_slots, Syntax};

/// The loop: r1 counts to 10 000, `body` runs each time (eight
/// instructions, plus the counter's fused add-and-jump).
fn program(body: &str) -> String {
    format!(
        "r1 = 0\nr2 = 1\nr3 = 1\nr4 = 1\nr5 = 1\nr6 = 1\nr7 = 1\nr8 = 1\nr9 = 1\n\
         loop:\n{body}r1 += 1\nif r1 < 10000 goto loop\nr0 = r3\nexit\n"
    )
}

fn main() -> ExitCode {
    let eight = |line: &dyn Fn(usize) -> String| (0..8).map(line).collect::<String>();
    let regs = [2, 3, 4, 5, 6, 7, 8, 9];
    let cases = [
        (
            "independent mov",
            eight(&|i| format!("r{} = {i}\n", regs[i])),
        ),
        (
            "independent add",
            eight(&|i| format!("r{} += 1\n", regs[i])),
        ),
        (
            "independent add reg",
            eight(&|i| format!("r{} += r1\n", regs[i])),
        ),
        ("chained add", eight(&|_| "r3 += 1\n".to_string())),
        ("chained xor reg", eight(&|_| "r3 ^= r1\n".to_string())),
    ];
    for (name, body) in cases {
        let loaded = asm::assemble(&program(&body), Syntax::Llvm)
            .map_err(|e| format!("asm: {e}"))
            .and_then(|slots| bpfkit_runner::load(&encode_slots(&slots)));
        let mut vm = match loaded {
            Ok(vm) => vm,
            Err(e) => {
                eprintln!("dispatch-floor: {name}: {e}");
                return ExitCode::FAILURE;
            }
        };
        let mut best = f64::MAX;
        let mut insns = 0;
        for _ in 0..30 {
            let start = Instant::now();
            match vm.run(std::hint::black_box(&mut [])) {
                Ok(out) => insns = out.insn_count,
                Err(e) => {
                    eprintln!("dispatch-floor: {name}: {e}");
                    return ExitCode::FAILURE;
                }
            }
            best = best.min(start.elapsed().as_secs_f64());
        }
        println!(
            "{name:20} {:.2} ns/insn ({insns} instructions, best of 30 runs)",
            best * 1e9 / insns as f64
        );
    }
    ExitCode::SUCCESS
}
