#!/bin/bash
# Load time of every fixture object (crates/object/tests/fixtures), bpfkit's
# loader and bpftool's (libbpf 1.1) side by side in one hyperfine run per
# fixture: `prog loadall OBJ DIR`, whole processes, the pins removed before
# each run (--prepare). Objects libbpf refuses are timed up to the refusal
# (-i: hyperfine ignores the failing exit); bpfkit loads them with
# --keep-going (which also exits 1 when the kernel refuses a program).
# Needs root, hyperfine, bpftool and a release build: cargo build --release -p bpfkit.
# Prints a Markdown table; usage: benches/load_vs_bpftool.sh [RUNS]
set -eu
cd "$(dirname "$0")/.."
RUNS=${1:-20}
B=${BPFKIT:-target/release/bpfkit}
F=crates/object/tests/fixtures
D=/sys/fs/bpf/bpfkit_load_bench
OUT=$(mktemp -d)
clean="rm -rf ${D}_b ${D}_t /sys/fs/bpf/fx_tc_flows /sys/fs/bpf/tc/globals/cls_counters /sys/fs/bpf/tc/globals/map_inner /sys/fs/bpf/tc/globals/map_outer /sys/fs/bpf/tc/globals/jmp_tc /sys/fs/bpf/tc/$(sha1sum $F/iproute2_tc.o | cut -c1-40)"
trap 'eval "$clean"; rm -rf "$OUT"; rmdir /sys/fs/bpf/tc/globals /sys/fs/bpf/tc 2>/dev/null || true' EXIT
objects="xdp_parse tc_classify tcx_ingress socket_ldabs kprobe_events tracepoints fentry_fexit
cgroup_lpm sock_redirect perf_sample lsm_iter tail_calls map_in_map global_data ksyms_kconfig
ksym_percpu subprog_calls legacy_maps legacy_maps_wide iproute2_tc cpu_v4 btf_shapes btf_corners btf_scopes"
echo "| fixture | bpfkit programs loaded | bpfkit ms | bpftool loadall | bpftool ms | bpftool / bpfkit |"
echo "|---|---:|---:|---|---:|---:|"
for o in $objects; do
	eval "$clean"
	loaded=$("$B" prog loadall "$F/$o.o" "${D}_b" --keep-going --json 2>/dev/null | grep -o '"loaded":true' | wc -l || true)
	total=$("$B" inspect "$F/$o.o" | sed -n 's/^programs (\([0-9]*\)):$/\1/p')
	eval "$clean"
	if bpftool prog loadall "$F/$o.o" "${D}_t" >/dev/null 2>&1; then verdict="loads"; else verdict="refused"; fi
	eval "$clean"
	hyperfine -N -i --warmup 2 --runs "$RUNS" --prepare "$clean" --export-json "$OUT/$o.json" \
		"$B prog loadall $F/$o.o ${D}_b --keep-going" \
		"bpftool prog loadall $F/$o.o ${D}_t" >/dev/null 2>&1
	eval "$clean"
	python3 - "$OUT/$o.json" "$o" "$loaded/$total" "$verdict" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))["results"]
b, t = r[0]["mean"] * 1e3, r[1]["mean"] * 1e3
print(f"| {sys.argv[2]} | {sys.argv[3]} | {b:.1f} | {sys.argv[4]} | {t:.1f} | {t / b:.2f}x |")
PY
done
