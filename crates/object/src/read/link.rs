//! Linking: each program gets a copy of every subprogram it reaches,
//! appended after its own code in the order libbpf appends them (depth
//! first: a subprogram is scanned for its own calls as soon as it is
//! appended, before its caller's scan goes on), with call and
//! function-pointer immediates made relative to the new positions and
//! `.BTF.ext` func/line info moved along.

use bpfkit_isa::{check, Insn};

use crate::btf::{BtfExt, CoreRelo, FuncInfo, LineInfo};

use super::error::ObjectError;
use super::externs::ExternKind;
use super::programs::{Function, LinkedFunction, Program};
use super::relocs::{RelocTarget, Relocation, CALL, LD_IMM64};
use super::section_defs;
use super::Extern;

/// `src_reg` values of `linux/bpf.h`.
const PSEUDO_MAP_FD: u8 = 1;
const PSEUDO_MAP_VALUE: u8 = 2;
const PSEUDO_BTF_ID: u8 = 3;
const PSEUDO_FUNC: u8 = 4;
const PSEUDO_CALL: u8 = 1;
const PSEUDO_KFUNC_CALL: u8 = 2;

/// Most functions one program may link (the kernel's `MAX_SUBPROGS`).
const MAX_FUNCTIONS: usize = 256;

/// Links every non-`.text` function into a program.
pub(crate) fn programs(
    functions: &[Function],
    externs: &[Extern],
    btf_ext: Option<&BtfExt>,
    tc_object: bool,
) -> Result<Vec<Program>, ObjectError> {
    functions
        .iter()
        .enumerate()
        .filter(|(_, f)| !f.is_subprogram())
        .map(|(i, _)| link(functions, i, externs, btf_ext, tc_object))
        .collect()
}

/// The function a code target names: by name, holding the slot.
fn callee(functions: &[Function], name: &str, slot: usize) -> Option<usize> {
    functions
        .iter()
        .position(|f| f.name == name && slot >= f.start && slot < f.start + f.len())
}

