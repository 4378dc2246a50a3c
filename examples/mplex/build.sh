#!/bin/sh
# Rebuilds mplex.o from mplex.c (Debian: clang-19, libbpf-dev, linux-libc-dev).
set -eu
cd "$(dirname "$0")"
${CLANG:-clang-19} -O2 -g -target bpf -Wall -Werror \
	-I/usr/include/$(gcc -print-multiarch 2>/dev/null || echo x86_64-linux-gnu) \
	-c mplex.c -o mplex.o
echo "built mplex.o"
