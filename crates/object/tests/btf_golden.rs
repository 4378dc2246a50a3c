//! Golden tests: our C and raw BTF dumps against bpftool 7.1's, kept as
//! files beside the fixtures (tests/fixtures/golden/NAME.btf.{c,raw}) so
//! neither clang nor bpftool is needed; and, where the machine has them,
//! against bpftool's live dumps of the kernel's vmlinux BTF.

use std::path::{Path, PathBuf};
use std::process::Command;

use bpfkit_object::btf::{dump_c, dump_raw, Btf, BtfExt};
use object::{Object, ObjectSection};

/// Writes a summary line straight to stderr, past the test harness's output
/// capture, so `cargo test` shows how many dumps were compared (or skipped).
macro_rules! report {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stderr(), $($arg)*);
    }};
}

fn fixtures_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

/// Every fixture object (`*.o`) with its name.
fn fixture_objects() -> Vec<(String, PathBuf)> {
    let mut out = Vec::new();
    let mut dirs = vec![fixtures_dir()];
    while let Some(dir) = dirs.pop() {
        let Ok(rd) = std::fs::read_dir(&dir) else {
            continue;
        };
        for e in rd.flatten() {
            let p = e.path();
            if p.is_dir() {
                dirs.push(p);
            } else if p.extension().is_some_and(|x| x == "o") {
                let stem = p.file_stem().unwrap().to_string_lossy().into_owned();
                out.push((stem, p));
            }
        }
    }
    out.sort();
    out
}

/// The `.BTF` and `.BTF.ext` sections of an ELF object.
fn btf_sections(path: &Path) -> (Option<Vec<u8>>, Option<Vec<u8>>) {
    let data = std::fs::read(path).unwrap();
    let file = object::File::parse(&*data).unwrap();
    let sec = |name| {
        file.section_by_name(name)
            .map(|s| s.data().unwrap().to_vec())
    };
    (sec(".BTF"), sec(".BTF.ext"))
}

/// First differing line, for a readable failure.
fn first_diff(ours: &str, theirs: &str) -> String {
    for (i, (a, b)) in ours.lines().zip(theirs.lines()).enumerate() {
        if a != b {
            return format!("line {}: ours {a:?} bpftool {b:?}", i + 1);
        }
    }
    format!(
        "lengths differ: ours {} lines, bpftool {} lines",
        ours.lines().count(),
        theirs.lines().count()
    )
}

#[test]
fn fixture_dumps_match_bpftool_goldens() {
    let golden = fixtures_dir().join("golden");
    let objects = fixture_objects();
    if objects.is_empty() {
        report!(
            "skipped: no fixture objects in {}",
            fixtures_dir().display()
        );
        return;
    }
    let mut compared = 0;
    let mut failures = Vec::new();
    for (name, path) in &objects {
        let (Some(btf_bytes), ext) = btf_sections(path) else {
            continue;
        };
        let btf =
            Btf::parse(&btf_bytes).unwrap_or_else(|e| panic!("{name}: .BTF does not parse: {e}"));
        if let Some(ext) = ext {
            BtfExt::parse(&ext, &btf)
                .unwrap_or_else(|e| panic!("{name}: .BTF.ext does not parse: {e}"));
        }
        // rebuild.sh writes both goldens for every object with BTF, so a
        // missing one means the fixture set is incomplete, not a skip.
        let c = golden.join(format!("{name}.btf.c"));
        match std::fs::read_to_string(&c) {
            Ok(expected) => {
                let ours = dump_c(&btf).unwrap();
                if ours != expected {
                    failures.push(format!("{name}.btf.c: {}", first_diff(&ours, &expected)));
                }
                compared += 1;
            }
            Err(e) => failures.push(format!("{}: {e}", c.display())),
        }
        let raw = golden.join(format!("{name}.btf.raw"));
        match std::fs::read_to_string(&raw) {
            Ok(expected) => {
                let ours = dump_raw(&btf);
                if ours != expected {
                    failures.push(format!("{name}.btf.raw: {}", first_diff(&ours, &expected)));
                }
                compared += 1;
            }
            Err(e) => failures.push(format!("{}: {e}", raw.display())),
        }
    }
    report!(
        "compared {compared} golden BTF dumps (C and raw) of {} fixture objects",
        objects.len()
    );
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert!(
        compared > 0,
        "fixture objects exist but no golden BTF dumps"
    );
}

fn bpftool(args: &[&str]) -> Option<String> {
    let out = Command::new("bpftool").args(args).output().ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).into_owned())
}

fn vmlinux() -> Option<Btf> {
    match std::fs::read("/sys/kernel/btf/vmlinux") {
        Ok(b) => Some(Btf::parse(&b).expect("vmlinux BTF parses")),
        Err(e) => {
            report!("skipped: /sys/kernel/btf/vmlinux: {e}");
            None
        }
    }
}

#[test]
fn vmlinux_c_dump_matches_bpftool() {
    let Some(btf) = vmlinux() else { return };
    let ours = dump_c(&btf).unwrap();
    assert!(ours.contains("\nstruct task_struct {\n"));
    let Some(theirs) = bpftool(&[
        "btf",
        "dump",
        "file",
        "/sys/kernel/btf/vmlinux",
        "format",
        "c",
    ]) else {
        report!("skipped: bpftool not available, vmlinux C dump not compared");
        return;
    };
    assert!(ours == theirs, "{}", first_diff(&ours, &theirs));
}

#[test]
fn vmlinux_raw_dump_matches_bpftool() {
    let Some(btf) = vmlinux() else { return };
    let ours = dump_raw(&btf);
    let Some(theirs) = bpftool(&["btf", "dump", "file", "/sys/kernel/btf/vmlinux"]) else {
        report!("skipped: bpftool not available, vmlinux raw dump not compared");
        return;
    };
    assert!(ours == theirs, "{}", first_diff(&ours, &theirs));
}

/// Truncating and bit-flipping every fixture's real `.BTF` and `.BTF.ext`
/// gives `Ok` or `Err`, never a panic, through parsing and both dumps.
#[test]
fn fixture_btf_truncated_and_flipped_never_panics() {
    let objects = fixture_objects();
    if objects.is_empty() {
        report!(
            "skipped: no fixture objects in {}",
            fixtures_dir().display()
        );
        return;
    }
    let mut tried = 0;
    for (_, path) in objects.iter().take(4) {
        let (Some(btf_bytes), ext) = btf_sections(path) else {
            continue;
        };
        let step = (btf_bytes.len() / 400).max(1);
        for pos in (0..btf_bytes.len()).step_by(step) {
            let _ = Btf::parse(&btf_bytes[..pos]);
            for bit in 0..8 {
                let mut b = btf_bytes.clone();
                b[pos] ^= 1 << bit;
                if let Ok(btf) = Btf::parse(&b) {
                    let _ = dump_c(&btf);
                    let _ = dump_raw(&btf);
                }
                tried += 1;
            }
        }
        if let (Some(ext), Ok(btf)) = (ext, Btf::parse(&btf_bytes)) {
            for pos in 0..ext.len() {
                let _ = BtfExt::parse(&ext[..pos], &btf);
                let mut e = ext.clone();
                e[pos] ^= 0x80;
                let _ = BtfExt::parse(&e, &btf);
                tried += 1;
            }
        }
    }
    report!("{tried} corrupted BTF/BTF.ext blobs parsed without a panic");
}
