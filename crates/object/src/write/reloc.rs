//! Symbol references as BPF relocations, with the addend stored in the
//! patched field (BPF objects use `SHT_REL`, no explicit addends), encoded
//! as clang does: see the kernel's Documentation/bpf/llvm_reloc.rst.

use bpfkit_isa::asm::file::{AssembledFile, RefKind, SymbolRef};
use bpfkit_isa::asm::AsmError;

use super::symtab::Symtab;

/// `R_BPF_64_64`: the 64-bit immediate of `lddw`; the addend is in its low 32 bits.
pub(super) const R_BPF_64_64: u32 = 1;
/// `R_BPF_64_ABS64`: a 64-bit data word.
pub(super) const R_BPF_64_ABS64: u32 = 2;
/// `R_BPF_64_ABS32`: a 32-bit data word.
pub(super) const R_BPF_64_ABS32: u32 = 3;
/// `R_BPF_64_32`: the immediate of a call, in instructions, `(S + A) / 8 - 1`.
pub(super) const R_BPF_64_32: u32 = 10;

/// One relocation entry of a `.rel` section.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct Relocation {
    /// Byte offset in the patched section.
    pub offset: u64,
    /// Symbol-table index.
    pub symbol: u32,
    /// `R_BPF_*` type.
    pub r_type: u32,
}

/// Per section (indexed as the file's sections): its relocations, and its
/// bytes with the addends stored in the relocated fields.
pub(super) struct Relocated {
    pub relocs: Vec<Vec<Relocation>>,
    pub datas: Vec<Vec<u8>>,
}

/// Turns every section's references into relocations.
pub(super) fn relocate(file: &AssembledFile, symtab: &Symtab) -> Result<Relocated, AsmError> {
    let mut all = Vec::with_capacity(file.sections.len());
    let mut datas = Vec::with_capacity(file.sections.len());
    for sec in &file.sections {
        let mut data = sec.data.clone();
        let mut relocs = Vec::with_capacity(sec.refs.len());
        for r in &sec.refs {
            let sym = &file.symbols[r.symbol];
            let (symbol, addend) = match sym.definition {
                Some((section, offset)) if sym.is_local_definition() => (
                    symtab.section_symbol[section],
                    r.addend.checked_add(offset as i64),
                ),
                _ => (symtab.symbol_index[r.symbol], Some(r.addend)),
            };
            let (Some(symbol), Some(addend)) = (symbol, addend) else {
                return Err(r.loc.error(format!(
                    "`{}` cannot be relocated against (no symbol-table entry or addend overflow)",
                    sym.name
                )));
            };
            let r_type = store_addend(&mut data, r, addend, &sym.name)?;
            relocs.push(Relocation {
                offset: r.offset,
                symbol,
                r_type,
            });
        }
        all.push(relocs);
        datas.push(data);
    }
    Ok(Relocated { relocs: all, datas })
}

/// Writes `addend` into the field `r` relocates and returns the relocation type.
fn store_addend(data: &mut [u8], r: &SymbolRef, addend: i64, name: &str) -> Result<u32, AsmError> {
    let at = r.offset as usize;
    let (r_type, field_at, bytes) = match r.kind {
        RefKind::Call => {
            if addend % 8 != 0 {
                return Err(r.loc.error(format!(
                    "`{name}{addend:+}` is not on an instruction boundary: a call needs a multiple of 8 bytes"
                )));
            }
            let imm = i32::try_from(addend / 8 - 1).map_err(|_| too_far(r, name))?;
            (R_BPF_64_32, at + 4, imm.to_le_bytes().to_vec())
        }
        RefKind::LoadImm64 => {
            let imm = i32::try_from(addend).map_err(|_| too_far(r, name))?;
            (R_BPF_64_64, at + 4, imm.to_le_bytes().to_vec())
        }
        RefKind::Abs64 => (R_BPF_64_ABS64, at, addend.to_le_bytes().to_vec()),
        RefKind::Abs32 => {
            let v = i32::try_from(addend)
                .map(|v| v as u32)
                .or_else(|_| u32::try_from(addend))
                .map_err(|_| too_far(r, name))?;
            (R_BPF_64_ABS32, at, v.to_le_bytes().to_vec())
        }
    };
    match data.get_mut(field_at..field_at + bytes.len()) {
        Some(field) => field.copy_from_slice(&bytes),
        None => {
            return Err(r.loc.error(format!(
                "the reference to `{name}` lies outside its section's data"
            )))
        }
    }
    Ok(r_type)
}

fn too_far(r: &SymbolRef, name: &str) -> AsmError {
    r.loc.error(format!(
        "the offset from `{name}` does not fit in the 32-bit field the relocation patches"
    ))
}
