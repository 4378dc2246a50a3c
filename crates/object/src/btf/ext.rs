//! `.BTF.ext`: function info, line info and CO-RE relocation records,
//! grouped by the ELF section of the code they describe.
//!
//! Record sizes come from each block's header, so records from newer
//! compilers with extra trailing fields are read (the known prefix) rather
//! than rejected, as libbpf does.

use serde::Serialize;

use super::error::BtfError;
use super::parse::{detect_endian, Reader};
use super::Btf;

/// Size of the `.BTF.ext` header without the CO-RE part.
const HEADER_LEN_V1: usize = 24;
/// Size with `core_relo_off`/`core_relo_len`.
const HEADER_LEN_CORE: usize = 32;

/// One `struct bpf_func_info`: a function starts at `insn_off`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FuncInfo {
    /// Byte offset of the function's first instruction in its ELF section.
    pub insn_off: u32,
    /// The `FUNC` type id.
    pub type_id: u32,
}

/// One `struct bpf_line_info`, its strings resolved.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LineInfo {
    /// Byte offset of the instruction in its ELF section.
    pub insn_off: u32,
    /// Source file name.
    pub file_name: String,
    /// The source line's text.
    pub line_text: String,
    /// Line number (upper 22 bits of `line_col`).
    pub line: u32,
    /// Column (lower 10 bits of `line_col`).
    pub col: u32,
}

/// `enum bpf_core_relo_kind` from `include/uapi/linux/bpf.h`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[repr(u32)]
pub enum CoreReloKind {
    /// `BPF_CORE_FIELD_BYTE_OFFSET`: field byte offset.
    FieldByteOffset = 0,
    /// `BPF_CORE_FIELD_BYTE_SIZE`: field size in bytes.
    FieldByteSize = 1,
    /// `BPF_CORE_FIELD_EXISTS`: field existence in the target.
    FieldExists = 2,
    /// `BPF_CORE_FIELD_SIGNED`: field signedness.
    FieldSigned = 3,
    /// `BPF_CORE_FIELD_LSHIFT_U64`: bitfield left shift.
    FieldLshiftU64 = 4,
    /// `BPF_CORE_FIELD_RSHIFT_U64`: bitfield right shift.
    FieldRshiftU64 = 5,
    /// `BPF_CORE_TYPE_ID_LOCAL`: type id in the local BTF.
    TypeIdLocal = 6,
    /// `BPF_CORE_TYPE_ID_TARGET`: type id in the target BTF.
    TypeIdTarget = 7,
    /// `BPF_CORE_TYPE_EXISTS`: type existence in the target.
    TypeExists = 8,
    /// `BPF_CORE_TYPE_SIZE`: type size in bytes.
    TypeSize = 9,
    /// `BPF_CORE_ENUMVAL_EXISTS`: enumerator existence in the target.
    EnumvalExists = 10,
    /// `BPF_CORE_ENUMVAL_VALUE`: enumerator value.
    EnumvalValue = 11,
    /// `BPF_CORE_TYPE_MATCHES`: type match in the target.
    TypeMatches = 12,
}

impl CoreReloKind {
    /// The kind for a raw number, `None` if unknown.
    pub fn from_raw(raw: u32) -> Option<CoreReloKind> {
        use CoreReloKind::*;
        const ALL: [CoreReloKind; 13] = [
            FieldByteOffset,
            FieldByteSize,
            FieldExists,
            FieldSigned,
            FieldLshiftU64,
            FieldRshiftU64,
            TypeIdLocal,
            TypeIdTarget,
            TypeExists,
            TypeSize,
            EnumvalExists,
            EnumvalValue,
            TypeMatches,
        ];
        ALL.get(raw as usize).copied()
    }

