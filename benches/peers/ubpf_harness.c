/*
 * Times uBPF's interpreter the way bpfkit's `time-bytecode` times bpfkit and
 * rbpf: raw bytecode over a memory file, RUNS runs per batch, best of 7
 * batches, ns per run. Built by benches/ubpf_vs_bpfkit.sh against the uBPF
 * sources crates.io's ubpf-sys 0.1.1 vendors (iovisor's uBPF of 2018) and,
 * with -DUBPF_NOW, against a checkout of today's uBPF, whose ubpf_exec
 * returns a status and passes r0 back through a pointer; none of uBPF is in
 * this repo. The VM keeps ubpf_create's defaults; no helper is registered.
 *
 * Usage: ubpf_harness BYTECODE MEMORY RUNS
 * Prints: r0=0x... ubpf_ns=N
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "ubpf.h"

static void *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	if (!f) {
		perror(path);
		exit(2);
	}
	fseek(f, 0, SEEK_END);
	*len = (size_t)ftell(f);
	fseek(f, 0, SEEK_SET);
	void *buf = malloc(*len ? *len : 1);
	if (!buf || fread(buf, 1, *len, f) != *len) {
		fprintf(stderr, "%s: short read\n", path);
		exit(2);
	}
	fclose(f);
	return buf;
}

static double now_ns(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec * 1e9 + t.tv_nsec;
}

int main(int argc, char **argv)
{
	if (argc != 4) {
		fprintf(stderr, "usage: ubpf_harness BYTECODE MEMORY RUNS\n");
		return 2;
	}
	size_t code_len, mem_len;
	void *code = slurp(argv[1], &code_len);
	void *mem = slurp(argv[2], &mem_len);
	long runs = atol(argv[3]);
	if (runs <= 0) {
		fprintf(stderr, "RUNS: %s\n", argv[3]);
		return 2;
	}
	struct ubpf_vm *vm = ubpf_create();
	char *err = NULL;
	if (!vm || ubpf_load(vm, code, (uint32_t)code_len, &err) < 0) {
		fprintf(stderr, "uBPF refuses %s: %s\n", argv[1], err ? err : "?");
		return 1;
	}
	volatile uint64_t r0 = 0;
	double best = 1e300;
	for (int b = 0; b < 7; b++) {
		int failed = 0;
		double start = now_ns();
		for (long i = 0; i < runs; i++) {
#ifdef UBPF_NOW
			uint64_t ret = 0;
			failed |= ubpf_exec(vm, mem, mem_len, &ret);
			r0 = ret;
#else
			r0 = ubpf_exec(vm, mem, mem_len);
#endif
		}
		double t = (now_ns() - start) / runs;
		/* Today's uBPF prints its reason itself; the 2018 one returns
		 * all ones, which the script compares with bpfkit's r0. */
		if (failed) {
			fprintf(stderr, "uBPF: ubpf_exec failed on %s\n", argv[1]);
			return 1;
		}
		if (t < best)
			best = t;
	}
	printf("r0=0x%llx ubpf_ns=%.1f\n", (unsigned long long)r0, best);
	return 0;
}
