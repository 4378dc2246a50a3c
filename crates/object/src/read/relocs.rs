//! Relocations of program code: the ELF relocation types of the kernel's
//! `Documentation/bpf/llvm_reloc.rst` and what each relocation refers to.
//!
//! A relocation is classified by the instruction it patches and the symbol
//! it names, as libbpf does: an `ld_imm64` against a map symbol loads a map
//! fd, against a data section a map value address, against code a function
//! address; a `call` against code is a BPF-to-BPF call; either against an
//! undefined symbol is an extern.

use bpfkit_isa::Insn;
use serde::Serialize;

use super::elf::{ElfView, RawReloc, RawSymbol};
use super::error::ObjectError;
use super::externs::{Extern, ExternKind};
use super::maps::MapDef;

/// `BPF_LD | BPF_IMM | BPF_DW`.
pub(crate) const LD_IMM64: u8 = 0x18;
/// `BPF_JMP | BPF_CALL`.
pub(crate) const CALL: u8 = 0x85;

/// An ELF relocation type for BPF (`R_BPF_*`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub enum RelocType {
    /// `R_BPF_NONE` (0): nothing to do.
    None,
    /// `R_BPF_64_64` (1): the 64-bit immediate of `ld_imm64`, `S + A` (old
    /// LLVM also used it for 64-bit data).
    Bpf64_64,
    /// `R_BPF_64_ABS64` (2): 64-bit data, `S + A` (e.g. `.rel.maps`).
    Abs64,
    /// `R_BPF_64_ABS32` (3): 32-bit data, `S + A` (DWARF).
    Abs32,
    /// `R_BPF_64_NODYLD32` (4): 32-bit data of `.BTF` and `.BTF.ext`.
    Nodyld32,
    /// `R_BPF_64_32` (10): the immediate of a `call`, `(S + A) / 8 - 1`
    /// (old LLVM also used it for 32-bit data).
    Bpf64_32,
}

impl RelocType {
    /// The type for an `r_type`, `None` if it is not a BPF relocation.
    pub fn from_raw(raw: u32) -> Option<RelocType> {
        Some(match raw {
            0 => RelocType::None,
            1 => RelocType::Bpf64_64,
            2 => RelocType::Abs64,
            3 => RelocType::Abs32,
            4 => RelocType::Nodyld32,
            10 => RelocType::Bpf64_32,
            _ => return None,
        })
    }

    /// The ELF constant's name, as `llvm-readelf -r` prints it.
    pub fn name(self) -> &'static str {
        match self {
            RelocType::None => "R_BPF_NONE",
            RelocType::Bpf64_64 => "R_BPF_64_64",
            RelocType::Abs64 => "R_BPF_64_ABS64",
            RelocType::Abs32 => "R_BPF_64_ABS32",
            RelocType::Nodyld32 => "R_BPF_64_NODYLD32",
            RelocType::Bpf64_32 => "R_BPF_64_32",
        }
    }
}

