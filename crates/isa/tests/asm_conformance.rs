//! Every bpf_conformance vector's `-- asm` section assembles (uBPF syntax),
//! passes the structural check, and equals the `-- raw` section where the
//! vector has one.
//!
//! The vectors are read from `$BPF_CONFORMANCE_DIR` (default:
//! `/work/shared/bpf_conformance/tests`, found relative to this crate); the
//! test says it skipped them when the directory is absent.

use std::path::PathBuf;

use bpfkit_isa::asm::assemble;
use bpfkit_isa::conformance::parse_vector;
use bpfkit_isa::{check, encode_slots, Syntax};

/// Writes a summary line straight to stderr, past the test harness's output
/// capture, so `cargo test` shows how many vectors ran (or that they were skipped).
macro_rules! report {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stderr(), $($arg)*);
    }};
}

fn vector_dir() -> PathBuf {
    match std::env::var_os("BPF_CONFORMANCE_DIR") {
        Some(dir) => PathBuf::from(dir),
        None => {
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/bpf_conformance/tests")
        }
    }
}

#[test]
fn every_conformance_vector_assembles_and_checks() {
    let dir = vector_dir();
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
    let mut failures = Vec::new();
    let (mut assembled, mut compared) = (0, 0);
    for path in &files {
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let text = std::fs::read_to_string(path).unwrap();
        let vector = match parse_vector(&text) {
            Ok(v) => v,
            Err(e) => {
                failures.push(format!("{name}: {e}"));
                continue;
            }
        };
        let Some(asm) = &vector.asm else {
            failures.push(format!("{name}: no -- asm section"));
            continue;
        };
        let slots = match assemble(asm, Syntax::Ubpf) {
            Ok(s) => s,
            Err(e) => {
                let mut e = e;
                e.line += vector.asm_line - 1;
                failures.push(e.render(&text, &name));
                continue;
            }
        };
        assembled += 1;
        if let Err(e) = check(&slots) {
            failures.push(format!("{name}: check: {e}"));
        }
        if let Some(raw) = &vector.raw {
            compared += 1;
            if &encode_slots(&slots) != raw {
                failures.push(format!(
                    "{name}: assembled bytes differ from -- raw\n  asm: {:02x?}\n  raw: {raw:02x?}",
                    encode_slots(&slots)
                ));
            }
        }
    }
    report!(
        "{assembled} of {} vectors assembled and checked; {compared} matched their -- raw section",
        files.len()
    );
    assert!(
        failures.is_empty(),
        "{} failures:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
