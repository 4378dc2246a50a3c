#!/bin/sh
# Runs the interpreter benchmarks (bpfkit and rbpf side by side) with a short
# measurement time, then prints the Markdown table of RESULTS.md.
#   benches/report.sh            bench, then report
#   benches/report.sh --no-run   report from the last `cargo bench` results
set -eu
cd "$(dirname "$0")/.."
if [ "${1:-}" != "--no-run" ]; then
	cargo bench -p bpfkit-bench --bench interp -- --warm-up-time 1 --measurement-time 3 >&2
fi
cargo run -q --release -p bpfkit-bench --bin bench-report