/// What a relocated instruction refers to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum RelocTarget {
    /// `ld_imm64` of a map: the loader puts the map's fd in `imm` (the
    /// instruction already has `src = BPF_PSEUDO_MAP_FD` in a program).
    Map {
        /// Index in [`Object::maps`](super::Object::maps).
        map: usize,
        /// The map's name.
        name: String,
    },
    /// `ld_imm64` of an address in a global data map: the loader puts the
    /// map's fd in the first `imm`; the second already holds `offset` and
    /// `src = BPF_PSEUDO_MAP_VALUE` in a program.
    MapValue {
        /// Index in [`Object::maps`](super::Object::maps).
        map: usize,
        /// The map's name.
        name: String,
        /// Byte offset in the map's value.
        offset: u32,
        /// The variable at that offset, when the section's BTF names one.
        variable: Option<String>,
    },
    /// A BPF-to-BPF call; resolved (the `imm` is final) in a program.
    Call {
        /// The callee.
        function: String,
        /// The callee's first slot: within its section for a
        /// [`Function`](super::Function), within the linked program for a
        /// [`Program`](super::Program).
        target: usize,
    },
    /// `ld_imm64` of a function's address (a callback, e.g. of
    /// `bpf_loop`); resolved (`src = BPF_PSEUDO_FUNC`, relative `imm`) in a
    /// program.
    FuncPointer {
        /// The function.
        function: String,
        /// Its first slot, as for [`RelocTarget::Call`].
        target: usize,
    },
    /// `ld_imm64` of an extern variable (`.kconfig` or `.ksyms`): a kconfig
    /// value is read from the `.kconfig` map (`src = BPF_PSEUDO_MAP_VALUE`,
    /// its offset set); a ksym's kernel BTF id is for the loader to fill
    /// (`src = BPF_PSEUDO_BTF_ID`).
    Extern {
        /// Index in [`Object::externs`](super::Object::externs).
        index: usize,
        /// The extern's name.
        name: String,
    },
    /// A call of a kernel function (`.ksyms` kfunc): `src =
    /// BPF_PSEUDO_KFUNC_CALL` in a program, the loader fills its BTF id.
    KfuncCall {
        /// Index in [`Object::externs`](super::Object::externs).
        index: usize,
        /// The kfunc's name.
        name: String,
    },
}

/// One relocation of program code, typed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Relocation {
    /// The patched instruction's slot index: in its function for a
    /// [`Function`](super::Function), in the linked program for a
    /// [`Program`](super::Program).
    pub insn: usize,
    /// The ELF relocation type.
    pub r_type: RelocType,
    /// The symbol the relocation names ("" for an unnamed one).
    pub symbol: String,
    /// What the instruction refers to.
    pub target: RelocTarget,
}

/// A call or function-pointer target in file terms: a section and a slot.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct CodeRef {
    pub section: usize,
    pub slot: usize,
}

/// A classified relocation before function names are known for code
/// targets.
#[derive(Debug, Clone)]
pub(crate) enum Classified {
    Target(RelocTarget),
    Call(CodeRef),
    FuncPointer(CodeRef),
}

/// Where the relocation is, for errors.
pub(crate) struct Site<'a> {
    pub section: &'a str,
    pub index: usize,
    pub reloc: &'a RawReloc,
    pub symbol: &'a RawSymbol,
}

impl Site<'_> {
    pub(crate) fn error(&self, message: impl Into<String>) -> ObjectError {
        ObjectError::Relocation {
            section: self.section.to_string(),
            index: self.index,
            offset: self.reloc.offset,
            symbol: self.symbol.name.clone(),
            message: message.into(),
        }
    }
}

/// The addend: explicit for `SHT_RELA`, else the implicit one LLVM leaves
/// in the instruction's `imm`.
fn addend(reloc: &RawReloc, insn: &Insn) -> i64 {
    reloc.addend.unwrap_or(insn.imm as i64)
}

