// FNV-1a (64-bit) over the first 256 bytes of mem.
// Entry: r1 = mem (at least 256 bytes). Returns the hash.
typedef unsigned char u8;
typedef unsigned long long u64;

u64 fnv1a(const u8 *mem)
{
	u64 h = 0xcbf29ce484222325ULL;
#pragma clang loop unroll(disable)
	for (int i = 0; i < 256; i++) {
		h ^= mem[i];
		h *= 0x100000001b3ULL;
	}
	return h;
}
