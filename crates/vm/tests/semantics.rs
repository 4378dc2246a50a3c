//! ALU, byte order, sign extension, jump and atomic semantics, each against
//! the kernel's documented behaviour (RFC 9669 and `kernel/bpf/core.c`).

mod harness;
use harness::r0;

#[test]
fn division_by_zero_gives_zero_and_modulo_by_zero_keeps_dst() {
    // 64-bit: div -> 0, mod -> dst unchanged.
    assert_eq!(
        r0("lddw %r0, 0x123456789\nmov %r1, 0\ndiv %r0, %r1\nexit"),
        0
    );
    assert_eq!(
        r0("lddw %r0, 0x123456789\nmov %r1, 0\nmod %r0, %r1\nexit"),
        0x1_2345_6789
    );
    assert_eq!(r0("lddw %r0, 0x123456789\ndiv %r0, 0\nexit"), 0);
    assert_eq!(r0("lddw %r0, 0x123456789\nmod %r0, 0\nexit"), 0x1_2345_6789);
    // 32-bit: only the low half of the divisor counts; results zero-extend,
    // so mod32 by zero keeps just the low 32 bits of dst.
    assert_eq!(
        r0("lddw %r0, 0x123456789\nlddw %r1, 0x100000000\ndiv32 %r0, %r1\nexit"),
        0
    );
    assert_eq!(
        r0("lddw %r0, 0x123456789\nlddw %r1, 0x100000000\nmod32 %r0, %r1\nexit"),
        0x2345_6789
    );
    // Signed forms behave the same way.
    assert_eq!(r0("mov %r0, -7\nmov %r1, 0\nsdiv %r0, %r1\nexit"), 0);
    assert_eq!(
        r0("mov %r0, -7\nmov %r1, 0\nsmod %r0, %r1\nexit"),
        -7i64 as u64
    );
    assert_eq!(r0("mov %r0, -7\nsmod32 %r0, 0\nexit"), 0xffff_fff9);
    assert_eq!(r0("mov %r0, -7\nsdiv32 %r0, 0\nexit"), 0);
}

#[test]
fn signed_division_overflow_wraps_as_in_the_kernel() {
    // INT_MIN / -1 = INT_MIN, INT_MIN % -1 = 0.
    let min64 = "lddw %r0, 0x8000000000000000\nmov %r1, -1\n";
    assert_eq!(
        r0(&format!("{min64}sdiv %r0, %r1\nexit")),
        0x8000_0000_0000_0000
    );
    assert_eq!(r0(&format!("{min64}smod %r0, %r1\nexit")), 0);
    assert_eq!(
        r0(&format!("{min64}sdiv %r0, -1\nexit")),
        0x8000_0000_0000_0000
    );
    let min32 = "mov32 %r0, 0x80000000\nmov32 %r1, -1\n";
    assert_eq!(r0(&format!("{min32}sdiv32 %r0, %r1\nexit")), 0x8000_0000);
    assert_eq!(r0(&format!("{min32}smod32 %r0, %r1\nexit")), 0);
    // Signed remainder takes the dividend's sign; quotient truncates.
    assert_eq!(r0("mov %r0, -7\nsmod %r0, 2\nexit"), -1i64 as u64);
    assert_eq!(r0("mov %r0, 7\nsmod %r0, -2\nexit"), 1);
    assert_eq!(r0("mov %r0, -7\nsdiv %r0, 2\nexit"), -3i64 as u64);
    // Ordinary overflow wraps.
    assert_eq!(
        r0(&format!("{min64}mul %r0, %r1\nexit")),
        0x8000_0000_0000_0000
    );
    assert_eq!(
        r0("lddw %r0, 0x8000000000000000\nneg %r0\nexit"),
        0x8000_0000_0000_0000
    );
    assert_eq!(r0("mov32 %r0, 0x80000000\nneg32 %r0\nexit"), 0x8000_0000);
    assert_eq!(r0("mov %r0, -1\nadd %r0, 1\nexit"), 0);
}

#[test]
fn shift_amounts_are_masked_to_the_width() {
    assert_eq!(r0("mov %r0, 1\nmov %r1, 65\nlsh %r0, %r1\nexit"), 2);
    assert_eq!(r0("mov %r0, 1\nmov %r1, 33\nlsh32 %r0, %r1\nexit"), 2);
    assert_eq!(r0("mov %r0, 4\nrsh %r0, 66\nexit"), 1);
    assert_eq!(r0("mov32 %r0, 4\nrsh32 %r0, 34\nexit"), 1);
    // Arithmetic shifts keep the sign of the operand's width.
    assert_eq!(r0("mov %r0, -8\narsh %r0, 1\nexit"), -4i64 as u64);
    assert_eq!(r0("mov %r0, -8\narsh32 %r0, 1\nexit"), 0xffff_fffc);
    assert_eq!(
        r0("mov %r0, -8\nmov %r1, 0xffffffff\narsh %r0, %r1\nexit"),
        u64::MAX
    );
    // A 32-bit shift looks only at the low 32 bits of dst and zero-extends.
    assert_eq!(r0("lddw %r0, 0xffffffff80000000\nlsh32 %r0, 1\nexit"), 0);
}