/// Classifies one relocation of code at slot `slot` of its section.
pub(crate) fn classify(
    view: &ElfView<'_>,
    site: &Site<'_>,
    r_type: RelocType,
    slots: &[Insn],
    slot: usize,
    maps: &[MapDef],
    externs: &[Extern],
) -> Result<Classified, ObjectError> {
    let insn = slots[slot];
    let sym = site.symbol;
    let is_ldimm64 = insn.code == LD_IMM64;
    let is_call = insn.code == CALL;
    if !is_ldimm64 && !is_call {
        return Err(site.error(format!(
            "patches instruction {slot} (opcode {:#04x}), which is neither ld_imm64 nor call",
            insn.code
        )));
    }
    if is_ldimm64 && slot + 1 >= slots.len() {
        return Err(site.error(format!(
            "ld_imm64 at instruction {slot} lacks its second slot"
        )));
    }
    if !matches!(
        r_type,
        RelocType::Bpf64_64 | RelocType::Bpf64_32 | RelocType::Abs64 | RelocType::Abs32
    ) {
        return Err(site.error(format!("{} cannot patch an instruction", r_type.name())));
    }
    if sym.is_undefined() {
        let index = externs
            .iter()
            .position(|e| e.name == sym.name)
            .ok_or_else(|| site.error("undefined symbol that is no .kconfig/.ksyms extern"))?;
        let ext = &externs[index];
        let name = ext.name.clone();
        return Ok(Classified::Target(match (is_call, ext.kind) {
            (true, ExternKind::Kfunc) => RelocTarget::KfuncCall { index, name },
            (false, ExternKind::Kfunc) => {
                return Err(site.error("ld_imm64 of a kfunc (only calls may name one)"))
            }
            (true, _) => return Err(site.error("call of an extern variable")),
            (false, _) => RelocTarget::Extern { index, name },
        }));
    }
    let shndx = sym
        .section()
        .ok_or_else(|| site.error(format!("symbol has special section index {:#x}", sym.shndx)))?;
    let target_sec = &view.sections[shndx];
    let add = addend(site.reloc, &insn);
    if target_sec.is_exec() {
        if is_call {
            if insn.src != 1 {
                return Err(site.error("call of code with src_reg != BPF_PSEUDO_CALL"));
            }
            // REL: `imm` counts instructions from the one after the call,
            // relative to the symbol (-1 for a function symbol); RELA: the
            // byte address `S + A` is the callee.
            let target = match site.reloc.addend {
                None => (sym.value / 8) as i64 + add + 1,
                Some(a) => (sym.value as i64 + a) / 8,
            };
            let slot = code_slot(target, target_sec.data.len(), site)?;
            return Ok(Classified::Call(CodeRef {
                section: shndx,
                slot,
            }));
        }
        // ld_imm64 of a function: `imm` is a byte offset from the symbol.
        let byte = sym.value as i64 + add;
        if byte % 8 != 0 {
            return Err(site.error(format!(
                "function address {byte:#x} is not instruction-aligned"
            )));
        }
        let slot = code_slot(byte / 8, target_sec.data.len(), site)?;
        return Ok(Classified::FuncPointer(CodeRef {
            section: shndx,
            slot,
        }));
    }
    if is_call {
        return Err(site.error(format!(
            "call of a symbol in non-code section '{}'",
            target_sec.name
        )));
    }
    // Old LLVM named a legacy map by its section's symbol and the offset
    // in `imm`; a map's own symbol is exact.
    let at = if sym.is_section() {
        sym.value.saturating_add_signed(add)
    } else {
        sym.value
    };
    let Some(map_index) = maps.iter().position(|m| m.covers(shndx, at)) else {
        return Err(site.error(format!(
            "ld_imm64 of a symbol in section '{}', which holds no map, global data or code",
            target_sec.name
        )));
    };
    let map = &maps[map_index];
    let name = map.name.clone();
    if map.source.is_internal() {
        let offset = sym.value as i64 + add;
        if offset < 0 || offset as u64 > u64::from(map.value_size) {
            return Err(site.error(format!(
                "offset {offset} is outside the {}-byte section",
                map.value_size
            )));
        }
        let offset = offset as u32;
        let variable = map.variable_at(offset).map(|v| v.name.clone());
        return Ok(Classified::Target(RelocTarget::MapValue {
            map: map_index,
            name,
            offset,
            variable,
        }));
    }
    Ok(Classified::Target(RelocTarget::Map {
        map: map_index,
        name,
    }))
}

fn code_slot(target: i64, section_len: usize, site: &Site<'_>) -> Result<usize, ObjectError> {
    if target < 0 || target as u64 >= (section_len / 8) as u64 {
        return Err(site.error(format!(
            "code target instruction {target} is outside its {}-instruction section",
            section_len / 8
        )));
    }
    Ok(target as usize)
}
