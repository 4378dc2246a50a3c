// SPDX-License-Identifier: GPL-2.0
// mplex: the port multiplexer of the seed document's XDP series.
//
// Clients all talk TCP to port 5000; each message carries a 3-byte entity
// tag at offset 20 of its payload. The program looks the tag up in the
// `tags` map (tag -> port, filled by userspace) and steers the packet to
// that port by rewriting the TCP destination port, fixing the TCP checksum
// incrementally (RFC 1624). Messages of the wrong size and unknown tags are
// dropped. Everything else passes untouched: other protocols and ports,
// non-IP frames, and frames too short for the headers they announce.
//
// Handles TCP over IPv4 (options included, any IHL) and TCP directly over
// IPv6 (no extension headers: those pass untouched).
//
// Build: ./build.sh (clang -O2 -g -target bpf).
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/tcp.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

#define MPLEX_PORT 5000
#define PAYLOAD_MIN 290
#define PAYLOAD_MAX 294
#define TAG_OFFSET 20

/* The entity tag: three bytes, e.g. "600". */
struct tag {
	char id[3];
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__type(key, struct tag);
	__type(value, __u16); /* destination port, host byte order */
} tags SEC(".maps");

/* RFC 1624 eqn. 3: HC' = ~(~HC + ~m + m'), on network-order words. */
static __always_inline void csum_replace2(__u16 *sum, __u16 old, __u16 new)
{
	__u32 csum = (__u16)~*sum;

	csum += (__u16)~old;
	csum += new;
	csum = (csum & 0xffff) + (csum >> 16);
	csum = (csum & 0xffff) + (csum >> 16);
	*sum = ~csum;
}

/*
 * The verdict for a TCP segment at `tcp` whose IP datagram ends, by its own
 * length field, at `ip_end`. `data_end` is the end of the frame.
 */
static __always_inline int steer(struct tcphdr *tcp, void *ip_end, void *data_end)
{
	if ((void *)(tcp + 1) > data_end)
		return XDP_PASS;
	if (tcp->dest != bpf_htons(MPLEX_PORT))
		return XDP_PASS;

	__u32 doff = tcp->doff * 4;
	if (doff < sizeof(*tcp))
		return XDP_PASS;
	/* The frame must hold the whole datagram its IP header announces. */
	if (ip_end > data_end)
		return XDP_PASS;
	unsigned char *payload = (unsigned char *)tcp + doff;
	if ((void *)payload > ip_end)
		return XDP_PASS;

	__u64 len = ip_end - (void *)payload;
	if (len < PAYLOAD_MIN || len > PAYLOAD_MAX)
		return XDP_DROP;

	struct tag key;
	if ((void *)(payload + TAG_OFFSET + sizeof(key)) > data_end)
		return XDP_PASS; /* cannot happen: len >= PAYLOAD_MIN, ip_end <= data_end */
	__builtin_memcpy(key.id, payload + TAG_OFFSET, sizeof(key.id));

	__u16 *port = bpf_map_lookup_elem(&tags, &key);
	if (!port)
		return XDP_DROP;

	__u16 new_dest = bpf_htons(*port);
	csum_replace2(&tcp->check, tcp->dest, new_dest);
	tcp->dest = new_dest;
	return XDP_PASS;
}

SEC("xdp")
int mplex(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;

	if ((void *)(eth + 1) > data_end)
		return XDP_PASS;

	if (eth->h_proto == bpf_htons(ETH_P_IP)) {
		struct iphdr *ip = (void *)(eth + 1);
		if ((void *)(ip + 1) > data_end)
			return XDP_PASS;
		if (ip->protocol != IPPROTO_TCP)
			return XDP_PASS;
		__u32 ihl = ip->ihl * 4;
		if (ihl < sizeof(*ip))
			return XDP_PASS;
		__u32 tot_len = bpf_ntohs(ip->tot_len);
		if (tot_len < ihl)
			return XDP_PASS;
		return steer((void *)ip + ihl, (void *)ip + tot_len, data_end);
	}

	if (eth->h_proto == bpf_htons(ETH_P_IPV6)) {
		struct ipv6hdr *ip6 = (void *)(eth + 1);
		if ((void *)(ip6 + 1) > data_end)
			return XDP_PASS;
		if (ip6->nexthdr != IPPROTO_TCP)
			return XDP_PASS;
		__u32 plen = bpf_ntohs(ip6->payload_len);
		return steer((void *)(ip6 + 1), (void *)(ip6 + 1) + plen, data_end);
	}

	return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