#[test]
fn thirty_two_bit_results_are_zero_extended() {
    assert_eq!(r0("mov %r0, -1\nadd32 %r0, 1\nexit"), 0);
    assert_eq!(r0("mov32 %r0, -1\nexit"), 0xffff_ffff);
    assert_eq!(r0("mov %r1, -1\nmov32 %r0, %r1\nexit"), 0xffff_ffff);
    assert_eq!(r0("mov %r0, -1\nor32 %r0, 0\nexit"), 0xffff_ffff);
    assert_eq!(r0("mov %r0, 3\nmul32 %r0, -1\nexit"), 0xffff_fffd);
    // 64-bit immediates are sign-extended.
    assert_eq!(r0("mov %r0, -1\nexit"), u64::MAX);
    assert_eq!(r0("mov %r0, 0\nadd %r0, -2\nexit"), -2i64 as u64);
}

#[test]
fn movsx_sign_extends_from_8_16_and_32_bits() {
    assert_eq!(
        r0("mov %r1, 0x180\nmovsx864 %r0, %r1\nexit"),
        -128i64 as u64
    );
    assert_eq!(
        r0("mov %r1, 0x18000\nmovsx1664 %r0, %r1\nexit"),
        -32768i64 as u64
    );
    assert_eq!(
        r0("lddw %r1, 0x180000000\nmovsx3264 %r0, %r1\nexit"),
        0xffff_ffff_8000_0000
    );
    // The 32-bit forms sign-extend to 32 bits, then zero-extend.
    assert_eq!(r0("mov %r1, 0x80\nmovsx832 %r0, %r1\nexit"), 0xffff_ff80);
    assert_eq!(r0("mov %r1, 0x8000\nmovsx1632 %r0, %r1\nexit"), 0xffff_8000);
    assert_eq!(r0("mov %r1, 0x7f\nmovsx864 %r0, %r1\nexit"), 0x7f);
}

#[test]
fn ldsx_sign_extends_loads() {
    let store = "lddw %r1, 0x8081828384858687\nstxdw [%r10-8], %r1\n";
    assert_eq!(
        r0(&format!("{store}ldxsb %r0, [%r10-1]\nexit")),
        -128i64 as u64
    );
    assert_eq!(
        r0(&format!("{store}ldxsh %r0, [%r10-2]\nexit")),
        0xffff_ffff_ffff_8081
    );
    assert_eq!(
        r0(&format!("{store}ldxsw %r0, [%r10-4]\nexit")),
        0xffff_ffff_8081_8283
    );
    assert_eq!(r0(&format!("{store}ldxw %r0, [%r10-4]\nexit")), 0x8081_8283);
    assert_eq!(
        r0(&format!("{store}ldxsb %r0, [%r10-8]\nexit")),
        0xffff_ffff_ffff_ff87
    );
}

#[test]
fn byte_order_conversions() {
    let v = "lddw %r0, 0x0123456789abcdef\n";
    // The emulated machine is little-endian: le truncates to the size.
    assert_eq!(r0(&format!("{v}le16 %r0\nexit")), 0xcdef);
    assert_eq!(r0(&format!("{v}le32 %r0\nexit")), 0x89ab_cdef);
    assert_eq!(r0(&format!("{v}le64 %r0\nexit")), 0x0123_4567_89ab_cdef);
    assert_eq!(r0(&format!("{v}be16 %r0\nexit")), 0xefcd);
    assert_eq!(r0(&format!("{v}be32 %r0\nexit")), 0xefcd_ab89);
    assert_eq!(r0(&format!("{v}be64 %r0\nexit")), 0xefcd_ab89_6745_2301);
    assert_eq!(r0(&format!("{v}bswap16 %r0\nexit")), 0xefcd);
    assert_eq!(r0(&format!("{v}bswap32 %r0\nexit")), 0xefcd_ab89);
    assert_eq!(r0(&format!("{v}bswap64 %r0\nexit")), 0xefcd_ab89_6745_2301);
}

