//! The verifier's capabilities bpftool lists under "misc", each probed by
//! loading a small socket filter that needs it.

use bpfkit_isa::Insn;
use bpfkit_object::kinds::ProgType;

use crate::prog::ProgLoad;

/// `BPF_MAXINSNS`: the instruction limit before Linux 5.2.
const BPF_MAXINSNS: usize = 4096;

/// What the verifier accepts beyond the original ISA.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Misc {
    /// Programs longer than 4096 instructions (Linux 5.2).
    pub large_insn_limit: bool,
    /// Bounded loops (Linux 5.3).
    pub bounded_loops: bool,
    /// ISA v2: `<` and `<=` jumps (`BPF_JLT`, `BPF_JLE`...).
    pub v2_isa_extension: bool,
    /// ISA v3: 32-bit jumps (`BPF_JMP32`).
    pub v3_isa_extension: bool,
}

/// Probes the four capabilities (a few loads; not cached).
pub fn misc() -> Misc {
    let loads = |insns: &[Insn]| {
        let t = if insns.len() > BPF_MAXINSNS {
            ProgType::SchedCls
        } else {
            ProgType::SocketFilter
        };
        ProgLoad::new(t, insns).load().is_ok()
    };
    let mut large = vec![Insn::new(0xb7, 0, 0, 0, 0); BPF_MAXINSNS + 1];
    large.push(Insn::new(0x95, 0, 0, 0, 0));
    Misc {
        large_insn_limit: loads(&large),
        // r0 = 10; r0 -= 1; if r0 != 0 goto -2; exit
        bounded_loops: loads(&[
            Insn::new(0xb7, 0, 0, 0, 10),
            Insn::new(0x17, 0, 0, 0, 1),
            Insn::new(0x55, 0, 0, -2, 0),
            Insn::new(0x95, 0, 0, 0, 0),
        ]),
        // r0 = 0; if r0 < 1 goto +1; r0 = 1; exit
        v2_isa_extension: loads(&[
            Insn::new(0xb7, 0, 0, 0, 0),
            Insn::new(0xa5, 0, 0, 1, 1),
            Insn::new(0xb7, 0, 0, 0, 1),
            Insn::new(0x95, 0, 0, 0, 0),
        ]),
        // r0 = 0; if w0 < 1 goto +1; r0 = 1; exit
        v3_isa_extension: loads(&[
            Insn::new(0xb7, 0, 0, 0, 0),
            Insn::new(0xa6, 0, 0, 1, 1),
            Insn::new(0xb7, 0, 0, 0, 1),
            Insn::new(0x95, 0, 0, 0, 0),
        ]),
    }
}

/// Whether the kernel has the bpf(2) system call at all: any answer but
/// `ENOSYS` to a load of nothing (as bpftool asks).
pub fn bpf_syscall() -> bool {
    match ProgLoad::new(ProgType::Unspec, &[]).load() {
        Ok(_) => true,
        Err(e) => e.errno() != Some(libc::ENOSYS),
    }
}
