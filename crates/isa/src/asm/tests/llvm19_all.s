r0 += r3
r0 += 2147418112
r1 -= r4
r1 -= -7
r2 *= r5
r2 *= 2147418114
r3 /= r6
r3 /= -21
r4 %= r7
r4 %= 2147418116
r5 |= r8
r5 |= -35
r6 &= r9
r6 &= 2147418118
r7 ^= r0
r7 ^= -49
r8 <<= r1
r8 <<= 2147418120
r9 >>= r2
r9 >>= -63
r0 s>>= r3
r0 s>>= 2147418122
r1 s/= r4
r1 s/= -77
r2 s%= r5
r2 s%= 2147418124
r3 = r6
r3 = -91
r3 = -r3
w0 += w3
w0 += 2147418112
w1 -= w4
w1 -= -7
w2 *= w5
w2 *= 2147418114
w3 /= w6
w3 /= -21
w4 %= w7
w4 %= 2147418116
w5 |= w8
w5 |= -35
w6 &= w9
w6 &= 2147418118
w7 ^= w0
w7 ^= -49
w8 <<= w1
w8 <<= 2147418120
w9 >>= w2
w9 >>= -63
w0 s>>= w3
w0 s>>= 2147418122
w1 s/= w4
w1 s/= -77
w2 s%= w5
w2 s%= 2147418124
w3 = w6
w3 = -91
w3 = -w3
r1 = (s8)r7
r1 = (s16)r7
r1 = (s32)r7
w1 = (s8)w7
w1 = (s16)w7
r4 = be16 r4
r4 = be32 r4
r4 = be64 r4
r4 = le16 r4
r4 = le32 r4
r4 = le64 r4
r4 = bswap16 r4
r4 = bswap32 r4
r4 = bswap64 r4
r1 = 0x1122334455667788 ll
r9 = -1 ll
r0 = 0 ll
r2 = *(u8 *)(r10 - 16)
r3 = *(u8 *)(r1 + 32767)
r2 = *(u16 *)(r10 - 16)
r3 = *(u16 *)(r1 + 32767)
r2 = *(u32 *)(r10 - 16)
r3 = *(u32 *)(r1 + 32767)
r2 = *(u64 *)(r10 - 16)
r3 = *(u64 *)(r1 + 32767)
r2 = *(s8 *)(r10 - 16)
r3 = *(s8 *)(r1 + 32767)
r2 = *(s16 *)(r10 - 16)
r3 = *(s16 *)(r1 + 32767)
r2 = *(s32 *)(r10 - 16)
r3 = *(s32 *)(r1 + 32767)
*(u8 *)(r10 - 8) = r5
*(u8 *)(r1 + 2) = -9
*(u16 *)(r10 - 8) = r5
*(u16 *)(r1 + 2) = -9
*(u32 *)(r10 - 8) = r5
*(u32 *)(r1 + 2) = -9
*(u64 *)(r10 - 8) = r5
*(u64 *)(r1 + 2) = -9
lock *(u32 *)(r1 - 4) += w2
lock *(u32 *)(r1 - 4) |= w2
lock *(u32 *)(r1 - 4) &= w2
lock *(u32 *)(r1 - 4) ^= w2
w3 = atomic_fetch_add((u32 *)(r1 + 8), w3)
w3 = atomic_fetch_and((u32 *)(r1 + 8), w3)
w3 = atomic_fetch_or((u32 *)(r1 + 8), w3)
w3 = atomic_fetch_xor((u32 *)(r1 + 8), w3)
lock *(u64 *)(r1 - 4) += r2
lock *(u64 *)(r1 - 4) |= r2
lock *(u64 *)(r1 - 4) &= r2
lock *(u64 *)(r1 - 4) ^= r2
r3 = atomic_fetch_add((u64 *)(r1 + 8), r3)
r3 = atomic_fetch_and((u64 *)(r1 + 8), r3)
r3 = atomic_fetch_or((u64 *)(r1 + 8), r3)
r3 = atomic_fetch_xor((u64 *)(r1 + 8), r3)
r2 = xchg_64(r1 + 0, r2)
w2 = xchg32_32(r1 + 0, w2)
r0 = cmpxchg_64(r1 + 0, r0, r2)
w0 = cmpxchg32_32(r1 + 0, w0, w2)
r0 = *(u8 *)skb[12]
r0 = *(u8 *)skb[r3]
r0 = *(u16 *)skb[12]
r0 = *(u16 *)skb[r3]
r0 = *(u32 *)skb[12]
r0 = *(u32 *)skb[r3]
if r0 == r1 goto +0
if r0 == 0 goto -1
if r1 != r2 goto +1
if r1 != -1 goto -2
if r2 > r3 goto +2
if r2 > -2 goto -3
if r3 >= r4 goto +3
if r3 >= -3 goto -4
if r4 < r5 goto +4
if r4 < -4 goto -5
if r5 <= r6 goto +5
if r5 <= -5 goto -6
if r6 s> r7 goto +6
if r6 s> -6 goto -7
if r7 s>= r8 goto +7
if r7 s>= -7 goto -8
if r8 s< r9 goto +8
if r8 s< -8 goto -9
if r9 s<= r0 goto +9
if r9 s<= -9 goto -10
if r0 & r1 goto +10
if r0 & -10 goto -11
if w0 == w1 goto +0
if w0 == 0 goto -1
if w1 != w2 goto +1
if w1 != -1 goto -2
if w2 > w3 goto +2
if w2 > -2 goto -3
if w3 >= w4 goto +3
if w3 >= -3 goto -4
if w4 < w5 goto +4
if w4 < -4 goto -5
if w5 <= w6 goto +5
if w5 <= -5 goto -6
if w6 s> w7 goto +6
if w6 s> -6 goto -7
if w7 s>= w8 goto +7
if w7 s>= -7 goto -8
if w8 s< w9 goto +8
if w8 s< -8 goto -9
if w9 s<= w0 goto +9
if w9 s<= -9 goto -10
if w0 & w1 goto +10
if w0 & -10 goto -11
goto +3
goto -1
gotol +7000
gotol -7000
call 1
call 212
callx r5
exit
