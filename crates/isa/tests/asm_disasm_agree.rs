//! The assembler reads what the disassembler writes: every instruction of
//! the conformance programs and of an LLVM 19 golden listing, printed by
//! `disasm::format_instruction` in either syntax, assembles back to the same
//! slots. (The exhaustive property test of the pair lives with the
//! disassembler; this one pins the two helpers' syntaxes to each other on
//! real programs.)

use std::path::PathBuf;

use bpfkit_isa::asm::assemble;
use bpfkit_isa::conformance::parse_vector;
use bpfkit_isa::disasm::format_instruction;
use bpfkit_isa::{CallTarget, Instruction, Syntax};

fn programs() -> Vec<(String, Vec<bpfkit_isa::Insn>)> {
    let golden = include_str!("../src/asm/tests/llvm19_all.dump");
    let mut out = vec![(
        "llvm19_all.dump".to_string(),
        assemble(golden, Syntax::Llvm).expect("golden listing assembles"),
    )];
    let dir = match std::env::var_os("BPF_CONFORMANCE_DIR") {
        Some(d) => PathBuf::from(d),
        None => {
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/bpf_conformance/tests")
        }
    };
    let Ok(entries) = std::fs::read_dir(&dir) else {
        println!("skipped conformance programs: {} not found", dir.display());
        return out;
    };
    for path in entries.filter_map(|e| e.ok().map(|e| e.path())) {
        let Ok(text) = std::fs::read_to_string(&path) else {
            continue;
        };
        let Ok(v) = parse_vector(&text) else { continue };
        if let Some(asm) = v.asm {
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            out.push((name, assemble(&asm, Syntax::Ubpf).unwrap()));
        }
    }
    out
}

#[test]
fn disassembly_reassembles_to_the_same_slots() {
    let mut failures = Vec::new();
    let (mut count, mut skipped) = (0, 0);
    for (name, slots) in programs() {
        // decoded slot by slot: the golden listing's jumps leave the program
        let mut pc = 0;
        while pc < slots.len() {
            let (insn, len) =
                Instruction::decode(&slots[pc..]).unwrap_or_else(|e| panic!("{name}@{pc}: {e}"));
            for syntax in [Syntax::Llvm, Syntax::Ubpf] {
                // llvm-objdump prints a forward local call as `call 0x9`, the
                // same text as helper 9; the LLVM syntax cannot tell them
                // apart, so that one form is lossy by design (`call pc+9`
                // is the unambiguous kernel spelling).
                let lossy = matches!(insn, Instruction::Call(CallTarget::Local(n)) if n >= 0);
                if syntax == Syntax::Llvm && lossy {
                    skipped += 1;
                    continue;
                }
                let text = format_instruction(&insn, syntax);
                let want = insn.encode();
                count += 1;
                match assemble(&text, syntax) {
                    Ok(got) if got == want.as_slice() => {}
                    Ok(got) => failures.push(format!(
                        "{name}@{pc} {syntax:?} `{text}`: {got:?} != {want:?}"
                    )),
                    Err(e) => failures.push(format!("{name}@{pc} {syntax:?} `{text}`: {e}")),
                }
            }
            pc += len;
        }
    }
    println!("{count} printed instructions reassembled ({skipped} forward local calls skipped in LLVM syntax)");
    failures.sort();
    failures.dedup();
    assert!(
        failures.is_empty(),
        "{} failures:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
