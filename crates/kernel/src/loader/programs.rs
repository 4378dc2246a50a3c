//! One program into the kernel: its linked code relocated for this
//! kernel (CO-RE against vmlinux BTF, map fds, kconfig and ksym externs,
//! kfunc BTF ids), its attach target's BTF id, func_info and line_info in
//! the loaded BTF's terms, then `BPF_PROG_LOAD`.

use std::collections::HashMap;
use std::os::fd::{AsRawFd, BorrowedFd};

use bpfkit_isa::Insn;
use bpfkit_object::btf::{Btf, BtfBuilder, Kind};
use bpfkit_object::co_re::{CoreTarget, Relocator};
use bpfkit_object::kinds::{AttachType, ProgType};
use bpfkit_object::read::{ExternKind, Object, Program as ObjProgram, RelocTarget};

use super::error::LoadError;
use super::externs::Ksym;
use super::reject::Rejection;
use crate::error::Error;
use crate::prog::{ProgLoad, Program};

/// `BPF_PSEUDO_BTF_ID`: `ld_imm64` of a kernel variable by BTF id.
const PSEUDO_BTF_ID: u8 = 3;
/// libbpf's `POISON_CALL_KFUNC_BASE`: the helper number a call of a
/// missing `__weak` kfunc becomes (refused only if reachable).
const POISON_CALL_KFUNC_BASE: i32 = 2_002_000_000;

/// What the loader knows when it loads programs.
pub struct ProgramContext<'a> {
    /// The object.
    pub obj: &'a Object,
    /// Each map's descriptor, by index in `obj.maps`.
    pub map_fds: &'a [i32],
    /// Resolved `.ksyms` externs, by index in `obj.externs`.
    pub ksyms: &'a HashMap<usize, Ksym>,
    /// The object's BTF as loaded, and its descriptor, when the kernel
    /// has BTF functions (func and line info refer to FUNC types).
    pub btf: Option<(&'a mut BtfBuilder, BorrowedFd<'a>)>,
    /// The kernel's BTF, read when a program needs it.
    pub vmlinux: &'a mut dyn FnMut() -> Result<std::sync::Arc<Btf>, LoadError>,
    /// `kern_version`.
    pub kern_version: u32,
    /// The verifier log level (0: a log only when the load fails).
    pub log_level: u32,
}

/// The type a program loads as: its section's, or the caller's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LoadType {
    /// The program type.
    pub prog_type: ProgType,
    /// Its expected attach type.
    pub expected_attach_type: Option<AttachType>,
}

/// The relocated slots of `prog`, ready for the kernel.
pub fn relocated(prog: &ObjProgram, cx: &mut ProgramContext<'_>) -> Result<Vec<Insn>, LoadError> {
    let mut slots = if prog.core_relos.is_empty() {
        prog.slots().to_vec()
    } else {
        let vmlinux = (cx.vmlinux)()?;
        let local = cx.obj.btf.as_ref().ok_or_else(|| LoadError::Unsupported {
            what: format!("program '{}'", prog.name),
            message: "has CO-RE records but the object has no .BTF".into(),
        })?;
        let mut relocator = Relocator::new(local, CoreTarget::new(&vmlinux));
        relocator
            .relocate_program(prog)
            .map_err(|e| LoadError::Core {
                program: prog.name.clone(),
                source: Box::new(e),
            })?
            .0
    };
    let obj = cx.obj;
    let fd_of = |map: usize| {
        cx.map_fds
            .get(map)
            .copied()
            .ok_or_else(|| LoadError::Unsupported {
                what: format!("program '{}'", prog.name),
                message: format!("refers to map #{map}, which the object does not define"),
            })
    };
    for r in &prog.relocations {
        let i = r.insn;
        if i >= slots.len() {
            continue;
        }
        match &r.target {
            RelocTarget::Map { map, .. } | RelocTarget::MapValue { map, .. } => {
                slots[i].imm = fd_of(*map)?;
            }
            RelocTarget::Extern { index, name } => {
                let e = obj.externs.get(*index);
                if e.map(|e| e.kind) == Some(ExternKind::Kconfig) {
                    let kconfig = obj
                        .maps
                        .iter()
                        .position(|m| m.source == bpfkit_object::read::MapSource::Kconfig)
                        .ok_or_else(|| LoadError::ext(name, "the object has no .kconfig map"))?;
                    slots[i].imm = fd_of(kconfig)?;
                    continue;
                }
                let ksym = cx.ksyms.get(index).copied().unwrap_or(Ksym::Missing);
                let (src, lo, hi) = match ksym {
                    Ksym::BtfId(id) => (PSEUDO_BTF_ID, id as i32, 0),
                    Ksym::Address(a) => (0, a as u32 as i32, (a >> 32) as u32 as i32),
                    Ksym::Missing => (0, 0, 0),
                };
                slots[i].src = src;
                slots[i].imm = lo;
                if let Some(next) = slots.get_mut(i + 1) {
                    next.imm = hi;
                }
            }
            RelocTarget::KfuncCall { index, .. } => match cx.ksyms.get(index) {
                Some(Ksym::BtfId(id)) => {
                    slots[i].imm = *id as i32;
                    slots[i].off = 0;
                }
                _ => {
                    slots[i].src = 0;
                    slots[i].off = 0;
                    slots[i].imm = POISON_CALL_KFUNC_BASE.saturating_add(*index as i32);
                }
            },
            RelocTarget::Call { .. } | RelocTarget::FuncPointer { .. } => {}
        }
    }
    Ok(slots)
}

