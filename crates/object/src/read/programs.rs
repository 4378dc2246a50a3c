//! Functions and programs: executable sections split into functions by
//! their `STT_FUNC` symbols (libbpf 1.x), or one function per section for
//! old objects without them, each with its relocations classified.

use bpfkit_isa::Insn;
use serde::Serialize;

use crate::btf::{CoreRelo, FuncInfo, LineInfo};

use super::elf::{ElfView, RawSection, RawSymbol};
use super::error::ObjectError;
use super::externs::Extern;
use super::maps::MapDef;
use super::relocs::{self, Classified, CodeRef, RelocTarget, RelocType, Relocation, Site};
use super::section_defs::SectionType;

/// `STB_LOCAL`.
const STB_LOCAL: u8 = 0;

/// One function as the ELF file holds it (unlinked): what `llvm-objdump
/// -d` lists under its symbol.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Function {
    /// The symbol name (the section name for a symbol-less old object).
    pub name: String,
    /// The section.
    pub section: String,
    /// Its index.
    pub section_index: usize,
    /// The first slot's index within the section (byte offset / 8).
    pub start: usize,
    /// The instruction slots, as in the file (relocations not applied).
    #[serde(skip)]
    pub slots: Vec<Insn>,
    /// Global (`STB_GLOBAL` or `STB_WEAK`) rather than static.
    pub global: bool,
    /// Its relocations; `insn` counts from the function's first slot and
    /// code targets are slots of their section.
    pub relocations: Vec<Relocation>,
}

impl Function {
    /// A `.text` function: a subprogram, never loaded alone.
    pub fn is_subprogram(&self) -> bool {
        self.section == ".text"
    }

    /// Number of slots.
    pub fn len(&self) -> usize {
        self.slots.len()
    }

    /// Whether it has no slots (never, for a parsed object).
    pub fn is_empty(&self) -> bool {
        self.slots.is_empty()
    }

    /// Whether section slot `slot` lies in this function.
    pub(crate) fn contains(&self, section: usize, slot: usize) -> bool {
        self.section_index == section && slot >= self.start && slot < self.start + self.slots.len()
    }
}

/// Where a function landed in a linked program.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LinkedFunction {
    /// The function's name.
    pub name: String,
    /// Its section.
    pub section: String,
    /// Its first slot in the linked program.
    pub start: usize,
    /// Its number of slots.
    pub len: usize,
}

/// A program (entry point) linked with every subprogram it calls, ready for
/// a verifier, the userspace VM or the kernel loader.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Program {
    /// The entry function's name.
    pub name: String,
    /// Its section.
    pub section: String,
    /// Its index.
    pub section_index: usize,
    /// The entry's first slot within the section.
    pub start: usize,
    /// Program type, expected attach type, attach target and flags, from
    /// the section name.
    pub section_type: SectionType,
    /// The linked code, decoded and structurally checked: the entry
    /// function first, then each subprogram it reaches, in the order
    /// libbpf appends them; calls and function pointers resolved, map and
    /// extern loads marked with their `src` pseudo-register kind.
    #[serde(skip)]
    pub insns: bpfkit_isa::Program,
    /// Every function in the linked code, the entry first.
    pub functions: Vec<LinkedFunction>,
    /// Relocations a loader still acts on (and the resolved calls), with
    /// `insn` and code targets as slots of the linked program.
    pub relocations: Vec<Relocation>,
    /// `.BTF.ext` function info; `insn_off` is a slot of the linked program
    /// (the kernel's unit), not a byte offset.
    pub func_info: Vec<FuncInfo>,
    /// `.BTF.ext` line info; `insn_off` is a slot of the linked program.
    pub line_info: Vec<LineInfo>,
    /// `.BTF.ext` CO-RE relocations of the linked code; `insn_off` is a
    /// slot of the linked program.
    pub core_relos: Vec<CoreRelo>,
}

impl Program {
    /// The subprograms linked in (every function but the entry).
    pub fn subprograms(&self) -> &[LinkedFunction] {
        self.functions.get(1..).unwrap_or(&[])
    }

    /// The raw slots of the linked code.
    pub fn slots(&self) -> &[Insn] {
        self.insns.slots()
    }

    /// The line info of the slot `pc`, the last at or before it.
    pub fn line_at(&self, pc: usize) -> Option<&LineInfo> {
        self.line_info
            .iter()
            .rev()
            .find(|l| l.insn_off as usize <= pc)
    }
}