    /// libbpf's name for the kind (`byte_off`, `type_exists`, ...), as in
    /// its relocation log messages.
    pub fn name(self) -> &'static str {
        use CoreReloKind::*;
        match self {
            FieldByteOffset => "byte_off",
            FieldByteSize => "byte_sz",
            FieldExists => "field_exists",
            FieldSigned => "signed",
            FieldLshiftU64 => "lshift_u64",
            FieldRshiftU64 => "rshift_u64",
            TypeIdLocal => "local_type_id",
            TypeIdTarget => "target_type_id",
            TypeExists => "type_exists",
            TypeSize => "type_size",
            EnumvalExists => "enumval_exists",
            EnumvalValue => "enumval_value",
            TypeMatches => "type_matches",
        }
    }

    /// Whether the kind is about a field (access string of member indices).
    pub fn is_field(self) -> bool {
        (self as u32) <= 5
    }

    /// Whether the kind is about a whole type (access string "0").
    pub fn is_type(self) -> bool {
        matches!(self as u32, 6..=9 | 12)
    }

    /// Whether the kind is about an enumerator.
    pub fn is_enumval(self) -> bool {
        matches!(self as u32, 10 | 11)
    }
}

/// One `struct bpf_core_relo`, its access string resolved.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CoreRelo {
    /// Byte offset of the instruction to patch in its ELF section.
    pub insn_off: u32,
    /// The local root type id.
    pub type_id: u32,
    /// The access string, e.g. "0:1:2".
    pub access: String,
    /// What to compute.
    pub kind: CoreReloKind,
}

/// Records of one kind for one ELF section.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SectionInfo<T> {
    /// The ELF section name (e.g. "xdp", ".text").
    pub section: String,
    /// The records, in file order.
    pub records: Vec<T>,
}

/// A parsed `.BTF.ext` section.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct BtfExt {
    /// Function info per section.
    pub func_info: Vec<SectionInfo<FuncInfo>>,
    /// Line info per section.
    pub line_info: Vec<SectionInfo<LineInfo>>,
    /// CO-RE relocations per section.
    pub core_relos: Vec<SectionInfo<CoreRelo>>,
    /// Record sizes declared by the file (func, line, core), 0 if absent.
    pub record_sizes: [u32; 3],
}

fn find<'a, T>(v: &'a [SectionInfo<T>], section: &str) -> &'a [T] {
    v.iter()
        .find(|s| s.section == section)
        .map_or(&[], |s| &s.records)
}

impl BtfExt {
    /// Function info of the ELF section `section` (empty if none).
    pub fn func_info(&self, section: &str) -> &[FuncInfo] {
        find(&self.func_info, section)
    }

    /// Line info of the ELF section `section` (empty if none).
    pub fn line_info(&self, section: &str) -> &[LineInfo] {
        find(&self.line_info, section)
    }

    /// CO-RE relocations of the ELF section `section` (empty if none).
    pub fn core_relos(&self, section: &str) -> &[CoreRelo] {
        find(&self.core_relos, section)
    }