#[test]
fn jumps_compare_with_the_right_width_and_signedness() {
    let taken = |cond: &str| r0(&format!("mov %r0, 0\n{cond}\nexit\nL:\nmov %r0, 1\nexit"));
    assert_eq!(taken("mov %r1, -1\njgt %r1, 5, L"), 1);
    assert_eq!(taken("mov %r1, -1\njsgt %r1, 5, L"), 0);
    assert_eq!(taken("mov %r1, -1\njslt %r1, 0, L"), 1);
    assert_eq!(taken("mov %r1, -1\njeq %r1, -1, L"), 1);
    // jmp32 compares the low halves only.
    assert_eq!(taken("lddw %r1, 0x100000005\njeq32 %r1, 5, L"), 1);
    assert_eq!(taken("lddw %r1, 0x100000005\njeq %r1, 5, L"), 0);
    assert_eq!(taken("mov32 %r1, -1\njslt32 %r1, 0, L"), 1);
    assert_eq!(taken("mov32 %r1, -1\njslt %r1, 0, L"), 0);
    assert_eq!(taken("mov %r1, 6\njset %r1, 2, L"), 1);
    assert_eq!(taken("lddw %r1, 0x100000000\njset32 %r1, -1, L"), 0);
    assert_eq!(taken("mov %r1, 3\nmov %r2, 3\njle %r1, %r2, L"), 1);
    assert_eq!(taken("mov %r1, 3\nmov %r2, 3\njlt %r1, %r2, L"), 0);
    // gotol (ja32) jumps like ja.
    assert_eq!(taken("ja32 L"), 1);
}

#[test]
fn atomics_update_memory_and_fetch_old_values() {
    let init = "lddw %r0, 0xffffffff00000005\nstxdw [%r10-8], %r0\n";
    // Plain add leaves the source register alone.
    assert_eq!(
        r0(&format!(
            "{init}mov %r1, 3\nlock add [%r10-8], %r1\nldxdw %r0, [%r10-8]\nexit"
        )),
        0xffff_ffff_0000_0008
    );
    assert_eq!(
        r0(&format!(
            "{init}mov %r1, 3\nlock add [%r10-8], %r1\nmov %r0, %r1\nexit"
        )),
        3
    );
    // 32-bit fetch-add: the old value is zero-extended; the upper word in
    // memory is untouched.
    assert_eq!(
        r0(&format!(
            "{init}mov %r1, -1\nlock fetch add32 [%r10-4], %r1\nmov %r0, %r1\nexit"
        )),
        0xffff_ffff
    );
    assert_eq!(
        r0(&format!(
            "{init}mov %r1, 3\nlock fetch add32 [%r10-8], %r1\nldxdw %r0, [%r10-8]\nexit"
        )),
        0xffff_ffff_0000_0008
    );
    assert_eq!(
        r0(&format!(
            "{init}mov %r1, 6\nlock fetch or [%r10-8], %r1\nldxdw %r0, [%r10-8]\nexit"
        )),
        0xffff_ffff_0000_0007
    );
    assert_eq!(
        r0(&format!(
            "{init}mov %r1, 4\nlock fetch and [%r10-8], %r1\nmov %r0, %r1\nexit"
        )),
        0xffff_ffff_0000_0005
    );
    assert_eq!(
        r0(&format!(
            "{init}mov %r1, 1\nlock xor32 [%r10-8], %r1\nldxdw %r0, [%r10-8]\nexit"
        )),
        0xffff_ffff_0000_0004
    );
    // xchg32 returns the old word zero-extended and stores the new one.
    assert_eq!(
        r0(&format!(
            "{init}mov %r1, 9\nlock xchg32 [%r10-4], %r1\nmov %r0, %r1\nexit"
        )),
        0xffff_ffff
    );
    assert_eq!(
        r0(&format!(
            "{init}mov %r1, 9\nlock xchg [%r10-8], %r1\nldxdw %r0, [%r10-8]\nexit"
        )),
        9
    );
}

#[test]
fn cmpxchg_compares_against_r0_and_returns_the_old_value_in_r0() {
    let init = "mov %r1, 5\nstxdw [%r10-8], %r1\nmov %r1, 9\n";
    // Match: memory gets r1, r0 gets the old value.
    assert_eq!(
        r0(&format!(
            "{init}mov %r0, 5\nlock cmpxchg [%r10-8], %r1\nexit"
        )),
        5
    );
    assert_eq!(
        r0(&format!(
            "{init}mov %r0, 5\nlock cmpxchg [%r10-8], %r1\nldxdw %r0, [%r10-8]\nexit"
        )),
        9
    );
    // No match: memory unchanged, r0 still gets the old value.
    assert_eq!(
        r0(&format!(
            "{init}mov %r0, 6\nlock cmpxchg [%r10-8], %r1\nldxdw %r0, [%r10-8]\nexit"
        )),
        5
    );
    // 32-bit: compares the low half of r0; the old value is zero-extended.
    assert_eq!(
        r0(&format!(
            "{init}lddw %r0, 0x700000005\nlock cmpxchg32 [%r10-8], %r1\nldxdw %r0, [%r10-8]\nexit"
        )),
        9
    );
    assert_eq!(
        r0(&format!(
            "{init}lddw %r0, 0x700000005\nlock cmpxchg32 [%r10-8], %r1\nexit"
        )),
        5
    );
}
