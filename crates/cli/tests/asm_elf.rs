//! `bpfkit asm` writing ELF objects: chosen by the `.o` extension or
//! `--format elf`, raw bytes with `--format raw`, errors rendered with the
//! source line underlined.

use std::path::PathBuf;
use std::process::Command;

fn bpfkit() -> Command {
    Command::new(env!("CARGO_BIN_EXE_bpfkit"))
}

fn tmpdir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("bpfkit-asm-elf-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&d).expect("temp dir");
    d
}

const PROG: &str = "\t.section\tsocket,\"ax\",@progbits
\t.globl\tprog
\t.type\tprog,@function
prog:
\tr0 = 0
\texit
.Lend:
\t.size\tprog, .Lend-prog
\t.section\tlicense,\"aw\",@progbits
\t.asciz\t\"GPL\"
";

fn asm(args: &[&str], src: &str, name: &str) -> (std::process::Output, PathBuf) {
    let d = tmpdir(name);
    let file = d.join("prog.s");
    std::fs::write(&file, src).expect("write source");
    let out = bpfkit()
        .arg("asm")
        .arg(&file)
        .args(args.iter().map(|a| a.replace("DIR", &d.to_string_lossy())))
        .output()
        .expect("runs");
    (out, d)
}

#[test]
fn dot_o_output_is_a_bpf_elf_object() {
    let (o, d) = asm(&["-o", "DIR/prog.o"], PROG, "elf");
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let elf = std::fs::read(d.join("prog.o")).expect("object written");
    assert_eq!(&elf[..4], b"\x7fELF");
    assert_eq!(elf[4], 2, "ELFCLASS64");
    assert_eq!(elf[5], 1, "little endian");
    assert_eq!(u16::from_le_bytes([elf[16], elf[17]]), 1, "ET_REL");
    assert_eq!(u16::from_le_bytes([elf[18], elf[19]]), 247, "EM_BPF");
    let _ = std::fs::remove_dir_all(d);
}

#[test]
fn format_flag_overrides_the_extension() {
    let (o, d) = asm(
        &["-o", "DIR/prog.o", "--format", "raw"],
        "r0 = 0\nexit\n",
        "raw",
    );
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert_eq!(std::fs::read(d.join("prog.o")).expect("written").len(), 16);
    let (o, d2) = asm(&["-o", "DIR/prog.bin", "--format", "elf"], PROG, "elf-flag");
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert_eq!(
        &std::fs::read(d2.join("prog.bin")).expect("written")[..4],
        b"\x7fELF"
    );
    let _ = std::fs::remove_dir_all(d);
    let _ = std::fs::remove_dir_all(d2);
}

#[test]
fn directive_errors_are_rendered_with_the_line() {
    let (o, d) = asm(&["-o", "DIR/prog.o"], "\t.text\n\t.rept 3\n", "bad");
    assert!(!o.status.success());
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("prog.s:2:2: error: unsupported directive `.rept`"),
        "{err}"
    );
    assert!(err.contains("2 | \t.rept 3\n  | \t^^^^^"), "{err}");
    assert!(!d.join("prog.o").exists(), "no output on error");
    let _ = std::fs::remove_dir_all(d);
}

#[test]
fn symbol_loads_need_an_object() {
    let (o, d) = asm(
        &["-o", "DIR/prog.bin"],
        "r1 = counter ll\nexit\n",
        "raw-sym",
    );
    assert!(!o.status.success());
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("write an ELF object"), "{err}");
    let _ = std::fs::remove_dir_all(d);
}

#[test]
fn ubpf_syntax_is_raw_only() {
    let (o, d) = asm(&["-o", "DIR/prog.o", "--syntax", "ubpf"], "exit\n", "ubpf");
    assert!(!o.status.success());
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("use --format raw for uBPF syntax"), "{err}");
    let _ = std::fs::remove_dir_all(d);
}
