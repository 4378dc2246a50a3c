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
#
# --ubpf-src DIR adds today's uBPF: DIR is a checkout of
# https://github.com/iovisor/ubpf (or its vm/ directory), whose interpreter
# gcc builds the same way (vm/ubpf_vm.c and vm/ubpf_instruction_valid.c,
# the JIT and the safe profile stubbed by benches/peers/ubpf_now_stubs.c,
# an empty ubpf_config.h for CMake's). It has JMP32, so a second table
# times the -mcpu=v3 builds as well.
#   benches/ubpf_vs_bpfkit.sh [--ubpf-src DIR] [PROGRAM...]
#   benches/ubpf_vs_bpfkit.sh --host-insns [PROGRAM...]
# --host-insns: instead of time, the host instructions bpfkit and the 2018
# uBPF execute per BPF instruction, counted by valgrind's callgrind (exact
# and repeatable, where time on a shared VM is not; see RESULTS.md).
# Needs gcc, and crates.io the first time.
set -eu
cd "$(dirname "$0")/.."
root=$(pwd)
command -v gcc >/dev/null || { echo "ubpf_vs_bpfkit.sh: needs gcc to build uBPF" >&2; exit 1; }
host_insns=
now_src=
while [ $# -gt 0 ]; do
	case $1 in
	--host-insns) host_insns=1 ;;
	--ubpf-src)
		[ $# -ge 2 ] || { echo "ubpf_vs_bpfkit.sh: --ubpf-src needs a directory" >&2; exit 2; }
		now_src=$2
		shift
		;;
	-*) echo "ubpf_vs_bpfkit.sh: unknown option $1" >&2; exit 2 ;;
	*) break ;;
	esac
	shift
done
if [ -n "$host_insns" ] && ! command -v valgrind >/dev/null; then
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
gcc -O2 -I"$vm/inc" -I"$vm" -o "$work/ubpf_2018_harness" "$root/benches/peers/ubpf_harness.c" \
	"$vm/ubpf_vm.c" "$vm/ubpf_loader.c" "$vm/ubpf_jit_x86_64.c"
if [ -n "$now_src" ]; then
	[ -f "$now_src/vm/ubpf_vm.c" ] && now_src=$now_src/vm
	for f in ubpf_vm.c ubpf_instruction_valid.c ubpf_int.h ebpf.h inc/ubpf.h; do
		[ -f "$now_src/$f" ] || { echo "ubpf_vs_bpfkit.sh: --ubpf-src: no $f in $now_src" >&2; exit 1; }
	done
	mkdir -p "$work/now"
	: > "$work/now/ubpf_config.h"
	gcc -O2 -DUBPF_NOW -I"$work/now" -I"$now_src/inc" -I"$now_src" -o "$work/ubpf_now_harness" \
		"$root/benches/peers/ubpf_harness.c" "$now_src/ubpf_vm.c" "$now_src/ubpf_instruction_valid.c" \
		"$root/benches/peers/ubpf_now_stubs.c"
fi
cargo build -q --release -p bpfkit-bench --bin time-bytecode --bin run-workload
tb=${CARGO_TARGET_DIR:-target}/release/time-bytecode

if [ -n "$host_insns" ]; then
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
		peer=$("$work/ubpf_2018_harness" "$code" "$work/$p.mem" 1 2>/dev/null) || true
		if [ "$(echo "$peer" | tr ' ' '\n' | sed -n 's/^r0=//p')" = "$r0" ]; then
			one=$(refs "$work/ubpf_2018_harness" "$code" "$work/$p.mem" 1)
			many=$(refs "$work/ubpf_2018_harness" "$code" "$work/$p.mem" 101)
			echo "$p $insns $ours $one $many" | awk '{ u = ($5 - $4) / 700 / $2;
				printf "| %s | %d | %.2f | %.2f | %.2fx |\n", $1, $2, $3, u, u / $3 }'
		else
			echo "| $p | $insns | $ours | uBPF fails | |"
		fi
	done
	exit 0
fi

# One uBPF harness on one program: its ns per run, or why it failed. $1 is
# the harness, $2 the bytecode, $3 the memory, $4 the runs, $5 bpfkit's r0.
peer_ns() {
	peer=$("$1" "$2" "$3" "$4" 2>"$work/peer.err") || true
	if [ "$(echo "$peer" | tr ' ' '\n' | sed -n 's/^r0=//p')" = "$5" ]; then
		echo "$peer" | tr ' ' '\n' | sed -n 's/^ubpf_ns=//p'
	else
		# uBPF prints its reason on every run; the first says it.
		why=$(head -n 1 "$work/peer.err" | sed "s/^uBPF error: //; s/, addr 0x[0-9a-f]*//")
		echo "fails: ${why:-r0 differs}"
	fi
}

# The table of one set of builds: $1 is the directory of the bytecode, $2
# the uBPF harnesses to time (2018, now or both), then the programs.
table() {
	dir=$1 peers=$2
	shift 2
	cols="| program | insns executed | bpfkit ns/run | rbpf ns/run |"
	rule="|---|---:|---:|---:|"
	for u in $peers; do
		cols="$cols uBPF $u ns/run |"
		rule="$rule---:|"
	done
	cols="$cols bpfkit ns/insn |"
	rule="$rule---:|"
	for u in $peers; do
		cols="$cols uBPF $u / bpfkit |"
		rule="$rule---:|"
	done
	echo "$cols rbpf / bpfkit |"
	echo "$rule---:|"
	for p in ${*:-fnv1a crc32 sum_array mix switch_bytes sieve packet_parse empty}; do
		code=$dir/$p.bin
		line=$("$tb" "$p" "$code" auto --write-mem "$work/$p.mem")
		get() { echo "$line" | tr ' ' '\n' | sed -n "s/^$1=//p"; }
		ours=$(get bpfkit_ns)
		row="| $p | $(get insns) | $ours | $(get rbpf_ns) |"
		ratios=
		for u in $peers; do
			ns=$(peer_ns "$work/ubpf_${u}_harness" "$code" "$work/$p.mem" "$(get runs)" "$(get r0)")
			row="$row $ns |"
			case $ns in
			fails*) ratios="$ratios |" ;;
			*) ratios="$ratios $(echo "$ns $ours" | awk '{ printf "%.2fx", $1 / $2 }') |" ;;
			esac
		done
		per=$(echo "$ours $(get insns)" | awk '{ printf "%.2f", $1 / $2 }')
		rbpf=$(echo "$(get rbpf_ns) $ours" | awk '{ printf "%.2fx", $1 / $2 }')
		echo "$row $per |$ratios $rbpf |"
	done
}

if [ -z "$now_src" ]; then
	table benches/programs/v2 2018 "$@"
else
	echo "-mcpu=v2 builds:"
	echo
	table benches/programs/v2 "2018 now" "$@"
	echo
	echo "-mcpu=v3 builds:"
	echo
	table benches/programs "now" "$@"
fi
