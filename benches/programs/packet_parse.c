// Ethernet / IPv4 / TCP header parse over a 64-byte frame in mem: checks the
// EtherType, IP version and header length, verifies the IPv4 header checksum,
// and folds addresses, ports, sequence number and flags into one value.
// Entry: r1 = mem (at least 64 bytes). Returns the folded value, or a small
// error code (1..5) for a frame it rejects.
typedef unsigned char u8;
typedef unsigned short u16;
typedef unsigned int u32;
typedef unsigned long long u64;

#define FRAME_LEN 64

static inline u16 be16(const u8 *p) { return (u16)(p[0] << 8 | p[1]); }
static inline u32 be32(const u8 *p)
{
	return (u32)p[0] << 24 | (u32)p[1] << 16 | (u32)p[2] << 8 | p[3];
}

u64 packet_parse(const u8 *pkt)
{
	if (be16(pkt + 12) != 0x0800)
		return 1;
	const u8 *ip = pkt + 14;
	u32 ihl = (ip[0] & 0xf) * 4;
	if ((ip[0] >> 4) != 4 || ihl < 20 || ihl > 40)
		return 2;
	u32 total = be16(ip + 2);
	if (14 + total > FRAME_LEN || total < ihl + 20)
		return 3;

	u32 csum = 0;
#pragma clang loop unroll(disable)
	for (u32 i = 0; i < 40; i += 2) {
		if (i >= ihl)
			break;
		csum += be16(ip + i);
	}
	csum = (csum & 0xffff) + (csum >> 16);
	csum = (csum & 0xffff) + (csum >> 16);
	if (csum != 0xffff)
		return 4;
	if (ip[9] != 6)
		return 5;

	const u8 *tcp = ip + (ihl & 0x3c);
	u32 saddr = be32(ip + 12), daddr = be32(ip + 16);
	u16 sport = be16(tcp), dport = be16(tcp + 2);
	u32 seq = be32(tcp + 4);
	u8 flags = tcp[13];
	u32 doff = (tcp[12] >> 4) * 4;

	u64 h = (u64)saddr << 32 | daddr;
	h ^= (u64)sport << 48 | (u64)dport << 32 | seq;
	h += (u64)flags << 8 | doff;
	h += total - ihl - doff; /* payload length */
	return h;
}
