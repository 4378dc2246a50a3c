//! The public BPF conformance vectors (bpf_conformance `.data` files) run
//! through the whole pipeline: parse, assemble (uBPF syntax) or decode the
//! raw bytes, check, load, run, compare.
//!
//! `BPF_CONFORMANCE_DIR` names the directory of positive vectors (default:
//! `../shared/bpf_conformance/tests` beside the repository). Every vector
//! there must pass; every vector in the sibling `negative` directory must be
//! rejected somewhere in the pipeline or give a wrong result.

use std::path::{Path, PathBuf};

use bpfkit_isa::asm::assemble;
use bpfkit_isa::conformance::parse_vector;
use bpfkit_isa::{check, decode_slots, Syntax};
use bpfkit_vm::Vm;

/// Writes a summary line straight to stderr, past the test harness's output
/// capture, so `cargo test` shows how many vectors ran (or that they were skipped).
macro_rules! report {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stderr(), $($arg)*);
    }};
}

fn positive_dir() -> PathBuf {
    match std::env::var_os("BPF_CONFORMANCE_DIR") {
        Some(dir) => PathBuf::from(dir),
        None => Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/bpf_conformance/tests"),
    }
}

/// The `.data` files of `dir`, sorted by name.
fn vectors(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("cannot list {}: {e}", dir.display()))
        .map(|entry| entry.expect("directory entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "data"))
        .collect();
    files.sort();
    files
}

fn read(path: &Path) -> Result<String, String> {
    std::fs::read_to_string(path).map_err(|e| format!("read: {e}"))
}

/// Runs the pipeline up to r0, naming the stage that failed.
fn execute(text: &str) -> Result<u64, String> {
    let vector = parse_vector(text).map_err(|e| format!("parse: {e}"))?;
    let slots = match (&vector.asm, &vector.raw) {
        (Some(asm), _) => assemble(asm, Syntax::Ubpf).map_err(|e| {
            // Assembler lines count from the `-- asm` body; report file lines.
            format!("assemble (asm starts at line {}): {e}", vector.asm_line)
        })?,
        (None, Some(raw)) => decode_slots(raw).map_err(|e| format!("decode: {e}"))?,
        (None, None) => return Err("vector has no program".into()),
    };
    let program = check(&slots).map_err(|e| format!("check: {e}"))?;
    let mut vm = Vm::new(&program).map_err(|e| format!("load: {e}"))?;
    // bpf_conformance's helper 5 returns its first argument.
    vm.register_helper(5, |a, _, _, _, _| a);
    let mut mem = vector.mem.clone();
    let out = vm.run(&mut mem).map_err(|e| format!("run: {e}"))?;
    Ok(out.r0)
}

/// Whether the vector passes: `Ok` when it does, else why not. A vector
/// that expects an error passes when any stage fails.
fn evaluate(text: &str) -> Result<(), String> {
    let outcome = execute(text);
    let vector = parse_vector(text).map_err(|e| format!("parse: {e}"))?;
    match (vector.error, vector.result, outcome) {
        (Some(_), _, Err(_)) => Ok(()),
        (Some(expected), _, Ok(r0)) => Err(format!(
            "expected error {expected:?}, but the program returned {r0:#x}"
        )),
        (None, Some(want), Ok(r0)) if r0 == want => Ok(()),
        (None, Some(want), Ok(r0)) => Err(format!("wrong result: got {r0:#x}, expected {want:#x}")),
        (None, _, Err(e)) => Err(e),
        (None, None, Ok(_)) => Err("vector has neither a result nor an error".into()),
    }
}

#[test]
fn conformance_vectors_pass() {
    let dir = positive_dir();
    if !dir.is_dir() {
        report!("skipped: {} not found", dir.display());
        return;
    }
    let files = vectors(&dir);
    let failures: Vec<String> = files
        .iter()
        .filter_map(|f| {
            read(f)
                .and_then(|text| evaluate(&text))
                .err()
                .map(|e| format!("{}: {e}", f.file_name().unwrap().to_string_lossy()))
        })
        .collect();
    assert!(
        failures.is_empty(),
        "{} of {} vectors failed:\n{}",
        failures.len(),
        files.len(),
        failures.join("\n")
    );
    assert!(!files.is_empty(), "no vectors in {}", dir.display());
    report!("conformance: {} vectors passed", files.len());
}

#[test]
fn negative_vectors_are_rejected() {
    let dir = positive_dir().join("../negative");
    if !dir.is_dir() {
        report!("skipped: {} not found", dir.display());
        return;
    }
    let files = vectors(&dir);
    let mut accepted = Vec::new();
    for f in &files {
        let name = f.file_name().unwrap().to_string_lossy().into_owned();
        // Rejected when a stage fails (even if the vector expects that) or
        // when the outcome does not match the vector.
        let verdict = read(f).and_then(|text| {
            execute(&text)?;
            evaluate(&text)
        });
        match verdict {
            Err(reason) => println!("negative {name}: rejected: {reason}"),
            Ok(()) => accepted.push(name),
        }
    }
    assert!(
        accepted.is_empty(),
        "negative vectors that passed: {accepted:?}"
    );
    assert!(!files.is_empty(), "no vectors in {}", dir.display());
    report!("negative: {} vectors rejected", files.len());
}
