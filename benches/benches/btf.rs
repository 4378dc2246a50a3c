//! Criterion benches of the kernel's own BTF (`/sys/kernel/btf/vmlinux`,
//! about 100,000 types): parsing it, and its raw and C dumps. For the
//! side-by-side with bpftool (whole processes), see `benches/btf_vs_bpftool.sh`.

use bpfkit_object::btf::{dump_c, dump_raw, Btf};
use criterion::{criterion_group, criterion_main, Criterion};
use std::hint::black_box;

const VMLINUX: &str = "/sys/kernel/btf/vmlinux";

fn btf(c: &mut Criterion) {
    let bytes = match std::fs::read(VMLINUX) {
        Ok(b) => b,
        Err(e) => {
            eprintln!("skipped: {VMLINUX}: {e}");
            return;
        }
    };
    let parsed = Btf::parse(&bytes).expect("vmlinux BTF parses");
    eprintln!("{VMLINUX}: {} bytes, {} types", bytes.len(), parsed.len());
    let mut group = c.benchmark_group("vmlinux_btf");
    group.sample_size(20);
    group.bench_function("parse", |b| {
        b.iter(|| Btf::parse(black_box(&bytes)).expect("parses").len())
    });
    group.bench_function("dump_raw", |b| {
        b.iter(|| dump_raw(black_box(&parsed)).len())
    });
    group.bench_function("dump_c", |b| {
        b.iter(|| dump_c(black_box(&parsed)).expect("dumps").len())
    });
    group.finish();
}

criterion_group!(benches, btf);
criterion_main!(benches);
