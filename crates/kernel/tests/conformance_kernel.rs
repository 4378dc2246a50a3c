//! The bpf_conformance vectors with the kernel as oracle: every vector the
//! kernel can run gives the same r0 in the kernel (BPF_PROG_TEST_RUN) and
//! in bpfkit-vm's interpreter.
//!
//! # The wrapping
//!
//! A vector is a bare function: r1 points at its memory (0 when it has
//! none), r2 is the memory's length, and it returns a 64-bit r0. The
//! kernel runs XDP programs whose r1 is `struct xdp_md *` and whose return
//! value test runs cut to 32 bits, so each vector is wrapped in an XDP
//! program, assembled with bpfkit's assembler:
//!
//! ```text
//!   r6 = *(u32 *)(r1 + 0)        ; ctx->data
//!   r2 = *(u32 *)(r1 + 4)        ; ctx->data_end
//!   r3 = r6; r3 += 8
//!   if r3 > r2 goto +N           ; the verifier wants the packet bounds
//!   *(u8 *)(r10 - L + i) = mem[i]    for each byte: the memory on the stack
//!   r1 = r10; r1 += -L; r2 = len     (r1 = 0 without memory)
//!   call body                    ; the vector, as a BPF-to-BPF subprogram
//!   *(u64 *)(r6 + 0) = r0        ; all 64 bits of r0 into the packet
//!   r0 = 2 (XDP_PASS); exit
//! body:
//!   the vector's instructions, unchanged
//! ```
//!
//! The memory is on the caller's stack (the stack is memory the verifier
//! can follow without bounds checks, unlike the packet), the body runs in
//! its own frame so its r10-relative stack is its own, and r0 comes back
//! through the packet (`data_out`).
//!
//! # What cannot be wrapped
//!
//! The kernel's verifier is stricter than the ISA: it refuses reading
//! registers a program never wrote (vectors rely on zeroed registers),
//! arithmetic on the memory pointer other than adding constants, and
//! stack frames past 512 bytes in all (the body's frame and the copied
//! memory together). The vector calling helper 5 (the conformance
//! suite's own helper, which is `bpf_ktime_get_ns` in the kernel) is not
//! run. Each refused vector is counted with the verifier's last line; the
//! test requires equality on every vector the kernel runs, and that most
//! vectors run.

mod support;

use std::io::Write as _;
use std::path::{Path, PathBuf};

use bpfkit_isa::asm::assemble;
use bpfkit_isa::conformance::parse_vector;
use bpfkit_isa::{check, decode_slots, Insn, Syntax};
use bpfkit_kernel::prog::ProgLoad;
use bpfkit_kernel::test_run::TestRun;
use bpfkit_object::kinds::ProgType;

fn vector_dir() -> PathBuf {
    match std::env::var_os("BPF_CONFORMANCE_DIR") {
        Some(dir) => PathBuf::from(dir),
        None => Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/bpf_conformance/tests"),
    }
}

/// The vector's memory on the stack, rounded up to 8 bytes.
fn mem_frame(len: usize) -> usize {
    len.div_ceil(8) * 8
}

/// The XDP wrapper around `body` (see the module docs), the memory
/// `shift` bytes below an 8-byte boundary.
fn wrap(body: &[Insn], mem: &[u8], shift: usize) -> Vec<Insn> {
    let l = (mem_frame(mem.len() + shift)) as i16 - shift as i16;
    let mut w = vec![
        Insn::new(0x61, 6, 1, 0, 0), // r6 = *(u32 *)(r1 + 0)
        Insn::new(0x61, 2, 1, 4, 0), // r2 = *(u32 *)(r1 + 4)
        Insn::new(0xbf, 3, 6, 0, 0), // r3 = r6
        Insn::new(0x07, 3, 0, 0, 8), // r3 += 8
    ];
    let check_at = w.len();
    w.push(Insn::new(0x2d, 3, 2, 0, 0)); // if r3 > r2 goto out (patched)
    for (i, &b) in mem.iter().enumerate() {
        w.push(Insn::new(0x72, 10, 0, i as i16 - l, i32::from(b))); // *(u8 *)(r10 - l + i) = b
    }
    if mem.is_empty() {
        w.push(Insn::new(0xb7, 1, 0, 0, 0)); // r1 = 0
    } else {
        w.push(Insn::new(0xbf, 1, 10, 0, 0)); // r1 = r10
        w.push(Insn::new(0x07, 1, 0, 0, -i32::from(l))); // r1 += -l
    }
    w.push(Insn::new(0xb7, 2, 0, 0, mem.len() as i32)); // r2 = len
    let call_at = w.len();
    w.push(Insn::new(0x85, 0, 1, 0, 0)); // call body (pc-relative, patched)
    w.push(Insn::new(0x7b, 6, 0, 0, 0)); // *(u64 *)(r6 + 0) = r0
    let out = w.len();
    w.push(Insn::new(0xb7, 0, 0, 0, 2)); // r0 = XDP_PASS
    w.push(Insn::new(0x95, 0, 0, 0, 0)); // exit
    let body_at = w.len();
    w[check_at].off = (out - check_at - 1) as i16;
    w[call_at].imm = (body_at - call_at - 1) as i32;
    w.extend_from_slice(body);
    w
}