/// Function boundaries in one section: (name, start slot, slots, global).
fn split(
    view: &ElfView<'_>,
    sec: &RawSection<'_>,
) -> Result<Vec<(String, usize, usize, bool)>, ObjectError> {
    let n = sec.data.len() / 8;
    let mut funcs: Vec<&RawSymbol> = view
        .symbols
        .iter()
        .filter(|s| s.section() == Some(sec.index) && s.is_func())
        .collect();
    if funcs.is_empty() {
        // Objects from before FUNC symbols: one program per section, named
        // after its first global symbol, as libbpf 0.x named it.
        let name = view
            .symbols
            .iter()
            .filter(|s| {
                s.section() == Some(sec.index)
                    && s.value == 0
                    && s.bind != STB_LOCAL
                    && !s.name.is_empty()
            })
            .map(|s| s.name.clone())
            .next()
            .unwrap_or_else(|| sec.name.clone());
        return Ok(vec![(name, 0, n, true)]);
    }
    funcs.sort_by_key(|s| s.value);
    let mut out: Vec<(String, usize, usize, bool)> = Vec::new();
    for (i, s) in funcs.iter().enumerate() {
        let bad = |message: String| ObjectError::Symbol {
            symbol: s.name.clone(),
            index: s.index,
            message,
        };
        if s.value % 8 != 0 || s.size % 8 != 0 {
            return Err(bad(format!(
                "offset {:#x} or size {:#x} is not a multiple of 8",
                s.value, s.size
            )));
        }
        let start = (s.value / 8) as usize;
        // A size of 0 (hand-written assembly) runs to the next function.
        let len = if s.size == 0 {
            let next = funcs.get(i + 1).map_or(n, |t| (t.value / 8) as usize);
            next.saturating_sub(start)
        } else {
            (s.size / 8) as usize
        };
        if start.checked_add(len).map_or(true, |end| end > n) || len == 0 {
            return Err(bad(format!(
                "function [{:#x}, +{:#x}) does not fit the {}-byte section '{}'",
                s.value,
                s.size,
                sec.data.len(),
                sec.name
            )));
        }
        if let Some(prev) = out.last() {
            if prev.1 + prev.2 > start {
                return Err(bad(format!("overlaps function '{}'", prev.0)));
            }
        }
        if sec.name != ".text" && s.bind == STB_LOCAL {
            return Err(bad(format!(
                "program in section '{}' is static; libbpf loads only global programs",
                sec.name
            )));
        }
        out.push((s.name.clone(), start, len, s.bind != STB_LOCAL));
    }
    Ok(out)
}

/// Every function of every executable section, with its relocations.
pub(crate) fn functions(
    view: &ElfView<'_>,
    maps: &[MapDef],
    externs: &[Extern],
) -> Result<Vec<Function>, ObjectError> {
    let mut out = Vec::new();
    for sec in view
        .sections
        .iter()
        .filter(|s| s.is_exec() && !s.data.is_empty())
    {
        if sec.data.len() % 8 != 0 {
            return Err(ObjectError::section(
                &sec.name,
                format!(
                    "{} bytes of code are not whole 8-byte instructions",
                    sec.data.len()
                ),
            ));
        }
        let slots = view.insns(sec.data);
        let first = out.len();
        for (name, start, len, global) in split(view, sec)? {
            out.push(Function {
                name,
                section: sec.name.clone(),
                section_index: sec.index,
                start,
                slots: slots[start..start + len].to_vec(),
                global,
                relocations: Vec::new(),
            });
        }
        let mut pending: Vec<(usize, usize, RelocType, String, Classified)> = Vec::new();
        for rel in view.relocs.iter().filter(|r| r.target == sec.index) {
            for (index, r) in rel.entries.iter().enumerate() {
                let symbol = &view.symbols[r.symbol];
                let site = Site {
                    section: &sec.name,
                    index,
                    reloc: r,
                    symbol,
                };
                let r_type = RelocType::from_raw(r.r_type)
                    .ok_or_else(|| site.error(format!("unknown relocation type {}", r.r_type)))?;
                if r_type == RelocType::None {
                    continue;
                }
                if r.offset % 8 != 0 || r.offset / 8 >= slots.len() as u64 {
                    return Err(site.error("offset is not an instruction of the section"));
                }
                let slot = (r.offset / 8) as usize;
                let Some(f) = out[first..]
                    .iter()
                    .position(|f| f.contains(sec.index, slot))
                else {
                    return Err(site.error("patches an instruction outside every function"));
                };
                let c = relocs::classify(view, &site, r_type, &slots, slot, maps, externs)?;
                let shown = if symbol.is_section() {
                    symbol
                        .section()
                        .map_or(String::new(), |i| view.sections[i].name.clone())
                } else {
                    symbol.name.clone()
                };
                pending.push((first + f, slot, r_type, shown, c));
            }
        }
        for (f, slot, r_type, symbol, c) in pending {
            let target = resolve_code(&out, c, &out[f], slot)?;
            let insn = slot - out[f].start;
            out[f].relocations.push(Relocation {
                insn,
                r_type,
                symbol,
                target,
            });
        }
        for f in &mut out[first..] {
            f.relocations.sort_by_key(|r| r.insn);
        }
    }
    Ok(out)
}

/// Names the function a code reference lands in.
fn resolve_code(
    funcs: &[Function],
    c: Classified,
    from: &Function,
    slot: usize,
) -> Result<RelocTarget, ObjectError> {
    let find = |r: CodeRef| {
        funcs
            .iter()
            .find(|f| f.contains(r.section, r.slot))
            .ok_or_else(|| ObjectError::Instruction {
                program: from.name.clone(),
                section: from.section.clone(),
                insn: slot - from.start,
                message: format!(
                    "call or function-pointer target {} lies in no function of its section",
                    r.slot
                ),
            })
    };
    Ok(match c {
        Classified::Target(t) => t,
        Classified::Call(r) => RelocTarget::Call {
            function: find(r)?.name.clone(),
            target: r.slot,
        },
        Classified::FuncPointer(r) => RelocTarget::FuncPointer {
            function: find(r)?.name.clone(),
            target: r.slot,
        },
    })
}
