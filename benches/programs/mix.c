// Integer mixing: 128 rounds of xorshift64* feeding the murmur3 64-bit
// finalizer, seeded from the first 8 bytes of mem. Entry: r1 = mem (at
// least 8 bytes). Returns the accumulated mix.
typedef unsigned long long u64;

u64 mix(const u64 *mem)
{
	u64 x = mem[0] | 1;
	u64 acc = 0;
#pragma clang loop unroll(disable)
	for (int i = 0; i < 128; i++) {
		x ^= x >> 12;
		x ^= x << 25;
		x ^= x >> 27;
		u64 k = x * 0x2545f4914f6cdd1dULL;
		k ^= k >> 33;
		k *= 0xff51afd7ed558ccdULL;
		k ^= k >> 33;
		k *= 0xc4ceb9fe1a85ec53ULL;
		k ^= k >> 33;
		acc += k;
	}
	return acc;
}
