#!/bin/sh
# Rebuilds the benchmark programs: each C source to an ELF object (.o) and its
# raw .text bytecode (.bin). Both are committed, so cargo never needs clang.
#
# -mcpu=v3: the newest ISA level rbpf 0.4 executes. It runs JMP32 and ALU32
# but not the v4 instructions (sdiv/smod, movsx, sign-extending loads, bswap,
# gotol), which -mcpu=v4 would emit.
#
# v2/: the same programs at -mcpu=v2 (no JMP32, no ALU32), for uBPF's 2018
# interpreter (benches/ubpf_vs_bpfkit.sh), which has no JMP32 and refuses a
# program whose last instruction is not `exit`: where clang ends the code
# with a jump, an unreachable `exit` is appended (all three VMs run the
# same bytes).
set -eu
cd "$(dirname "$0")"
CLANG=${CLANG:-clang-19}
OBJCOPY=${OBJCOPY:-llvm-objcopy-19}
mkdir -p v2
for src in *.c; do
	name=${src%.c}
	"$CLANG" -O2 -target bpf -mcpu=v3 -fno-stack-protector -c "$src" -o "$name.o"
	"$OBJCOPY" -O binary --only-section=.text "$name.o" "$name.bin"
	"$CLANG" -O2 -target bpf -mcpu=v2 -fno-stack-protector -c "$src" -o "v2/$name.o"
	"$OBJCOPY" -O binary --only-section=.text "v2/$name.o" "v2/$name.bin"
	# The opcode byte of the last instruction: 0x95 is exit.
	last=$(tail -c 8 "v2/$name.bin" | od -An -tx1 -N1 | tr -d ' ')
	if [ "$last" != 95 ]; then
		printf '\225\0\0\0\0\0\0\0' >> "v2/$name.bin"
	fi
	echo "$name: $(($(wc -c < "$name.bin") / 8)) slots, v2 $(($(wc -c < "v2/$name.bin") / 8))"
done
