#!/bin/sh
# Rebuilds the benchmark programs: each C source to an ELF object (.o) and its
# raw .text bytecode (.bin). Both are committed, so cargo never needs clang.
#
# -mcpu=v3: the newest ISA level rbpf 0.4 executes. It runs JMP32 and ALU32
# but not the v4 instructions (sdiv/smod, movsx, sign-extending loads, bswap,
# gotol), which -mcpu=v4 would emit.
set -eu
cd "$(dirname "$0")"
CLANG=${CLANG:-clang-19}
OBJCOPY=${OBJCOPY:-llvm-objcopy-19}
for src in *.c; do
	name=${src%.c}
	"$CLANG" -O2 -target bpf -mcpu=v3 -fno-stack-protector -c "$src" -o "$name.o"
	"$OBJCOPY" -O binary --only-section=.text "$name.o" "$name.bin"
	echo "$name: $(($(wc -c < "$name.bin") / 8)) slots"
done
