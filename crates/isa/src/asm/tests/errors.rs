//! Errors: line, column, underline length and message.

use super::error;
use crate::asm::assemble;
use crate::Syntax::{Llvm, Ubpf};

/// Source, and the expected (line, column, underline length, message part).
type Case = (&'static str, (usize, usize, usize, &'static str));

#[test]
fn ubpf_errors_point_at_the_offending_text() {
    let cases: &[Case] = &[
        (
            "mov %r0, 1\nldxq %r0, %r1",
            (2, 1, 4, "unknown mnemonic `ldxq`"),
        ),
        ("or %r0, %r50\nexit", (1, 9, 4, "invalid register `%r50`")),
        ("mov %r0, %x1", (1, 10, 3, "invalid register `%x1`")),
        (
            "mov32 %r0, 2147483648",
            (1, 12, 10, "does not fit in 32 bits"),
        ),
        (
            "mov32 %r0, 0x100000000",
            (1, 12, 11, "does not fit in 32 bits"),
        ),
        (
            "ldxb %r0, [%r1+0x10000]",
            (1, 15, 8, "offset 0x10000 does not fit in 16 bits"),
        ),
        ("ldxb %r0, %r1", (1, 11, 3, "expected a memory operand")),
        (
            "lddw %r0",
            (1, 1, 4, "wrong number of operands for `lddw`: expected 2"),
        ),
        (
            "lock\nexit",
            (1, 1, 4, "wrong number of operands for `lock`"),
        ),
        (
            "lock or [%r10-8]",
            (
                1,
                1,
                7,
                "wrong number of operands for `lock or`: expected 2",
            ),
        ),
        (
            "ja NOT_A_LABEL\nexit",
            (1, 4, 11, "unknown label `NOT_A_LABEL`"),
        ),
        (
            "a:\na:\nexit",
            (2, 1, 1, "duplicate label `a` (first defined on line 1)"),
        ),
        (
            "jeq %r1, 0, 40000",
            (1, 13, 5, "jump offset 40000 does not fit in 16 bits"),
        ),
        ("exit %r0", (1, 6, 3, "expected 0")),
        (
            "mov %r0, 1 2",
            (1, 12, 1, "unexpected `2` after the instruction"),
        ),
        (
            "ldxdw %r0, [%r1+8",
            (
                1,
                18,
                1,
                "expected `]` to close the memory operand, found end of line",
            ),
        ),
        ("mov %r0, 0x", (1, 10, 2, "expected digits after `0x`")),
        (
            "movsx3232 %r0, %r1",
            (1, 1, 9, "unknown mnemonic `movsx3232`"),
        ),
        ("call nope", (1, 6, 4, "unknown helper `nope`")),
    ];
    for (src, (line, column, len, msg)) in cases {
        let (l, c, n, m) = error(src, Ubpf);
        assert!(m.contains(msg), "{src:?}: message {m:?} lacks {msg:?}");
        assert_eq!((l, c, n), (*line, *column, *len), "{src:?}: {m}");
    }
}

#[test]
fn jump_to_a_far_label_is_out_of_range() {
    let mut src = String::from("ja far\n");
    src.push_str(&"mov %r0, 0\n".repeat(40000));
    src.push_str("far: exit\n");
    let (l, c, n, m) = error(&src, Ubpf);
    assert_eq!((l, c, n), (1, 4, 3));
    assert!(m.contains("label `far` is 40000 instructions away"), "{m}");
    // the 32-bit form reaches it
    assert!(assemble(&src.replacen("ja far", "ja32 far", 1), Ubpf).is_ok());
}

#[test]
fn llvm_errors_point_at_the_offending_text() {
    let cases: &[Case] = &[
        (
            "r0 = 1\nr11 = 2",
            (2, 1, 3, "invalid register `r11` (registers are r0 to r10)"),
        ),
        ("w0 += r1", (1, 7, 2, "needs a 32-bit register `wN`")),
        ("r1 = 0x1122334455667788", (1, 6, 18, "add `ll`")),
        ("w1 = 1 ll", (1, 1, 9, "needs a 64-bit register")),
        (
            "r0 = *(u24 *)(r1 + 0)",
            (1, 8, 3, "unknown access type `u24`"),
        ),
        ("if r1 ~ r2 goto +1", (1, 7, 1, "expected a comparison")),
        ("if r1 > r2 goto", (1, 16, 1, "expected a jump target")),
        ("goto +40000", (1, 6, 6, "does not fit in 16 bits")),
        (
            "frobnicate r1",
            (1, 1, 10, "unknown instruction `frobnicate`"),
        ),
        ("r0 = -r1", (1, 6, 3, "negation works in place")),
        (
            "r1 = atomic_fetch_add((u64 *)(r1 + 0), r2)",
            (1, 40, 2, "same register"),
        ),
        ("*(s32 *)(r1 + 0) = 1", (1, 2, 7, "stores take an unsigned")),
        (
            "r1 = *(u8 *)skb[3]",
            (1, 1, 2, "packet loads always load into r0"),
        ),
        ("call nope\nexit", (1, 6, 4, "unknown label `nope`")),
    ];
    for (src, (line, column, len, msg)) in cases {
        let (l, c, n, m) = error(src, Llvm);
        assert!(m.contains(msg), "{src:?}: message {m:?} lacks {msg:?}");
        assert_eq!((l, c, n), (*line, *column, *len), "{src:?}: {m}");
    }
}

