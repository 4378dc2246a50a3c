; Verify an IPv4 header checksum (RFC 1071).
; Input: r1 = the header, r2 = its length.
; Output: r0 = 0 when the checksum is right, else the one's complement of the sum.
    r0 = 0
    r3 = r1
    r3 += r2                        ; r3 = end of the header
loop:
    r4 = r1
    r4 += 2
    if r4 > r3 goto fold            ; no whole 16-bit word left
    r5 = *(u16 *)(r1 + 0)
    r5 = be16 r5                    ; network byte order
    r0 += r5
    r1 += 2
    goto loop
fold:
    r4 = r0
    r4 >>= 16
    if r4 == 0 goto done            ; no carry left to fold
    r0 &= 0xffff
    r0 += r4
    goto fold
done:
    r0 ^= 0xffff
    exit
