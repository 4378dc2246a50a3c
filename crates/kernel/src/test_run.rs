//! `BPF_PROG_TEST_RUN`: running a loaded program on given data and context.

use std::os::fd::BorrowedFd;

use crate::error::Result;
use crate::sys::{self, TestRunArgs};

/// `BPF_F_TEST_RUN_ON_CPU`: run on [`TestRun::cpu`].
pub const BPF_F_TEST_RUN_ON_CPU: u32 = 1 << 0;
/// `BPF_F_TEST_XDP_LIVE_FRAMES`: XDP frames really sent.
pub const BPF_F_TEST_XDP_LIVE_FRAMES: u32 = 1 << 1;

/// Room left for a program that grows its packet (`bpf_xdp_adjust_tail`,
/// `bpf_skb_change_tail`) when no out size is given.
const GROWTH_ROOM: usize = 4096;

/// One test run's inputs.
#[derive(Debug, Default, Clone)]
pub struct TestRun<'a> {
    /// The data (packet) in.
    pub data_in: &'a [u8],
    /// Size of the data out buffer; `None` for the input's size plus room
    /// to grow, `Some(0)` for no data out.
    pub data_size_out: Option<usize>,
    /// The context in (`struct xdp_md`, `struct __sk_buff`...), if any.
    pub ctx_in: Option<&'a [u8]>,
    /// Size of the context out buffer; `None` for the input context's size.
    pub ctx_size_out: Option<usize>,
    /// How many times to run (the duration is the mean).
    pub repeat: u32,
    /// `BPF_F_TEST_*` flags.
    pub flags: u32,
    /// CPU, with [`BPF_F_TEST_RUN_ON_CPU`].
    pub cpu: u32,
    /// Batch size of XDP live frames.
    pub batch_size: u32,
}

/// One test run's outputs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TestRunResult {
    /// The program's return value (r0).
    pub retval: u32,
    /// Mean run time in nanoseconds.
    pub duration_ns: u32,
    /// The data after the run (as the program left it).
    pub data_out: Vec<u8>,
    /// The context after the run.
    pub ctx_out: Vec<u8>,
}

impl TestRun<'_> {
    /// Runs `prog` with these inputs.
    pub fn run(&self, prog: BorrowedFd<'_>) -> Result<TestRunResult> {
        let data_len = self.data_size_out.unwrap_or(if self.data_in.is_empty() {
            0
        } else {
            self.data_in.len() + GROWTH_ROOM
        });
        let ctx_in = self.ctx_in.unwrap_or(&[]);
        let ctx_len = self.ctx_size_out.unwrap_or(ctx_in.len());
        let mut data_out = vec![0u8; data_len];
        let mut ctx_out = vec![0u8; ctx_len];
        let out = sys::test_run(
            prog,
            TestRunArgs {
                data_in: self.data_in,
                data_out: &mut data_out,
                ctx_in,
                ctx_out: &mut ctx_out,
                repeat: self.repeat,
                flags: self.flags,
                cpu: self.cpu,
                batch_size: self.batch_size,
            },
        )?;
        data_out.truncate(out.data_size_out as usize);
        ctx_out.truncate(out.ctx_size_out as usize);
        Ok(TestRunResult {
            retval: out.retval,
            duration_ns: out.duration,
            data_out,
            ctx_out,
        })
    }
}
