// Sieve of Eratosthenes over [0, 2048) in a 256-byte bitset on the stack.
// The first byte of mem selects the limit: 1024 + 4 * mem[0] (so 1024..2044).
// Entry: r1 = mem (at least 1 byte). Returns count << 32 | sum of primes
// below the limit, truncated to 32 bits.
typedef unsigned char u8;
typedef unsigned int u32;
typedef unsigned long long u64;

u64 sieve(const u8 *mem)
{
	u64 bits[32];
	u32 limit = 1024 + 4 * (u32)mem[0];
	u32 count = 0, sum = 0;

#pragma clang loop unroll(disable)
	for (int i = 0; i < 32; i++)
		bits[i] = 0;
#pragma clang loop unroll(disable)
	for (u32 p = 2; p < 2048; p++) {
		if (p >= limit)
			break;
		if (bits[p >> 6] & (1ULL << (p & 63)))
			continue;
		count++;
		sum += p;
		if (p * p >= limit)
			continue;
#pragma clang loop unroll(disable)
		for (u32 m = p * p; m < 2048; m += p) {
			if (m >= limit)
				break;
			bits[m >> 6] |= 1ULL << (m & 63);
		}
	}
	return ((u64)count << 32) | sum;
}
