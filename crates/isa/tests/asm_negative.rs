//! Every bpf_conformance negative vector is rejected by the static part of the
//! pipeline — `parse_vector`, `assemble` or `check` — except the few whose
//! rejection needs the program to run, which are listed by name with the
//! reason (the VM's conformance test covers those).
//!
//! The vectors are read from the `negative` sibling of `$BPF_CONFORMANCE_DIR`
//! (default: `/work/shared/bpf_conformance/tests`, found relative to this
//! crate); the test says it skipped them when the directory is absent.

use std::path::PathBuf;

use bpfkit_isa::asm::assemble;
use bpfkit_isa::conformance::parse_vector;
use bpfkit_isa::{check, decode_slots, Syntax};

/// Writes a summary line straight to stderr, past the test harness's output
/// capture, so `cargo test` shows how many vectors ran (or that they were skipped).
macro_rules! report {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stderr(), $($arg)*);
    }};
}

/// Negative vectors that are valid programs statically: only running them
/// (or a runner-specific policy) shows what is wrong.
const NEEDS_RUN: &[(&str, &str)] = &[
    (
        "incorrect_return_value_high_bits.data",
        "a valid program whose -- result is deliberately wrong: only a run can tell",
    ),
    (
        "error.data",
        "`or %r0, %r10` is a valid program; the vector expects the runner to report an error",
    ),
];

fn negative_dir() -> PathBuf {
    let tests = match std::env::var_os("BPF_CONFORMANCE_DIR") {
        Some(dir) => PathBuf::from(dir),
        None => {
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/bpf_conformance/tests")
        }
    };
    tests.with_file_name("negative")
}

/// Why the static pipeline rejects `text`, or `None` when it accepts it.
fn static_rejection(name: &str, text: &str) -> Option<String> {
    let vector = match parse_vector(text) {
        Ok(v) => v,
        Err(e) => return Some(format!("parse_vector: {e}")),
    };
    let slots = if let Some(asm) = &vector.asm {
        match assemble(asm, Syntax::Ubpf) {
            Ok(slots) => slots,
            Err(mut e) => {
                e.line += vector.asm_line - 1;
                let rendered = e.render(text, name);
                return Some(format!(
                    "assemble: {}",
                    rendered.lines().next().unwrap_or("")
                ));
            }
        }
    } else {
        let raw = vector.raw.as_deref().unwrap_or_default();
        match decode_slots(raw) {
            Ok(slots) => slots,
            Err(e) => return Some(format!("decode: {e}")),
        }
    };
    match check(&slots) {
        Ok(_) => None,
        Err(e) => Some(format!("check: {e}")),
    }
}

#[test]
fn every_negative_vector_is_rejected() {
    let dir = negative_dir();
    let Ok(entries) = std::fs::read_dir(&dir) else {
        report!("skipped: {} not found", dir.display());
        return;
    };
    let mut files: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "data"))
        .collect();
    files.sort();
    assert!(!files.is_empty(), "no .data files in {}", dir.display());
    let mut rejected = 0;
    let mut problems = Vec::new();
    for path in &files {
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let text = std::fs::read_to_string(path).unwrap();
        let needs_run = NEEDS_RUN.iter().find(|(n, _)| *n == name);
        match (static_rejection(&name, &text), needs_run) {
            (Some(why), None) => {
                rejected += 1;
                println!("{name}: {why}");
            }
            (None, Some((_, reason))) => println!("{name}: left to the VM: {reason}"),
            (Some(why), Some(_)) => problems.push(format!(
                "{name} is listed as needing a run but is rejected statically ({why}); remove it from NEEDS_RUN"
            )),
            (None, None) => problems.push(format!("{name} is accepted by parse_vector, assemble and check")),
        }
    }
    for (n, _) in NEEDS_RUN {
        if !files.iter().any(|p| p.file_name().is_some_and(|f| f == *n)) {
            problems.push(format!("{n} is listed in NEEDS_RUN but does not exist"));
        }
    }
    report!(
        "{rejected} of {} negative vectors rejected statically; {} left to execution",
        files.len(),
        NEEDS_RUN.len()
    );
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}
