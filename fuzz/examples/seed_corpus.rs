//! Writes the seed corpora of the fuzz targets under `fuzz/corpus/` (which
//! git ignores), from the bpf_conformance vectors and the benchmark programs.
//! The vectors are read where they lie and never copied into the repository.
//!
//! `cargo run --manifest-path fuzz/Cargo.toml --example seed_corpus -- \
//!     [CONFORMANCE_TESTS_DIR]` (default: `../shared/bpf_conformance/tests`
//! beside the repository).

use std::fs;
use std::path::{Path, PathBuf};

use bpfkit_isa::asm::assemble;
use bpfkit_isa::conformance::parse_vector;
use bpfkit_isa::disasm::{listing, DisasmOptions};
use bpfkit_isa::{encode_slots, Syntax};

/// One corpus entry per seed, named after its source.
struct Corpus {
    dir: PathBuf,
    count: usize,
}

impl Corpus {
    fn new(root: &Path, target: &str) -> std::io::Result<Corpus> {
        let dir = root.join(target);
        fs::create_dir_all(&dir)?;
        Ok(Corpus { dir, count: 0 })
    }

    fn add(&mut self, name: &str, bytes: &[u8]) -> std::io::Result<()> {
        self.count += 1;
        fs::write(self.dir.join(name), bytes)
    }
}

/// The input of `decode_run`: mem length (2 bytes LE), mem, program.
fn run_input(mem: &[u8], code: &[u8]) -> Vec<u8> {
    let len = mem.len().min(4096);
    let mut v = (len as u16).to_le_bytes().to_vec();
    v.extend_from_slice(&mem[..len]);
    v.extend_from_slice(code);
    v
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let fuzz = Path::new(env!("CARGO_MANIFEST_DIR"));
    let tests = std::env::args_os()
        .nth(1)
        .map(PathBuf::from)
        .unwrap_or_else(|| fuzz.join("../../shared/bpf_conformance/tests"));
    let root = fuzz.join("corpus");
    let mut asm_ubpf = Corpus::new(&root, "asm_ubpf")?;
    let mut asm_llvm = Corpus::new(&root, "asm_llvm")?;
    let mut disasm = Corpus::new(&root, "decode_disasm")?;
    let mut run = Corpus::new(&root, "decode_run")?;

    let mut vectors: Vec<PathBuf> = match fs::read_dir(&tests) {
        Ok(dir) => dir.filter_map(|e| e.ok().map(|e| e.path())).collect(),
        Err(e) => {
            eprintln!(
                "seed_corpus: {}: {e}; no conformance seeds",
                tests.display()
            );
            Vec::new()
        }
    };
    vectors.sort();
    for path in vectors
        .iter()
        .filter(|p| p.extension().is_some_and(|e| e == "data"))
    {
        let stem = path
            .file_stem()
            .and_then(|s| s.to_str())
            .unwrap_or("vector");
        let Ok(vector) = parse_vector(&fs::read_to_string(path)?) else {
            continue;
        };
        let Some(asm) = vector.asm else { continue };
        asm_ubpf.add(stem, asm.as_bytes())?;
        let Ok(slots) = assemble(&asm, Syntax::Ubpf) else {
            continue;
        };
        let code = encode_slots(&slots);
        disasm.add(stem, &code)?;
        run.add(stem, &run_input(&vector.mem, &code))?;
        for (suffix, raw_insn) in [("raw", true), ("plain", false)] {
            let opts = DisasmOptions {
                syntax: Syntax::Llvm,
                raw_insn,
                annotate: true,
            };
            asm_llvm.add(
                &format!("{stem}.{suffix}"),
                listing(&slots, &opts).as_bytes(),
            )?;
        }
    }

    let programs = fuzz.join("../benches/programs");
    let mut bins: Vec<PathBuf> = fs::read_dir(&programs)?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "bin"))
        .collect();
    bins.sort();
    for path in bins {
        let stem = path
            .file_stem()
            .and_then(|s| s.to_str())
            .unwrap_or("program");
        let code = fs::read(&path)?;
        disasm.add(stem, &code)?;
        // 256 bytes of counting mem: enough for every benchmark program.
        let mem: Vec<u8> = (0..=255).collect();
        run.add(stem, &run_input(&mem, &code))?;
        if let Ok(slots) = bpfkit_isa::decode_slots(&code) {
            for syntax in [Syntax::Llvm, Syntax::Ubpf] {
                let opts = DisasmOptions {
                    syntax,
                    raw_insn: syntax == Syntax::Llvm,
                    annotate: false,
                };
                let text = listing(&slots, &opts);
                match syntax {
                    Syntax::Llvm => asm_llvm.add(stem, text.as_bytes())?,
                    Syntax::Ubpf => asm_ubpf.add(&format!("bench_{stem}"), text.as_bytes())?,
                }
            }
        }
    }
    // object_parse: every committed object fixture (clang's, GCC's, the
    // runtime's and the examples').
    let mut objects = Corpus::new(&root, "object_parse")?;
    for dir in [
        "../crates/object/tests/fixtures",
        "../crates/vm/tests/fixtures",
        "../examples/mplex",
    ] {
        let Ok(rd) = fs::read_dir(fuzz.join(dir)) else {
            continue;
        };
        let mut objs: Vec<PathBuf> = rd
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|e| e == "o"))
            .collect();
        objs.sort();
        for path in objs {
            let stem = path
                .file_stem()
                .and_then(|s| s.to_str())
                .unwrap_or("object");
            objects.add(stem, &fs::read(&path)?)?;
        }
    }
    for c in [&asm_ubpf, &asm_llvm, &disasm, &run, &objects] {
        println!("{}: {} seeds", c.dir.display(), c.count);
    }
    Ok(())
}
