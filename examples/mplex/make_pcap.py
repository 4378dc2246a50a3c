#!/usr/bin/env python3
"""Writes the mplex demo's sample pcap: one packet for every case mplex.c
tells apart, with correct IPv4 and TCP checksums, and beside it the expected
outcome of each packet (JSON Lines: index, case, verdict, dport after).

    ./make_pcap.py                      -> sample.pcap, sample.expect.jsonl
    ./make_pcap.py --count 100000 -o big.pcap   (the cases, cycled)

Only the Python standard library is used.
"""
import argparse
import json
import struct

ETH_IP, ETH_IP6, ETH_ARP, ETH_VLAN = 0x0800, 0x86DD, 0x0806, 0x8100
TCP, UDP = 6, 17
SRC_MAC, DST_MAC = bytes.fromhex("020000000001"), bytes.fromhex("020000000002")
SRC4, DST4 = bytes([192, 0, 2, 1]), bytes([192, 0, 2, 2])
SRC6 = bytes.fromhex("20010db8000000000000000000000001")
DST6 = bytes.fromhex("20010db8000000000000000000000002")
TAGS = {b"600": 5001, b"601": 5002, b"602": 5003}


def csum(data: bytes) -> int:
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def payload(size: int, tag: bytes) -> bytes:
    body = bytearray((i * 7 + 3) & 0xFF for i in range(size))
    if size >= 23:
        body[20:23] = tag
    return bytes(body)


def tcp(src_ip, dst_ip, dport, data, options=b"", sport=40000):
    doff = (20 + len(options)) // 4
    hdr = struct.pack("!HHIIBBHHH", sport, dport, 1, 0, doff << 4, 0x18, 65535, 0, 0)
    seg = hdr + options + data
    if len(src_ip) == 4:
        pseudo = src_ip + dst_ip + struct.pack("!BBH", 0, TCP, len(seg))
    else:
        pseudo = src_ip + dst_ip + struct.pack("!IxxxB", len(seg), TCP)
    c = csum(pseudo + seg)
    return seg[:16] + struct.pack("!H", c) + seg[18:]


def udp(dport, data):
    return struct.pack("!HHHH", 40000, dport, 8 + len(data), 0) + data


def ipv4(proto, l4, options=b"", tot_len=None):
    ihl = (20 + len(options)) // 4
    total = tot_len if tot_len is not None else 20 + len(options) + len(l4)
    hdr = struct.pack("!BBHHHBBH4s4s", 0x40 | ihl, 0, total, 1, 0, 64, proto, 0, SRC4, DST4) + options
    hdr = hdr[:10] + struct.pack("!H", csum(hdr)) + hdr[12:]
    return hdr + l4


def ipv6(next_header, l4):
    return struct.pack("!IHBB16s16s", 6 << 28, len(l4), next_header, 64, SRC6, DST6) + l4


def eth(ethertype, body):
    return DST_MAC + SRC_MAC + struct.pack("!H", ethertype) + body


