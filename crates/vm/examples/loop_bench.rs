//! A quick timing of the interpreter: ns per executed instruction on tight
//! loops, and the fixed cost of one run. Measures, asserts nothing.
//!
//! `cargo run --release -p bpfkit-vm --example loop_bench`

use std::hint::black_box;
use std::time::Instant;

use bpfkit_isa::{check, Insn};
use bpfkit_vm::Vm;

const ITERS: i32 = 2_000_000;

fn vm(slots: &[Insn]) -> Vm {
    Vm::new(&check(slots).expect("valid program")).expect("loads")
}

/// Best of many short runs of `f`, in ns per call, with the instruction
/// count. The minimum filters out preemption on a busy machine.
fn time(mut f: impl FnMut() -> u64, calls: u32) -> (f64, u64) {
    let mut best = f64::MAX;
    let mut insns = 0;
    for _ in 0..30 {
        let t = Instant::now();
        for _ in 0..calls {
            insns = black_box(f());
        }
        best = best.min(t.elapsed().as_nanos() as f64 / calls as f64);
    }
    (best, insns)
}

fn report(name: &str, slots: &[Insn], mem: &mut [u8]) {
    let mut vm = vm(slots);
    vm.set_budget(u64::MAX);
    let (ns, insns) = time(|| vm.run(black_box(mem)).expect("runs").insn_count, 1);
    println!(
        "{name:<28} {insns:>10} insns  {:>8.3} ms  {:.3} ns/insn",
        ns / 1e6,
        ns / insns as f64
    );
}

fn main() {
    // r0 = 0; r1 = 0; loop: r0 += r1; r1 += 1; if r1 < N goto loop; exit
    let alu_loop = [
        Insn::new(0xb7, 0, 0, 0, 0),
        Insn::new(0xb7, 1, 0, 0, 0),
        Insn::new(0x0f, 0, 1, 0, 0),
        Insn::new(0x07, 1, 0, 0, 1),
        Insn::new(0xa5, 1, 0, -3, ITERS),
        Insn::new(0x95, 0, 0, 0, 0),
    ];
    report("alu loop (3 insns/iter)", &alu_loop, &mut []);

    // Stack traffic: *(u64 *)(r10 - 8) += r1 through a load and a store.
    let mem_loop = [
        Insn::new(0x7a, 10, 0, -8, 0),    // *(u64 *)(r10 - 8) = 0
        Insn::new(0xb7, 1, 0, 0, 0),      // r1 = 0
        Insn::new(0x79, 2, 10, -8, 0),    // r2 = *(u64 *)(r10 - 8)
        Insn::new(0x0f, 2, 1, 0, 0),      // r2 += r1
        Insn::new(0x7b, 10, 2, -8, 0),    // *(u64 *)(r10 - 8) = r2
        Insn::new(0x07, 1, 0, 0, 1),      // r1 += 1
        Insn::new(0xa5, 1, 0, -5, ITERS), // if r1 < N goto -5
        Insn::new(0x79, 0, 10, -8, 0),    // r0 = *(u64 *)(r10 - 8)
        Insn::new(0x95, 0, 0, 0, 0),
    ];
    report("stack loop (5 insns/iter)", &mem_loop, &mut []);

    // Input traffic: sum the bytes of a 64-byte input, over and over.
    // r3 = 0; loop: r4 = r3 & 63; r4 += r1; r5 = *(u8 *)(r4 + 0); r0 += r5;
    // r3 += 1; if r3 < N goto loop; exit
    let input_loop = [
        Insn::new(0xb7, 3, 0, 0, 0),
        Insn::new(0xbf, 4, 3, 0, 0),
        Insn::new(0x57, 4, 0, 0, 63),
        Insn::new(0x0f, 4, 1, 0, 0),
        Insn::new(0x71, 5, 4, 0, 0),
        Insn::new(0x0f, 0, 5, 0, 0),
        Insn::new(0x07, 3, 0, 0, 1),
        Insn::new(0xa5, 3, 0, -7, ITERS),
        Insn::new(0x95, 0, 0, 0, 0),
    ];
    report("input loop (7 insns/iter)", &input_loop, &mut [1u8; 64]);

    // A longer block of mixed ALU work on several registers (10 insns/iter),
    // closer to compiled code than the 3-instruction loop.
    let mixed_loop = [
        Insn::new(0xb7, 1, 0, 0, 0),       // r1 = 0
        Insn::new(0x0f, 2, 1, 0, 0),       // loop: r2 += r1
        Insn::new(0xaf, 3, 2, 0, 0),       // r3 ^= r2
        Insn::new(0xbf, 4, 3, 0, 0),       // r4 = r3
        Insn::new(0x67, 4, 0, 0, 3),       // r4 <<= 3
        Insn::new(0x0f, 5, 4, 0, 0),       // r5 += r4
        Insn::new(0xbf, 6, 5, 0, 0),       // r6 = r5
        Insn::new(0x77, 6, 0, 0, 7),       // r6 >>= 7
        Insn::new(0xaf, 2, 6, 0, 0),       // r2 ^= r6
        Insn::new(0x07, 1, 0, 0, 1),       // r1 += 1
        Insn::new(0xa5, 1, 0, -10, ITERS), // if r1 < N goto loop
        Insn::new(0xbf, 0, 2, 0, 0),
        Insn::new(0x95, 0, 0, 0, 0),
    ];
    report("mixed loop (10 insns/iter)", &mixed_loop, &mut []);

    // Fixed cost: r0 = 1; exit, run many times.
    let mut tiny = vm(&[Insn::new(0xb7, 0, 0, 0, 1), Insn::new(0x95, 0, 0, 0, 0)]);
    let mut mem = [0u8; 16];
    let (ns, _) = time(
        || tiny.run(black_box(&mut mem)).expect("runs").insn_count,
        200_000,
    );
    println!("fixed cost (2-insn program)   {ns:.2} ns per run (including its 2 insns)");
}
