//! `BPF_PROG_LOAD` and `BPF_PROG_TEST_RUN`.

use std::ffi::CString;
use std::os::fd::{AsRawFd, BorrowedFd, OwnedFd};

use super::attr::{ProgLoadAttr, TestRunAttr};
use super::{addr, addr_mut, bpf, len_u32, obj_name, owned_fd, Cmd};
use crate::error::{Error, Result};

/// What `BPF_PROG_LOAD` takes, less the log (see [`prog_load`]).
#[derive(Debug, Default, Clone)]
pub struct ProgLoadArgs<'a> {
    /// `enum bpf_prog_type`.
    pub prog_type: u32,
    /// The encoded instruction slots, 8 bytes each.
    pub insns: &'a [u8],
    /// The license string (`"GPL"` unlocks the GPL-only helpers).
    pub license: &'a str,
    /// The program name (at most 15 bytes).
    pub name: &'a str,
    /// `expected_attach_type`.
    pub expected_attach_type: u32,
    /// `kern_version` (checked by kernels before 5.0 for kprobes only).
    pub kern_version: u32,
    /// `BPF_F_*` program flags.
    pub prog_flags: u32,
    /// `prog_ifindex` for offload.
    pub prog_ifindex: u32,
    /// `attach_btf_id`: the BTF type of the attach target.
    pub attach_btf_id: u32,
    /// `attach_prog_fd` (freplace target) or `attach_btf_obj_fd` (module BTF).
    pub attach_prog_fd: Option<BorrowedFd<'a>>,
    /// `prog_btf_fd`: the program's own BTF, which func/line info refer to.
    pub prog_btf_fd: Option<BorrowedFd<'a>>,
    /// Packed `struct bpf_func_info` records.
    pub func_info: &'a [u8],
    /// Size of one func_info record.
    pub func_info_rec_size: u32,
    /// Packed `struct bpf_line_info` records.
    pub line_info: &'a [u8],
    /// Size of one line_info record.
    pub line_info_rec_size: u32,
}

/// The raw outcome of one `BPF_PROG_LOAD`: the program or the errno, and
/// the log size the kernel says the whole log needs (0 before Linux 6.4).
pub struct LoadOutcome {
    /// The program, or the errno.
    pub result: std::result::Result<OwnedFd, i32>,
    /// `log_true_size`.
    pub log_true_size: u32,
}

fn records(what: &str, data: &[u8], rec: u32) -> Result<u32> {
    if data.is_empty() {
        return Ok(0);
    }
    if rec == 0 || data.len() % rec as usize != 0 {
        return Err(Error::Invalid(format!(
            "{what} is {} bytes, not a whole number of {rec}-byte records",
            data.len()
        )));
    }
    len_u32(what, data.len() / rec as usize)
}