/// The vmlinux BTF id a fentry/fexit/tp_btf/lsm/iter program attaches
/// to, found as libbpf finds it (`btf_trace_NAME` typedef for `tp_btf`,
/// `bpf_lsm_NAME` for LSM, `bpf_iter_NAME` for iterators, else the
/// function itself).
pub fn attach_btf_id(
    prog: &ObjProgram,
    ty: LoadType,
    vmlinux: &mut dyn FnMut() -> Result<std::sync::Arc<Btf>, LoadError>,
) -> Result<u32, LoadError> {
    if !prog.section_type.attach_btf {
        return Ok(0);
    }
    let target = prog.section_type.attach_target.clone().unwrap_or_default();
    let fail = |message: String| LoadError::AttachTarget {
        program: prog.name.clone(),
        target: target.clone(),
        message,
    };
    if target.is_empty() {
        return Err(fail("the section names no target".into()));
    }
    let (name, kind) = match (ty.prog_type, ty.expected_attach_type) {
        (_, Some(AttachType::TraceRawTp)) => (format!("btf_trace_{target}"), Kind::Typedef),
        (ProgType::Lsm, _) => (format!("bpf_lsm_{target}"), Kind::Func),
        (_, Some(AttachType::TraceIter)) => (format!("bpf_iter_{target}"), Kind::Func),
        (ProgType::Ext, _) | (ProgType::StructOps, _) => {
            return Err(fail(
                "freplace and struct_ops targets are not supported by this loader".into(),
            ))
        }
        _ => (target.clone(), Kind::Func),
    };
    let vmlinux = vmlinux()?;
    vmlinux
        .find_by_name(&name, kind)
        .first()
        .copied()
        .ok_or_else(|| fail(format!("no {} '{name}' in the kernel's BTF", kind.name())))
}

/// Packed `bpf_func_info` and `bpf_line_info` records of `prog` against
/// the loaded BTF; `None` when a string is missing from it (then the
/// program loads without them).
fn btf_records(prog: &ObjProgram, img: &mut BtfBuilder) -> Option<(Vec<u8>, Vec<u8>)> {
    let mut funcs = Vec::with_capacity(prog.func_info.len() * 8);
    for f in &prog.func_info {
        funcs.extend_from_slice(&f.insn_off.to_ne_bytes());
        funcs.extend_from_slice(&f.type_id.to_ne_bytes());
    }
    let mut lines = Vec::with_capacity(prog.line_info.len() * 16);
    for l in &prog.line_info {
        let file = img.find_string(&l.file_name)?;
        let text = img.find_string(&l.line_text)?;
        for w in [l.insn_off, file, text, (l.line << 10) | (l.col & 0x3ff)] {
            lines.extend_from_slice(&w.to_ne_bytes());
        }
    }
    Some((funcs, lines))
}

/// Loads `prog` as `slots`; a verifier refusal becomes a [`Rejection`].
pub fn load(
    prog: &ObjProgram,
    slots: &[Insn],
    ty: LoadType,
    attach_btf_id: u32,
    cx: &mut ProgramContext<'_>,
) -> Result<Program, LoadError> {
    let name: String = prog.name.chars().take(15).collect();
    let license = cx.obj.license.clone().unwrap_or_default();
    let mut load = ProgLoad::new(ty.prog_type, slots);
    load.name = &name;
    load.license = &license;
    load.expected_attach_type = ty.expected_attach_type;
    load.kern_version = cx.obj.kernel_version.unwrap_or(cx.kern_version);
    load.prog_flags = prog.section_type.prog_flags;
    load.attach_btf_id = attach_btf_id;
    load.log_level = cx.log_level;
    let records = match cx.btf.as_mut() {
        Some((img, fd)) => btf_records(prog, img).map(|r| (r, *fd)),
        None => None,
    };
    if let Some(((funcs, lines), fd)) = &records {
        load.prog_btf_fd = Some(*fd);
        if !funcs.is_empty() {
            load.func_info = funcs;
            load.func_info_rec_size = 8;
        }
        if !lines.is_empty() {
            load.line_info = lines;
            load.line_info_rec_size = 16;
        }
    }
    match load.load() {
        Ok(p) => Ok(p),
        Err(Error::Rejected { errno, log, .. }) => Err(LoadError::Rejected(Box::new(
            Rejection::new(prog, slots, errno, log),
        ))),
        Err(e) => Err(LoadError::Rejected(Box::new(Rejection::new(
            prog,
            slots,
            e.errno().unwrap_or(0),
            e.to_string(),
        )))),
    }
}

/// The raw descriptor numbers the instructions carry.
pub fn raw_fd(fd: BorrowedFd<'_>) -> i32 {
    fd.as_raw_fd()
}
