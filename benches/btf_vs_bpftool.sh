#!/bin/sh
# vmlinux BTF, bpfkit and bpftool side by side in one hyperfine run (whole
# processes, output to /dev/null). Needs hyperfine and bpftool (Debian
# packages) and a release build: cargo build --release -p bpfkit.
set -eu
cd "$(dirname "$0")/.."
V=${1:-/sys/kernel/btf/vmlinux}
B=target/release/bpfkit
hyperfine -N --warmup 3 --runs 20 --export-markdown "${MD:-/dev/null}" \
	"$B inspect $V" \
	"$B btf dump $V" "bpftool btf dump file $V" \
	"$B btf dump $V --format c" "bpftool btf dump file $V format c" \
	"$B btf dump $V --json" "bpftool -j btf dump file $V"
