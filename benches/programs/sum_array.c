// Sum of the 64 little-endian u32 words in the first 256 bytes of mem,
// plus their xor in the high half. Entry: r1 = mem (at least 256 bytes).
typedef unsigned int u32;
typedef unsigned long long u64;

u64 sum_array(const u32 *mem)
{
	u64 sum = 0;
	u32 x = 0;
#pragma clang loop unroll(disable)
	for (int i = 0; i < 64; i++) {
		sum += mem[i];
		x ^= mem[i];
	}
	return sum + ((u64)x << 32);
}