    /// Parses `.BTF.ext`; names and types are looked up in `btf` (the
    /// object's `.BTF`).
    pub fn parse(bytes: &[u8], btf: &Btf) -> Result<BtfExt, BtfError> {
        let endian = detect_endian(bytes, ".BTF.ext header")?;
        if bytes.len() < HEADER_LEN_V1 {
            return Err(BtfError::Truncated {
                what: ".BTF.ext header",
                offset: 0,
                need: HEADER_LEN_V1,
                have: bytes.len(),
            });
        }
        let r = Reader { bytes, endian };
        if bytes[2] != 1 {
            return Err(BtfError::BadVersion(bytes[2]));
        }
        if bytes[3] != 0 {
            return Err(BtfError::BadFlags(bytes[3]));
        }
        let hdr_len = r.u32_at(4) as usize;
        if hdr_len < HEADER_LEN_V1 || hdr_len > bytes.len() || hdr_len % 4 != 0 {
            return Err(BtfError::BadHeaderLen {
                hdr_len: hdr_len as u32,
                blob_len: bytes.len(),
            });
        }
        let ctx = Ctx { r, btf, hdr_len };
        let mut ext = BtfExt::default();
        let (size, func) = ctx.block("func_info", r.u32_at(8), r.u32_at(12), 8, |o| {
            let type_id = r.u32_at(o + 4);
            ctx.check_type(o, type_id)?;
            Ok(FuncInfo {
                insn_off: r.u32_at(o),
                type_id,
            })
        })?;
        ext.func_info = func;
        ext.record_sizes[0] = size;
        let (size, lines) = ctx.block("line_info", r.u32_at(16), r.u32_at(20), 16, |o| {
            let line_col = r.u32_at(o + 12);
            Ok(LineInfo {
                insn_off: r.u32_at(o),
                file_name: ctx.string(o, r.u32_at(o + 4))?,
                line_text: ctx.string(o, r.u32_at(o + 8))?,
                line: line_col >> 10,
                col: line_col & 0x3ff,
            })
        })?;
        ext.line_info = lines;
        ext.record_sizes[1] = size;
        if hdr_len >= HEADER_LEN_CORE {
            let (size, relos) = ctx.block("core_relo", r.u32_at(24), r.u32_at(28), 16, |o| {
                let type_id = r.u32_at(o + 4);
                ctx.check_type(o, type_id)?;
                let raw = r.u32_at(o + 12);
                let kind = CoreReloKind::from_raw(raw).ok_or(BtfError::UnknownCoreReloKind {
                    offset: o,
                    kind: raw,
                })?;
                Ok(CoreRelo {
                    insn_off: r.u32_at(o),
                    type_id,
                    access: ctx.string(o, r.u32_at(o + 8))?,
                    kind,
                })
            })?;
            ext.core_relos = relos;
            ext.record_sizes[2] = size;
        }
        Ok(ext)
    }
}

/// What the block readers share.
struct Ctx<'a> {
    r: Reader<'a>,
    btf: &'a Btf,
    hdr_len: usize,
}

impl Ctx<'_> {
    fn string(&self, offset: usize, str_off: u32) -> Result<String, BtfError> {
        self.btf
            .str_at(str_off)
            .map(str::to_owned)
            .ok_or(BtfError::ExtStringOffset { offset, str_off })
    }

    fn check_type(&self, offset: usize, type_id: u32) -> Result<(), BtfError> {
        if self.btf.type_by_id(type_id).is_none() {
            return Err(BtfError::ExtTypeId { offset, type_id });
        }
        Ok(())
    }

    /// Reads one info block: a record size, then per section
    /// `{sec_name_off, num_info, records...}`.
    fn block<T>(
        &self,
        what: &'static str,
        off: u32,
        len: u32,
        min_size: u32,
        mut record: impl FnMut(usize) -> Result<T, BtfError>,
    ) -> Result<(u32, Vec<SectionInfo<T>>), BtfError> {
        if len == 0 {
            return Ok((0, Vec::new()));
        }
        let bytes = self.r.bytes;
        let start = self.hdr_len as u64 + off as u64;
        let end = start + len as u64;
        if end > bytes.len() as u64 || len < 4 {
            return Err(BtfError::SectionOutOfRange {
                section: what,
                offset: off,
                len,
                avail: bytes.len() - self.hdr_len,
            });
        }
        let (start, end) = (start as usize, end as usize);
        let size = self.r.u32_at(start);
        if size < min_size || size % 4 != 0 || size > len {
            return Err(BtfError::ExtRecordSize {
                section: what,
                size,
                offset: start,
            });
        }
        let mut out = Vec::new();
        let mut o = start + 4;
        while o < end {
            if end - o < 8 {
                return Err(BtfError::Truncated {
                    what,
                    offset: o,
                    need: 8,
                    have: end - o,
                });
            }
            let section = self.string(o, self.r.u32_at(o))?;
            let n = self.r.u32_at(o + 4) as usize;
            let need = n as u64 * size as u64;
            if need > (end - o - 8) as u64 || n == 0 {
                return Err(BtfError::Truncated {
                    what,
                    offset: o,
                    need: need as usize + 8,
                    have: end - o,
                });
            }
            o += 8;
            let mut records = Vec::with_capacity(n);
            for _ in 0..n {
                records.push(record(o)?);
                o += size as usize;
            }
            out.push(SectionInfo { section, records });
        }
        Ok((size, out))
    }
}