enum Outcome {
    Same,
    NotWrappable(String),
    Differs(String),
}

fn compare(text: &str) -> Result<Outcome, String> {
    let vector = parse_vector(text).map_err(|e| format!("parse: {e}"))?;
    if vector.error.is_some() {
        return Ok(Outcome::NotWrappable(
            "a negative vector (no result to compare)".into(),
        ));
    }
    let body = match (&vector.asm, &vector.raw) {
        (Some(asm), _) => assemble(asm, Syntax::Ubpf).map_err(|e| format!("assemble: {e}"))?,
        (None, Some(raw)) => decode_slots(raw).map_err(|e| format!("decode: {e}"))?,
        (None, None) => return Err("no program".into()),
    };
    if body.iter().any(|i| i.code == 0x85 && i.src == 0) {
        return Ok(Outcome::NotWrappable(
            "calls the suite's helper 5, which the kernel numbers differently".into(),
        ));
    }
    if mem_frame(vector.mem.len()) > 256 {
        return Ok(Outcome::NotWrappable(format!(
            "{} bytes of memory leave no stack",
            vector.mem.len()
        )));
    }
    // The interpreter.
    let program = check(&body).map_err(|e| format!("check: {e}"))?;
    let mut vm = bpfkit_vm::Vm::new(&program).map_err(|e| format!("vm load: {e}"))?;
    // The suite's helper 5 returns its first argument (callx reaches it).
    vm.register_helper(5, |a, _, _, _, _| a);
    let mut mem = vector.mem.clone();
    let ours = vm.run(&mut mem).map_err(|e| format!("vm run: {e}"))?.r0;
    // The kernel.
    // The kernel wants aligned stack accesses: the memory is tried at each
    // alignment until the verifier takes the program.
    let mut refusal = String::new();
    let mut loaded = None;
    for shift in 0..8 {
        let wrapped = wrap(&body, &vector.mem, shift);
        match ProgLoad::new(ProgType::Xdp, &wrapped).load() {
            Ok(p) => {
                loaded = Some(p);
                break;
            }
            Err(e) => {
                refusal = e
                    .log()
                    .and_then(|l| {
                        l.lines()
                            .rev()
                            .find(|l| !l.trim().is_empty() && !l.starts_with("processed "))
                    })
                    .unwrap_or("")
                    .to_string();
            }
        }
        if vector.mem.is_empty() {
            break;
        }
    }
    let Some(prog) = loaded else {
        return Ok(Outcome::NotWrappable(format!("verifier: {refusal}")));
    };
    let packet = [0u8; 64];
    let run = TestRun {
        data_in: &packet,
        ..Default::default()
    };
    let out = run.run(prog.fd()).map_err(|e| format!("test run: {e}"))?;
    let bytes: [u8; 8] = out
        .data_out
        .get(..8)
        .and_then(|b| b.try_into().ok())
        .ok_or("short data_out")?;
    let kernel = u64::from_ne_bytes(bytes);
    if Some(kernel) != vector.result {
        return Ok(Outcome::Differs(format!(
            "kernel {kernel:#x}, expected {:#x?}, interpreter {ours:#x}",
            vector.result
        )));
    }
    if kernel != ours {
        return Ok(Outcome::Differs(format!(
            "kernel {kernel:#x}, interpreter {ours:#x}"
        )));
    }
    Ok(Outcome::Same)
}

#[test]
fn conformance_vectors_give_the_kernels_r0() {
    if !support::kernel_or_skip("conformance in the kernel") {
        return;
    }
    let dir = vector_dir();
    // The vectors live outside the repository (as for the interpreter's
    // conformance test): without them the test says it skipped, kernel or not.
    let Ok(entries) = std::fs::read_dir(&dir) else {
        eprintln!(
            "skipped: conformance in the kernel: no vectors at {}",
            dir.display()
        );
        return;
    };
    let mut files: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "data"))
        .collect();
    files.sort();
    let (mut same, mut unwrappable, mut differ) = (Vec::new(), Vec::new(), Vec::new());
    for f in &files {
        let name = f
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let text = std::fs::read_to_string(f).expect("vector reads");
        match compare(&text) {
            Ok(Outcome::Same) => same.push(name),
            Ok(Outcome::NotWrappable(why)) => unwrappable.push(format!("{name}: {why}")),
            Ok(Outcome::Differs(why)) => differ.push(format!("{name}: {why}")),
            Err(e) => differ.push(format!("{name}: {e}")),
        }
    }
    // Straight to stderr, past the harness's capture: how many ran.
    let mut err = std::io::stderr();
    let _ = writeln!(
        err,
        "conformance in the kernel: {} vectors, {} ran in the kernel with the interpreter's r0, {} not wrappable:",
        files.len(),
        same.len(),
        unwrappable.len()
    );
    for u in &unwrappable {
        let _ = writeln!(err, "  {u}");
    }
    assert!(
        differ.is_empty(),
        "kernel and interpreter differ:\n{}",
        differ.join("\n")
    );
    assert!(
        same.len() * 2 > files.len(),
        "fewer than half the vectors ran in the kernel"
    );
}
