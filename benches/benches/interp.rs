//! Criterion benches: bpfkit's interpreter and rbpf's side by side, one group
//! per program, same bytecode and same memory. `bench-report` turns the
//! results into the table of `RESULTS.md`.

use bpfkit_bench::{bpfkit_runner, workloads, Workload};
use criterion::measurement::WallTime;
use criterion::{criterion_group, criterion_main, BenchmarkGroup, Criterion};
use std::hint::black_box;

fn bench_bpfkit(group: &mut BenchmarkGroup<'_, WallTime>, w: &Workload) {
    let mut vm = bpfkit_runner::load(w.bytecode).expect("bpfkit loads the program");
    let mut mem = w.mem.clone();
    group.bench_function("bpfkit", |b| {
        b.iter(|| vm.run(black_box(&mut mem)).expect("bpfkit run").r0)
    });
}

fn bench_rbpf(group: &mut BenchmarkGroup<'_, WallTime>, w: &Workload) {
    // EbpfVmMbuff with an empty mbuff: r1 = mem, as in bpfkit's run.
    let vm = rbpf::EbpfVmMbuff::new(Some(w.bytecode)).expect("rbpf accepts the program");
    let mem = w.mem.clone();
    group.bench_function("rbpf", |b| {
        b.iter(|| vm.execute_program(black_box(&mem), &[]).expect("rbpf run"))
    });
}

fn interp(c: &mut Criterion) {
    for w in workloads::all() {
        let mut group = c.benchmark_group(w.name);
        bench_bpfkit(&mut group, &w);
        bench_rbpf(&mut group, &w);
        group.finish();
    }
}

criterion_group!(benches, interp);
criterion_main!(benches);
