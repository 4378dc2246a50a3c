#!/bin/sh
# bpfkit, rbpf and uBPF's interpreter on the same bytecode and memory, in one
# session, each timed the same way (runs in a loop, best of 7 batches, ns
# per run), and a Markdown table of the figures.
#
# uBPF is the iovisor uBPF of 2018 that crates.io's ubpf-sys 0.1.1 vendors
# (the only uBPF on crates.io): `cargo fetch` of a throwaway crate brings its
# source into cargo's registry, gcc builds it with benches/peers/
# ubpf_harness.c into $TMPDIR; none of uBPF is built by cargo or kept here.
# It has no JMP32, so all three run the -mcpu=v2 builds
# (benches/programs/v2/, see programs/build.sh).
#   benches/ubpf_vs_bpfkit.sh [PROGRAM...]
#   benches/ubpf_vs_bpfkit.sh --host-insns [PROGRAM...]
# --host-insns: instead of time, the host instructions bpfkit and uBPF
# execute per BPF instruction, counted by valgrind's callgrind (exact and
# repeatable, where time on a shared VM is not; see RESULTS.md).
# Needs gcc, and crates.io the first time.
set -eu
cd "$(dirname "$0")/.."
root=$(pwd)
command -v gcc >/dev/null || { echo "ubpf_vs_bpfkit.sh: needs gcc to build uBPF" >&2; exit 1; }
if [ "${1:-}" = --host-insns ] && ! command -v valgrind >/dev/null; then
	echo "ubpf_vs_bpfkit.sh: --host-insns needs valgrind" >&2
	exit 1
fi
work=${TMPDIR:-/tmp}/bpfkit-ubpf
mkdir -p "$work/fetch/src"
cat > "$work/fetch/Cargo.toml" <<'TOML'
[package]
name = "fetch-ubpf"
version = "0.0.0"
edition = "2021"
publish = false

[dependencies]
ubpf-sys = "=0.1.1"
TOML
: > "$work/fetch/src/lib.rs"
cargo fetch -q --manifest-path "$work/fetch/Cargo.toml"
vm=$(ls -d "${CARGO_HOME:-$HOME/.cargo}"/registry/src/*/ubpf-sys-0.1.1/lib/ubpf/vm | head -n 1)
[ -f "$vm/ubpf_vm.c" ] || { echo "ubpf_vs_bpfkit.sh: no uBPF source under $vm" >&2; exit 1; }
gcc -O2 -I"$vm/inc" -I"$vm" -o "$work/ubpf_harness" "$root/benches/peers/ubpf_harness.c" \
	"$vm/ubpf_vm.c" "$vm/ubpf_loader.c" "$vm/ubpf_jit_x86_64.c"
cargo build -q --release -p bpfkit-bench --bin time-bytecode --bin run-workload
tb=${CARGO_TARGET_DIR:-target}/release/time-bytecode

if [ "${1:-}" = --host-insns ]; then
	shift
	refs() { valgrind --tool=callgrind --callgrind-out-file=/dev/null "$@" 2>&1 | sed -n 's/.*refs: *//p' | tr -d ,; }
	echo "| program | insns executed | bpfkit host insns per BPF insn | uBPF host insns per BPF insn | uBPF / bpfkit |"
	echo "|---|---:|---:|---:|---:|"
	for p in ${*:-fnv1a crc32 sum_array mix switch_bytes sieve packet_parse empty}; do
		code=benches/programs/v2/$p.bin
		line=$("$tb" "$p" "$code" 1 --write-mem "$work/$p.mem")
		insns=$(echo "$line" | tr ' ' '\n' | sed -n 's/^insns=//p')
		ours=$(benches/host_insns.sh --v2 "$p" | cut -d' ' -f2)
		# The harness runs 7 batches: 7 runs against 707.
		r0=$(echo "$line" | tr ' ' '\n' | sed -n 's/^r0=//p')
		peer=$("$work/ubpf_harness" "$code" "$work/$p.mem" 1 2>/dev/null) || true
		if [ "$(echo "$peer" | tr ' ' '\n' | sed -n 's/^r0=//p')" = "$r0" ]; then
			one=$(refs "$work/ubpf_harness" "$code" "$work/$p.mem" 1)
			many=$(refs "$work/ubpf_harness" "$code" "$work/$p.mem" 101)
			echo "$p $insns $ours $one $many" | awk '{ u = ($5 - $4) / 700 / $2;
				printf "| %s | %d | %.2f | %.2f | %.2fx |\n", $1, $2, $3, u, u / $3 }'
		else
			echo "| $p | $insns | $ours | uBPF fails | |"
		fi
	done
	exit 0
fi

echo "| program | insns executed | bpfkit ns/run | rbpf ns/run | uBPF ns/run | bpfkit ns/insn | uBPF ns/insn | uBPF / bpfkit | rbpf / bpfkit |"
echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|"
for p in ${*:-fnv1a crc32 sum_array mix switch_bytes sieve packet_parse empty}; do
	code=benches/programs/v2/$p.bin
	line=$("$tb" "$p" "$code" auto --write-mem "$work/$p.mem")
	get() { echo "$line" | tr ' ' '\n' | sed -n "s/^$1=//p"; }
	runs=$(get runs)
	peer=$("$work/ubpf_harness" "$code" "$work/$p.mem" "$runs" 2>"$work/$p.err") || true
	r0=$(echo "$peer" | tr ' ' '\n' | sed -n 's/^r0=//p')
	if [ "$r0" != "$(get r0)" ]; then
		# uBPF prints its reason on every run; the first says it.
		why=$(head -n 1 "$work/$p.err" | sed "s/^uBPF error: //; s/, addr 0x[0-9a-f]*//")
		echo "| $p | $(get insns) | $(get bpfkit_ns) | $(get rbpf_ns) | uBPF fails: ${why:-r0 $r0} | | | | |"
		continue
	fi
	ubpf=$(echo "$peer" | tr ' ' '\n' | sed -n 's/^ubpf_ns=//p')
	echo "$p $(get insns) $(get bpfkit_ns) $(get rbpf_ns) $ubpf" | awk '{
		printf "| %s | %d | %.1f | %.1f | %.1f | %.2f | %.2f | %.2fx | %.2fx |\n",
			$1, $2, $3, $4, $5, $3 / $2, $5 / $2, $5 / $3, $4 / $3 }'
done