fn link(
    functions: &[Function],
    main: usize,
    externs: &[Extern],
    btf_ext: Option<&BtfExt>,
    tc_object: bool,
) -> Result<Program, ObjectError> {
    let entry = &functions[main];
    let err = |insn: usize, message: String| ObjectError::Instruction {
        program: entry.name.clone(),
        section: entry.section.clone(),
        insn,
        message,
    };
    let mut slots: Vec<Insn> = entry.slots.clone();
    // (function index, base slot in the linked program)
    let mut placed: Vec<(usize, usize)> = vec![(main, 0)];
    let mut relocations: Vec<Relocation> = Vec::new();
    // Depth first, as libbpf's `bpf_object__reloc_code`: a newly appended
    // subprogram is scanned (appending its own callees) before the scan of
    // its caller goes on. Each entry: (function, base slot, next slot).
    let mut stack: Vec<(usize, usize, usize)> = vec![(main, 0, 0)];
    while let Some(top) = stack.last_mut() {
        let (fi, base, j) = *top;
        let f = &functions[fi];
        if j >= f.len() {
            stack.pop();
            continue;
        }
        top.2 += 1;
        {
            let pc = base + j;
            let insn = slots[pc];
            let reloc = f.relocations.iter().find(|r| r.insn == j);
            // The callee and the slot within its section.
            let code: Option<(usize, usize, bool)> = match reloc.map(|r| &r.target) {
                Some(RelocTarget::Call { function, target }) => {
                    let c = callee(functions, function, *target)
                        .ok_or_else(|| err(pc, format!("no function '{function}'")))?;
                    Some((c, *target, false))
                }
                Some(RelocTarget::FuncPointer { function, target }) => {
                    let c = callee(functions, function, *target)
                        .ok_or_else(|| err(pc, format!("no function '{function}'")))?;
                    Some((c, *target, true))
                }
                Some(_) => None,
                None if insn.code == CALL && insn.src == PSEUDO_CALL => {
                    // A call within the section carries no relocation: `imm`
                    // counts from the next instruction in section terms.
                    let target = (f.start + j) as i64 + 1 + insn.imm as i64;
                    let c = usize::try_from(target)
                        .ok()
                        .and_then(|t| {
                            functions
                                .iter()
                                .position(|g| g.contains(f.section_index, t))
                                .map(|g| (g, t))
                        })
                        .ok_or_else(|| {
                            err(
                                pc,
                                format!(
                                    "call target {target} lies in no function of section '{}'",
                                    f.section
                                ),
                            )
                        })?;
                    Some((c.0, c.1, false))
                }
                None => None,
            };
            if let Some((c, target, is_pointer)) = code {
                let base_c = match placed.iter().find(|p| p.0 == c) {
                    Some(&(_, b)) => b,
                    None => {
                        if placed.len() >= MAX_FUNCTIONS {
                            return Err(err(
                                pc,
                                format!("links more than {MAX_FUNCTIONS} functions"),
                            ));
                        }
                        let b = slots.len();
                        slots.extend_from_slice(&functions[c].slots);
                        placed.push((c, b));
                        stack.push((c, b, 0));
                        b
                    }
                };
                let at = base_c + (target - functions[c].start);
                let rel = at as i64 - (pc as i64 + 1);
                let imm = i32::try_from(rel)
                    .map_err(|_| err(pc, "call distance overflows imm".into()))?;
                slots[pc].imm = imm;
                if is_pointer {
                    slots[pc].src = PSEUDO_FUNC;
                }
                if let Some(r) = reloc {
                    let function = functions[c].name.clone();
                    let target = if is_pointer {
                        RelocTarget::FuncPointer {
                            function,
                            target: at,
                        }
                    } else {
                        RelocTarget::Call {
                            function,
                            target: at,
                        }
                    };
                    relocations.push(Relocation {
                        insn: pc,
                        target,
                        ..r.clone()
                    });
                }
                continue;
            }
            let Some(r) = reloc else { continue };
            patch(&mut slots, pc, &r.target, externs).map_err(|m| err(pc, m))?;
            relocations.push(Relocation {
                insn: pc,
                ..r.clone()
            });
        }
    }

    relocations.sort_by_key(|r| r.insn);
    let mut func_info = Vec::new();
    let mut line_info = Vec::new();
    let mut core_relos = Vec::new();
    let mut linked = Vec::new();
    for &(fi, base) in &placed {
        let f = &functions[fi];
        linked.push(LinkedFunction {
            name: f.name.clone(),
            section: f.section.clone(),
            start: base,
            len: f.len(),
        });
        if let Some(ext) = btf_ext {
            let local = |off: u32| {
                let slot = (off / 8) as usize;
                (slot >= f.start && slot < f.start + f.len())
                    .then(|| (base + slot - f.start) as u32)
            };
            for fi in ext.func_info(&f.section) {
                if let Some(insn_off) = local(fi.insn_off) {
                    func_info.push(FuncInfo {
                        insn_off,
                        type_id: fi.type_id,
                    });
                }
            }
            for li in ext.line_info(&f.section) {
                if let Some(insn_off) = local(li.insn_off) {
                    line_info.push(LineInfo {
                        insn_off,
                        ..li.clone()
                    });
                }
            }
            for cr in ext.core_relos(&f.section) {
                if let Some(insn_off) = local(cr.insn_off) {
                    core_relos.push(CoreRelo {
                        insn_off,
                        ..cr.clone()
                    });
                }
            }
        }
    }
    let insns = check(&slots).map_err(|e| {
        let pc = e.pc().unwrap_or(0);
        err(pc, e.to_string())
    })?;
    Ok(Program {
        name: entry.name.clone(),
        section: entry.section.clone(),
        section_index: entry.section_index,
        start: entry.start,
        section_type: section_defs::classify(&entry.section, tc_object),
        insns,
        functions: linked,
        relocations,
        func_info,
        line_info,
        core_relos,
    })
}

/// Marks a map or extern load with its pseudo source, as libbpf does
/// before loading; what only the loader knows (fds, BTF ids) stays 0.
fn patch(
    slots: &mut [Insn],
    pc: usize,
    target: &RelocTarget,
    externs: &[Extern],
) -> Result<(), String> {
    let ld = |slots: &[Insn]| -> Result<(), String> {
        if slots[pc].code != LD_IMM64 || pc + 1 >= slots.len() {
            return Err("map or extern relocation on an instruction that is not ld_imm64".into());
        }
        Ok(())
    };
    match target {
        RelocTarget::Map { .. } => {
            ld(slots)?;
            slots[pc].src = PSEUDO_MAP_FD;
            slots[pc].imm = 0;
        }
        RelocTarget::MapValue { offset, .. } => {
            ld(slots)?;
            slots[pc].src = PSEUDO_MAP_VALUE;
            slots[pc].imm = 0;
            slots[pc + 1].imm = *offset as i32;
        }
        RelocTarget::Extern { index, .. } => {
            ld(slots)?;
            let ext = externs.get(*index).ok_or("extern index out of range")?;
            if ext.kind == ExternKind::Kconfig {
                slots[pc].src = PSEUDO_MAP_VALUE;
                slots[pc].imm = 0;
                slots[pc + 1].imm = ext.kconfig_offset.unwrap_or(0) as i32;
            } else {
                slots[pc].src = PSEUDO_BTF_ID;
                slots[pc].imm = 0;
                slots[pc + 1].imm = 0;
            }
        }
        RelocTarget::KfuncCall { .. } => {
            if slots[pc].code != CALL {
                return Err("kfunc relocation on an instruction that is not call".into());
            }
            slots[pc].src = PSEUDO_KFUNC_CALL;
            slots[pc].imm = 0;
            slots[pc].off = 0;
        }
        RelocTarget::Call { .. } | RelocTarget::FuncPointer { .. } => {}
    }
    Ok(())
}
