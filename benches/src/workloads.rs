//! The benchmark programs: bytecode compiled from `programs/*.c`, the memory
//! each runs over, and the answer the Rust reference gives.

use crate::{inputs, reference};

/// One benchmark program with its input and expected result.
#[derive(Clone, Debug)]
pub struct Workload {
    /// Short name, the C file's stem; also the criterion bench id.
    pub name: &'static str,
    /// Raw `.text` bytecode (`programs/<name>.bin`).
    pub bytecode: &'static [u8],
    /// The same program at `-mcpu=v2` (`programs/v2/<name>.bin`), for
    /// peers without JMP32 (uBPF's 2018 interpreter); see
    /// [`Workload::answers`].
    pub bytecode_v2: &'static [u8],
    /// The memory r1 points to.
    pub mem: Vec<u8>,
    /// The r0 both VMs must return, from the Rust reference.
    pub expected: u64,
}

impl Workload {
    fn new(
        name: &'static str,
        (bytecode, bytecode_v2): (&'static [u8], &'static [u8]),
        mem: Vec<u8>,
        reference: fn(&[u8]) -> u64,
    ) -> Workload {
        let expected = reference(&mem);
        Workload {
            name,
            bytecode,
            bytecode_v2,
            mem,
            expected,
        }
    }

    /// Whether `r0` is the reference's answer. A C function that returns a
    /// 32-bit value leaves the upper half of r0 undefined, and clang's
    /// `-mcpu=v2` code (no 32-bit ALU) does leave bits there (crc32's final
    /// `~crc`), so for such an answer only the low 32 bits count.
    pub fn answers(&self, r0: u64) -> bool {
        r0 == self.expected || (self.expected >> 32 == 0 && r0 as u32 as u64 == self.expected)
    }
}

macro_rules! program {
    ($name:literal) => {
        (
            include_bytes!(concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/programs/",
                $name,
                ".bin"
            )),
            include_bytes!(concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/programs/v2/",
                $name,
                ".bin"
            )),
        )
    };
}

/// The compute programs, in report order.
pub fn compute() -> Vec<Workload> {
    vec![
        Workload::new(
            "fnv1a",
            program!("fnv1a"),
            inputs::random_bytes(),
            reference::fnv1a,
        ),
        Workload::new(
            "crc32",
            program!("crc32"),
            inputs::random_bytes(),
            reference::crc32,
        ),
        Workload::new(
            "sum_array",
            program!("sum_array"),
            inputs::random_bytes(),
            reference::sum_array,
        ),
        Workload::new(
            "mix",
            program!("mix"),
            inputs::random_bytes(),
            reference::mix,
        ),
        Workload::new(
            "switch_bytes",
            program!("switch_bytes"),
            inputs::text_bytes(),
            reference::switch_bytes,
        ),
        Workload::new(
            "sieve",
            program!("sieve"),
            inputs::sieve_input(),
            reference::sieve,
        ),
        Workload::new(
            "packet_parse",
            program!("packet_parse"),
            inputs::tcp_frame(),
            reference::packet_parse,
        ),
    ]
}

/// `r0 = 0; exit`, to measure the fixed cost of one run.
pub fn trivial() -> Workload {
    Workload::new("empty", program!("empty"), inputs::random_bytes(), |_| 0)
}

/// Every workload: the compute programs, then the trivial one.
pub fn all() -> Vec<Workload> {
    let mut all = compute();
    all.push(trivial());
    all
}
