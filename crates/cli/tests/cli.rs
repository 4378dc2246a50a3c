//! End-to-end tests of the `bpfkit` binary: real command lines, real output.

use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Output, Stdio};

fn bpfkit() -> Command {
    Command::new(env!("CARGO_BIN_EXE_bpfkit"))
}

fn tmpdir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("bpfkit-cli-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn text(o: &[u8]) -> String {
    String::from_utf8_lossy(o).into_owned()
}

const SUM: &str = "\
; sum the bytes of the input
    r0 = 0
    r3 = r1
    r3 += r2
loop:
    if r1 >= r3 goto done
    r4 = *(u8 *)(r1 + 0)
    r0 += r4
    r1 += 1
    goto loop
done:
    exit
";

#[test]
fn asm_then_exec_then_disasm() {
    let d = tmpdir("sum");
    let src = d.join("sum.s");
    let bin = d.join("sum.bin");
    std::fs::write(&src, SUM).unwrap();
    let o = bpfkit()
        .arg("asm")
        .arg(&src)
        .arg("-o")
        .arg(&bin)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", text(&o.stderr));
    assert_eq!(std::fs::read(&bin).unwrap().len(), 9 * 8);

    let o = bpfkit()
        .args(["exec", bin.to_str().unwrap(), "--mem", "01 02 03 04"])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", text(&o.stderr));
    assert_eq!(
        text(&o.stdout),
        "r0 = 0xa (10)\ninstructions executed: 25\n"
    );

    let o = bpfkit()
        .args(["exec", bin.to_str().unwrap(), "--mem", "0a0b", "--json"])
        .output()
        .unwrap();
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["r0"], 21);
    assert_eq!(v["insn_count"], 15);

    let o = bpfkit().arg("disasm").arg(&bin).output().unwrap();
    let listing = text(&o.stdout);
    assert!(
        listing.contains("       3:\tif r1 >= r3 goto +0x4"),
        "{listing}"
    );
    assert!(listing.contains("       7:\tgoto -0x5"), "{listing}");

    // The disassembly assembles back to the same bytes.
    let relisted = d.join("relisted.s");
    let plain: String = listing
        .lines()
        .map(|l| {
            l.split('\t')
                .nth(1)
                .unwrap()
                .split(" <")
                .next()
                .unwrap()
                .to_string()
                + "\n"
        })
        .collect();
    std::fs::write(&relisted, plain).unwrap();
    let again = d.join("again.bin");
    let o = bpfkit()
        .arg("asm")
        .arg(&relisted)
        .arg("-o")
        .arg(&again)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", text(&o.stderr));
    assert_eq!(std::fs::read(&again).unwrap(), std::fs::read(&bin).unwrap());

    let o = bpfkit()
        .args(["disasm", "--syntax", "ubpf", bin.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(text(&o.stdout).contains("jge %r1, %r3, +4\n"));
    std::fs::remove_dir_all(&d).unwrap();
}

#[test]
fn asm_error_names_line_and_underlines() {
    let d = tmpdir("bad");
    let src = d.join("bad.s");
    let out = d.join("bad.bin");
    std::fs::write(&src, "r0 = 1\nr0 += r11\nexit\n").unwrap();
    let o = bpfkit()
        .arg("asm")
        .arg(&src)
        .arg("-o")
        .arg(&out)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1));
    let err = text(&o.stderr);
    assert!(err.contains("bad.s:2:7: error:"), "{err}");
    assert!(err.contains("r11"), "{err}");
    assert!(err.contains("^^^"), "{err}");
    assert!(!out.exists(), "no output is written on error");
    std::fs::remove_dir_all(&d).unwrap();
}

#[test]
fn bad_bytecode_is_a_clean_error() {
    let d = tmpdir("bytes");
    let f = d.join("odd.bin");
    std::fs::write(&f, [0x95, 0, 0, 0, 0, 0, 0, 0, 1, 2, 3]).unwrap();
    let o = bpfkit()
        .args(["exec", f.to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1));
    assert!(
        text(&o.stderr).contains("not a multiple of 8"),
        "{}",
        text(&o.stderr)
    );

    // r0 = 1 with no exit: the structural check names the instruction.
    std::fs::write(&f, [0xb7, 0, 0, 0, 1, 0, 0, 0]).unwrap();
    let o = bpfkit()
        .args(["exec", f.to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1));
    assert!(
        text(&o.stderr).contains("instruction 0"),
        "{}",
        text(&o.stderr)
    );

    // An out-of-bounds read names the instruction and the address.
    std::fs::write(
        &f,
        [
            0x79, 0x10, 0x00, 0x01, 0, 0, 0, 0, // r0 = *(u64 *)(r1 + 256)
            0x95, 0, 0, 0, 0, 0, 0, 0,
        ],
    )
    .unwrap();
    let o = bpfkit()
        .args(["exec", f.to_str().unwrap(), "--mem", "00"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1));
    let err = text(&o.stderr);
    assert!(err.contains("instruction 0"), "{err}");
    assert!(err.contains("0x"), "{err}");
    std::fs::remove_dir_all(&d).unwrap();
}

fn plugin(mem: &str, program: &str) -> Output {
    let mut child = bpfkit()
        .args(["conformance-plugin", mem, "--some-runner-option"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(program.as_bytes())
        .unwrap();
    child.wait_with_output().unwrap()
}

#[test]
fn conformance_plugin_protocol() {
    // r0 = 42; exit, no memory (the runner passes an empty argv[1]).
    let o = plugin(
        "",
        "b7  00  00  00  2a  00  00  00  95  00  00  00  00  00  00  00 \n",
    );
    assert!(o.status.success(), "{}", text(&o.stderr));
    assert_eq!(text(&o.stdout), "0x2a\n");

    // r0 = r2 (memory length); r1 = a writable copy: ldxb r0, [r1+1] + r2
    let o = plugin(
        "aa bb cc",
        "71 10 01 00 00 00 00 00 0f 20 00 00 00 00 00 00 95 00 00 00 00 00 00 00",
    );
    assert_eq!(text(&o.stdout), "0xbe\n", "{}", text(&o.stderr));

    // Helper 5 returns its first argument.
    let o = plugin(
        "",
        "b7 01 00 00 07 00 00 00 85 00 00 00 05 00 00 00 95 00 00 00 00 00 00 00",
    );
    assert_eq!(text(&o.stdout), "0x7\n", "{}", text(&o.stderr));

    // A program that fails: non-zero exit, message on stderr, nothing on stdout.
    let o = plugin("", "95 01 00 00 00 00 00 00");
    assert!(!o.status.success());
    assert!(o.stdout.is_empty());
    assert!(
        text(&o.stderr).contains("instruction 0"),
        "{}",
        text(&o.stderr)
    );
}
