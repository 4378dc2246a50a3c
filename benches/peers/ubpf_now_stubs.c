/*
 * Link stubs for timing today's uBPF interpreter (benches/ubpf_vs_bpfkit.sh
 * --ubpf-src): the script compiles only uBPF's vm/ubpf_vm.c and
 * vm/ubpf_instruction_valid.c, so the x86-64 JIT's entry points, which
 * ubpf_create stores, and the safe execution profile's, which ubpf_vm.c
 * calls only outside the default (legacy) profile, are defined here to
 * report failure. The interpreter runs as uBPF builds it.
 */
#include "ubpf_int.h"

struct ubpf_jit_result
ubpf_translate_x86_64(struct ubpf_vm *vm, uint8_t *buffer, size_t *size, enum JitMode jit_mode)
{
	(void)vm, (void)buffer, (void)size;
	struct ubpf_jit_result r = {0};
	r.compile_result = UBPF_JIT_COMPILE_FAILURE;
	r.jit_mode = jit_mode;
	return r;
}

bool
ubpf_jit_update_dispatcher_x86_64(struct ubpf_vm *vm, external_function_dispatcher_t d, uint8_t *buffer,
				  size_t size, uint32_t offset)
{
	(void)vm, (void)d, (void)buffer, (void)size, (void)offset;
	return false;
}

bool
ubpf_jit_update_helper_x86_64(struct ubpf_vm *vm, extended_external_helper_t h, unsigned int idx,
			      uint8_t *buffer, size_t size, uint32_t offset)
{
	(void)vm, (void)h, (void)idx, (void)buffer, (void)size, (void)offset;
	return false;
}

int
ubpf_set_execution_profile_impl(struct ubpf_vm *vm, enum ubpf_execution_profile profile)
{
	(void)vm, (void)profile;
	return -1;
}

int
ubpf_register_safe_helper_impl(struct ubpf_vm *vm, const struct ubpf_safe_helper_descriptor *descriptor)
{
	(void)vm, (void)descriptor;
	return -1;
}

int
ubpf_register_safe_region_impl(struct ubpf_vm *vm, const struct ubpf_safe_region *region)
{
	(void)vm, (void)region;
	return -1;
}

int
ubpf_exec_ex_safe(const struct ubpf_vm *vm, void *mem, size_t mem_len, uint64_t *bpf_return_value,
		  uint8_t *stack_start, size_t stack_length)
{
	(void)vm, (void)mem, (void)mem_len, (void)bpf_return_value, (void)stack_start, (void)stack_length;
	return -1;
}