def cases():
    """(name, frame, verdict, dport after or None)."""
    p = payload
    yield "ipv4 tag 600 -> 5001", eth(ETH_IP, ipv4(TCP, tcp(SRC4, DST4, 5000, p(290, b"600")))), "XDP_PASS", 5001
    yield "ipv4 options tag 601 -> 5002", eth(ETH_IP, ipv4(TCP, tcp(SRC4, DST4, 5000, p(292, b"601")), options=b"\x01" * 12)), "XDP_PASS", 5002
    yield "ipv4 tcp options tag 602 -> 5003", eth(ETH_IP, ipv4(TCP, tcp(SRC4, DST4, 5000, p(294, b"602"), options=b"\x01\x01\x08\x0a" + b"\0" * 8))), "XDP_PASS", 5003
    yield "ipv6 tag 602 -> 5003", eth(ETH_IP6, ipv6(TCP, tcp(SRC6, DST6, 5000, p(291, b"602")))), "XDP_PASS", 5003
    yield "ipv6 tag 600 -> 5001", eth(ETH_IP6, ipv6(TCP, tcp(SRC6, DST6, 5000, p(294, b"600")))), "XDP_PASS", 5001
    yield "ipv4 unknown tag", eth(ETH_IP, ipv4(TCP, tcp(SRC4, DST4, 5000, p(290, b"999")))), "XDP_DROP", 5000
    yield "ipv6 unknown tag", eth(ETH_IP6, ipv6(TCP, tcp(SRC6, DST6, 5000, p(293, b"60\0")))), "XDP_DROP", 5000
    yield "ipv4 payload 289", eth(ETH_IP, ipv4(TCP, tcp(SRC4, DST4, 5000, p(289, b"600")))), "XDP_DROP", 5000
    yield "ipv4 payload 295", eth(ETH_IP, ipv4(TCP, tcp(SRC4, DST4, 5000, p(295, b"600")))), "XDP_DROP", 5000
    yield "ipv6 payload 0 (SYN-sized)", eth(ETH_IP6, ipv6(TCP, tcp(SRC6, DST6, 5000, b""))), "XDP_DROP", 5000
    yield "ipv4 tcp port 80", eth(ETH_IP, ipv4(TCP, tcp(SRC4, DST4, 80, p(290, b"600")))), "XDP_PASS", 80
    yield "ipv4 udp port 5000", eth(ETH_IP, ipv4(UDP, udp(5000, p(290, b"600")))), "XDP_PASS", None
    yield "ipv6 hop-by-hop then tcp", eth(ETH_IP6, ipv6(0, bytes([TCP, 0, 1, 4, 0, 0, 0, 0]) + tcp(SRC6, DST6, 5000, p(290, b"600")))), "XDP_PASS", None
    yield "arp", eth(ETH_ARP, bytes(28)), "XDP_PASS", None
    yield "vlan-tagged ipv4", DST_MAC + SRC_MAC + struct.pack("!HHH", ETH_VLAN, 7, ETH_IP) + ipv4(TCP, tcp(SRC4, DST4, 5000, p(290, b"600"))), "XDP_PASS", None
    yield "ipv4 announces more than the frame", eth(ETH_IP, ipv4(TCP, tcp(SRC4, DST4, 5000, p(290, b"600")))[:200]), "XDP_PASS", 5000
    yield "ipv4 ihl < 5", eth(ETH_IP, bytes([0x44]) + ipv4(TCP, tcp(SRC4, DST4, 5000, p(290, b"600")))[1:]), "XDP_PASS", 5000
    yield "ipv4 header cut short", eth(ETH_IP, ipv4(TCP, b"")[:12]), "XDP_PASS", None
    yield "tcp header cut short", eth(ETH_IP, ipv4(TCP, tcp(SRC4, DST4, 5000, b"")[:10])), "XDP_PASS", None
    yield "ethernet header only, ipv4 announced", eth(ETH_IP, b""), "XDP_PASS", None


def write_pcap(path, frames):
    with open(path, "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1))
        for i, frame in enumerate(frames):
            f.write(struct.pack("<IIII", 1_700_000_000 + i // 1000, (i % 1000) * 1000, len(frame), len(frame)))
            f.write(frame)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("-o", "--output", default="sample.pcap")
    ap.add_argument("--count", type=int, help="write this many packets, cycling through the cases")
    args = ap.parse_args()
    all_cases = list(cases())
    if args.count:
        write_pcap(args.output, (all_cases[i % len(all_cases)][1] for i in range(args.count)))
        return
    write_pcap(args.output, (c[1] for c in all_cases))
    with open(args.output.rsplit(".", 1)[0] + ".expect.jsonl", "w") as f:
        for i, (name, frame, verdict, dport) in enumerate(all_cases):
            f.write(json.dumps({"index": i, "case": name, "verdict": verdict, "len": len(frame), "dport_after": dport}) + "\n")


if __name__ == "__main__":
    main()