#[test]
fn render_underlines_in_context() {
    let src = "r0 = 0\n\tif r1 > r2 goto nowhere\nexit\n";
    let e = assemble(src, Llvm).unwrap_err();
    assert_eq!(
        e.render(src, "prog.s"),
        "prog.s:2:18: error: unknown label `nowhere`\n  |\n2 | \tif r1 > r2 goto nowhere\n  | \t                ^^^^^^^\n"
    );
    assert_eq!(e.to_string(), "line 2, column 18: unknown label `nowhere`");
    // columns count characters, not bytes
    let src = "mov %r0, 1 # é\nfoo é";
    let e = assemble(src, crate::Syntax::Ubpf).unwrap_err();
    assert_eq!((e.line, e.column), (2, 1));
    let e = assemble("é", crate::Syntax::Ubpf).unwrap_err();
    assert_eq!((e.column, e.len), (1, 1));
}

#[test]
fn arbitrary_bytes_never_panic() {
    // A cheap deterministic fuzz: every prefix and splice of a mixed corpus.
    let corpus = "r0 = *(u32 *)(r1 + 0)\nlock *(u64 *)(r10 - 8) += r1\nif w1 s< w2 goto +3 <x>\n\
                  r0 = cmpxchg_64(r1 + 0, r0, r2)\nr0 = *(u16 *)skb[r1 + 4]\n12: (b7) r0 = 1\n\
                  lock fetch add [%r1+0], %r2\nldxdw %r1, [%r10-8]\ncall local f\nf: é 0x 99999999999999999999999999999999999999999\n";
    let chars: Vec<char> = corpus.chars().collect();
    for start in 0..chars.len() {
        for len in [1, 2, 3, 5, 8, 13, 40] {
            let piece: String = chars.iter().skip(start).take(len).collect();
            for syntax in [Llvm, Ubpf] {
                let _ = assemble(&piece, syntax);
            }
        }
    }
}

#[test]
fn token_soup_never_panics() {
    // Random lines built from the syntaxes' own tokens (a fixed-seed LCG, so
    // the test is deterministic): errors are fine, panics are not.
    const TOKENS: &[&str] = &[
        "r0",
        "w1",
        "r10",
        "r11",
        "%r1",
        "%r99",
        "%",
        "=",
        "+=",
        "s>>=",
        "-",
        "*",
        "(",
        ")",
        "[",
        "]",
        "u8",
        "s32",
        "u64",
        "*)",
        "skb",
        "lock",
        "fetch",
        "add",
        "add32",
        "ldxdw",
        "stw",
        "call",
        "local",
        "pc+",
        "goto",
        "gotol",
        "if",
        "s<",
        "&",
        "==",
        "0x",
        "0xffffffff",
        "-0x8000",
        "99999999999999999999",
        "+3",
        "-",
        "ll",
        "exit",
        ":",
        "L1:",
        "L1",
        ",",
        "<",
        ">",
        "atomic_fetch_add",
        "xchg_64",
        "cmpxchg32_32",
        "be16",
        "bswap64",
        "(s8)",
        "ld_pseudo",
        "12:",
        "(b7)",
        "db",
        "é",
        "\t",
        "#",
        ";",
        "movsx832",
        "ja32",
        "ldabsw",
    ];
    let mut state: u64 = 0x2545_f491_4f6c_dd1d;
    let mut next = |n: usize| {
        state = state
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (state >> 33) as usize % n
    };
    for _ in 0..20_000 {
        let mut src = String::new();
        for _ in 0..1 + next(3) {
            for _ in 0..1 + next(8) {
                src.push_str(TOKENS[next(TOKENS.len())]);
                if next(3) != 0 {
                    src.push(' ');
                }
            }
            src.push('\n');
        }
        for syntax in [Llvm, Ubpf] {
            if let Err(e) = assemble(&src, syntax) {
                assert!(e.line >= 1 && e.column >= 1 && e.len >= 1, "{src:?}: {e:?}");
                let _ = e.render(&src, "fuzz");
            }
        }
    }
}