/// One `BPF_PROG_LOAD` with a log buffer (`log_level` 0 with an empty
/// buffer for no log). Arguments that cannot be passed are refused before
/// the call; the kernel's verdict comes back raw so the caller can grow a
/// truncated log and retry.
pub fn prog_load(a: &ProgLoadArgs<'_>, log_level: u32, log: &mut [u8]) -> Result<LoadOutcome> {
    if a.insns.len() % 8 != 0 {
        return Err(Error::Invalid(format!(
            "program is {} bytes, not whole 8-byte instructions",
            a.insns.len()
        )));
    }
    let license = CString::new(a.license)
        .map_err(|_| Error::Invalid("license has a NUL byte".to_string()))?;
    let func_info_cnt = records("func_info", a.func_info, a.func_info_rec_size)?;
    let line_info_cnt = records("line_info", a.line_info, a.line_info_rec_size)?;
    let log_size = len_u32("log buffer", log.len())?;
    let mut attr = ProgLoadAttr {
        prog_type: a.prog_type,
        insn_cnt: len_u32("program", a.insns.len() / 8)?,
        insns: addr(a.insns),
        license: license.as_ptr() as usize as u64,
        log_level: if log.is_empty() { 0 } else { log_level },
        log_size,
        log_buf: addr_mut(log),
        kern_version: a.kern_version,
        prog_flags: a.prog_flags,
        prog_name: obj_name(a.name)?,
        prog_ifindex: a.prog_ifindex,
        expected_attach_type: a.expected_attach_type,
        prog_btf_fd: a.prog_btf_fd.map_or(0, |f| f.as_raw_fd() as u32),
        func_info_rec_size: if func_info_cnt > 0 {
            a.func_info_rec_size
        } else {
            0
        },
        func_info: addr(a.func_info),
        func_info_cnt,
        line_info_rec_size: if line_info_cnt > 0 {
            a.line_info_rec_size
        } else {
            0
        },
        line_info: addr(a.line_info),
        line_info_cnt,
        attach_btf_id: a.attach_btf_id,
        attach_prog_fd: a.attach_prog_fd.map_or(0, |f| f.as_raw_fd() as u32),
        ..Default::default()
    };
    let mut tries = 0;
    loop {
        // SAFETY: insns, license (NUL-terminated), func/line info (cnt *
        // rec_size bytes, checked above) are borrowed for the call and only
        // read; the log buffer is exactly log_size bytes, borrowed mutably.
        let r = unsafe { bpf(Cmd::ProgLoad, &mut attr) };
        // The kernel asks for a retry when it could not allocate in time
        // (libbpf retries the same way).
        if r == Err(libc::EAGAIN) && tries < 5 {
            tries += 1;
            continue;
        }
        return Ok(LoadOutcome {
            result: r.map(owned_fd),
            log_true_size: attr.log_true_size,
        });
    }
}

/// The buffers and knobs of one `BPF_PROG_TEST_RUN`.
#[derive(Debug, Default)]
pub struct TestRunArgs<'a> {
    /// Packet (or other data) in.
    pub data_in: &'a [u8],
    /// Where the data comes back; empty for none.
    pub data_out: &'a mut [u8],
    /// Context in (`struct xdp_md`, `struct __sk_buff`, ...); empty for none.
    pub ctx_in: &'a [u8],
    /// Where the context comes back; empty for none.
    pub ctx_out: &'a mut [u8],
    /// Runs (0 and 1 both mean once).
    pub repeat: u32,
    /// `BPF_F_TEST_*` flags.
    pub flags: u32,
    /// CPU to run on, with `BPF_F_TEST_RUN_ON_CPU`.
    pub cpu: u32,
    /// XDP live-frames batch size.
    pub batch_size: u32,
}

/// What a test run reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TestRunOut {
    /// r0 of the (last) run.
    pub retval: u32,
    /// Mean run time in nanoseconds.
    pub duration: u32,
    /// Bytes of data out (the whole size, even when the buffer was shorter).
    pub data_size_out: u32,
    /// Bytes of context out.
    pub ctx_size_out: u32,
}

/// `BPF_PROG_TEST_RUN`. `ENOSPC` (an out buffer too short) is an error
/// whose sizes are lost; give buffers of the packet's size or more.
pub fn test_run(prog: BorrowedFd<'_>, a: TestRunArgs<'_>) -> Result<TestRunOut> {
    let mut attr = TestRunAttr {
        prog_fd: prog.as_raw_fd() as u32,
        data_size_in: len_u32("data_in", a.data_in.len())?,
        data_size_out: len_u32("data_out", a.data_out.len())?,
        data_in: addr(a.data_in),
        data_out: addr_mut(a.data_out),
        repeat: a.repeat,
        ctx_size_in: len_u32("ctx_in", a.ctx_in.len())?,
        ctx_size_out: len_u32("ctx_out", a.ctx_out.len())?,
        ctx_in: addr(a.ctx_in),
        ctx_out: addr_mut(a.ctx_out),
        flags: a.flags,
        cpu: a.cpu,
        batch_size: a.batch_size,
        ..Default::default()
    };
    // SAFETY: every buffer's length is the size given beside it; the in
    // buffers are only read, the out buffers are borrowed mutably and the
    // kernel writes at most their sizes.
    super::check(Cmd::ProgTestRun, unsafe {
        bpf(Cmd::ProgTestRun, &mut attr)
    })?;
    Ok(TestRunOut {
        retval: attr.retval,
        duration: attr.duration,
        data_size_out: attr.data_size_out,
        ctx_size_out: attr.ctx_size_out,
    })
}
