#!/bin/sh
# Host instructions the interpreter executes per BPF instruction, per
# benchmark program, counted by valgrind's callgrind: the same figure on
# every run of the same binary, whatever else the machine is doing, so it
# shows what a change to the interpreter does on a VM without performance
# counters (time per instruction also depends on the core; see RESULTS.md).
#   benches/host_insns.sh [--v2] [PROGRAM...]   (--v2: the -mcpu=v2 builds)
set -eu
cd "$(dirname "$0")/.."
command -v valgrind >/dev/null || { echo "host_insns.sh: needs valgrind" >&2; exit 1; }
cargo build -q --release -p bpfkit-bench --bin run-workload
bin=${CARGO_TARGET_DIR:-target}/release/run-workload
v2=
if [ "${1:-}" = --v2 ]; then
	v2=--v2
	shift
fi
refs() { valgrind --tool=callgrind --callgrind-out-file=/dev/null "$bin" "$1" "$2" $v2 2>&1 | sed -n 's/.*refs: *//p' | tr -d ,; }
for w in ${*:-fnv1a crc32 sum_array mix switch_bytes sieve packet_parse}; do
	n=200
	insns=$("$bin" "$w" 1 $v2 | sed -n 's/.*, \([0-9]*\) instructions per run.*/\1/p')
	one=$(refs "$w" 1)
	many=$(refs "$w" $((n + 1)))
	echo "$w $(echo "$one $many $n $insns" | awk '{printf "%.2f", ($2 - $1) / $3 / $4}') host instructions per BPF instruction"
done
