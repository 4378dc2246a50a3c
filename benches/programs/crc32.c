// CRC-32 (IEEE 802.3, reflected, bit by bit, no table) over the first 64
// bytes of mem. Entry: r1 = mem (at least 64 bytes). Returns the CRC.
typedef unsigned char u8;
typedef unsigned int u32;

u32 crc32(const u8 *mem)
{
	u32 crc = 0xffffffff;
#pragma clang loop unroll(disable)
	for (int i = 0; i < 64; i++) {
		crc ^= mem[i];
#pragma clang loop unroll(disable)
		for (int b = 0; b < 8; b++)
			crc = (crc >> 1) ^ (0xedb88320 & -(crc & 1));
	}
	return ~crc;
}
