//! CO-RE against oracles. libbpf (1.1, through the committed goldens of
//! tests/fixtures/core_goldens.sh) logs every relocation it applies: the
//! local spec, each candidate and whether it matched, the patch or the
//! poisoning, the ambiguity errors. bpfkit renders its own resolutions in
//! the same lines and must give the same log, line for line, for the
//! fixtures relocated against core_target.o and against a minimized vmlinux
//! BTF. Where the machine allows, the live kernel is the oracle too: libbpf
//! (bpftool -d) relocating against the running vmlinux, and the programs the
//! verifier accepted (bpftool prog dump xlated) holding the same offsets and
//! immediates as bpfkit's relocated instructions.

use std::path::{Path, PathBuf};
use std::process::Command;

use bpfkit_isa::{decode_slots, Insn};
use bpfkit_object::btf::{Btf, BtfExt};
use bpfkit_object::co_re::{CoreOutcome, CoreTarget, Relocator};
use object::{Object, ObjectSection, ObjectSymbol, SymbolKind};

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

/// What the tests need of a fixture object.
struct Fixture {
    btf: Btf,
    ext: BtfExt,
    /// Executable sections and their slots.
    sections: Vec<(String, Vec<Insn>)>,
    /// (section, byte offset, name) of each function symbol.
    funcs: Vec<(String, u64, String)>,
}

impl Fixture {
    fn load(name: &str) -> Fixture {
        let data = std::fs::read(fixtures().join(format!("{name}.o"))).unwrap();
        let file = object::File::parse(&*data).unwrap();
        let sec = |n| file.section_by_name(n).unwrap().data().unwrap().to_vec();
        let btf = Btf::parse(&sec(".BTF")).unwrap();
        let ext = match file.section_by_name(".BTF.ext") {
            Some(s) => BtfExt::parse(s.data().unwrap(), &btf).unwrap(),
            None => BtfExt::default(),
        };
        let mut sections = Vec::new();
        for s in file.sections() {
            if s.kind() == object::SectionKind::Text && s.size() > 0 {
                let insns = decode_slots(s.data().unwrap()).unwrap();
                sections.push((s.name().unwrap().to_owned(), insns));
            }
        }
        let mut funcs = Vec::new();
        for sym in file.symbols() {
            if sym.kind() == SymbolKind::Text {
                if let Some(idx) = sym.section_index() {
                    let sname = file
                        .section_by_index(idx)
                        .unwrap()
                        .name()
                        .unwrap()
                        .to_owned();
                    funcs.push((sname, sym.address(), sym.name().unwrap().to_owned()));
                }
            }
        }
        Fixture {
            btf,
            ext,
            sections,
            funcs,
        }
    }

    fn insns(&self, section: &str) -> Vec<Insn> {
        self.sections
            .iter()
            .find(|(n, _)| n == section)
            .map(|(_, i)| i.clone())
            .unwrap_or_else(|| panic!("no section {section}"))
    }

    /// The function holding slot `idx` of `section`: its name and first slot.
    fn func_at(&self, section: &str, idx: usize) -> (String, usize) {
        let off = idx as u64 * 8;
        self.funcs
            .iter()
            .filter(|(s, a, _)| s == section && *a <= off)
            .max_by_key(|(_, a, _)| *a)
            .map(|(_, a, n)| (n.clone(), (*a / 8) as usize))
            .unwrap_or_else(|| panic!("no function at {section}+{off}"))
    }

    /// Relocates every section against `target` as libbpf does (one
    /// candidate cache for the object, stop at the first failure) and
    /// renders libbpf's log lines; also returns the relocated sections.
    fn relocate_log(&self, target: &Btf) -> (Vec<String>, Vec<(String, Vec<Insn>)>) {
        let mut r = Relocator::new(&self.btf, CoreTarget::new(target));
        let mut lines = Vec::new();
        let mut out = Vec::new();
        for sec in &self.ext.core_relos {
            lines.push(format!(
                "sec '{}': found {} CO-RE relocations",
                sec.section,
                sec.records.len()
            ));
            let mut insns = self.insns(&sec.section);
            for (i, rec) in sec.records.iter().enumerate() {
                let res = r.report(&sec.section, i, rec, &mut insns);
                let (prog, base) = self.func_at(&sec.section, res.location.insn_index);
                for l in res.libbpf_log(base) {
                    if l.starts_with("CO-RE relocating") {
                        lines.push(l);
                    } else {
                        lines.push(format!("prog '{prog}': {l}"));
                    }
                }
                if matches!(res.outcome, CoreOutcome::Failed { .. }) {
                    let errno = lines
                        .last()
                        .and_then(|l| l.rsplit(": ").next())
                        .unwrap_or("");
                    lines.push(format!("failed to perform CO-RE relocations: {errno}"));
                    return (lines, out);
                }
            }
            out.push((sec.section.clone(), insns));
        }
        (lines, out)
    }
}

fn target_btf(name: &str) -> Btf {
    Fixture::load(name).btf
}

fn golden_lines(name: &str) -> Vec<String> {
    std::fs::read_to_string(fixtures().join("golden").join(name))
        .unwrap_or_else(|e| panic!("golden {name}: {e}"))
        .lines()
        .map(str::to_owned)
        .collect()
}

fn assert_same_log(what: &str, ours: &[String], theirs: &[String]) {
    for (i, (a, b)) in ours.iter().zip(theirs).enumerate() {
        assert_eq!(
            a,
            b,
            "{what}: line {} differs\n ours:   {a}\n libbpf: {b}",
            i + 1
        );
    }
    assert_eq!(
        ours.len(),
        theirs.len(),
        "{what}: ours has {} lines, libbpf {}; first extra: {:?}",
        ours.len(),
        theirs.len(),
        ours.get(theirs.len()).or(theirs.get(ours.len()))
    );
}

#[test]
fn local_fixture_against_target_matches_libbpf() {
    let fx = Fixture::load("core_local");
    let target = target_btf("core_target");
    let (ours, _) = fx.relocate_log(&target);
    let theirs = golden_lines("core_local.core_target.relo");
    assert!(theirs.len() > 100, "golden too short");
    assert_same_log("core_local vs core_target", &ours, &theirs);
}

#[test]
fn edge_fixture_against_target_matches_libbpf() {
    let fx = Fixture::load("core_edges");
    let (ours, _) = fx.relocate_log(&target_btf("core_target"));
    let theirs = golden_lines("core_edges.core_target.relo");
    assert!(theirs.len() > 50, "golden too short");
    assert_same_log("core_edges vs core_target", &ours, &theirs);
}

#[test]
fn gcc_fixture_against_target_matches_libbpf() {
    // GCC's own CO-RE records (gcc/gcc_core_local.c, bpf-gcc 12 -mco-re):
    // the same log as libbpf's, line for line, for another compiler's
    // access strings and record order.
    let fx = Fixture::load("gcc_core_local");
    let (ours, relocated) = fx.relocate_log(&target_btf("core_target"));
    let theirs = golden_lines("gcc_core_local.core_target.relo");
    assert!(theirs.len() > 25, "golden too short");
    assert!(theirs.iter().any(|l| l.contains("mem_sz 4 -> 8")));
    assert_same_log("gcc_core_local vs core_target", &ours, &theirs);
    // The first load of task_fields reads core_task.pid at its target offset.
    assert_eq!(relocated[0].1[0].off, 56);
}

#[test]
fn refused_fixtures_fail_as_libbpf() {
    let target = target_btf("core_target");
    for (name, why) in [
        ("core_ambiguous", "field offset ambiguity"),
        ("core_ambiguous_size", "relocation decision ambiguity"),
        // A 32-bit enumerator with the top bit set: libbpf's sign extension.
        ("core_enum_sign", "unexpected insn #2 (LDIMM64) value"),
    ] {
        let fx = Fixture::load(name);
        let (ours, _) = fx.relocate_log(&target);
        let theirs = golden_lines(&format!("{name}.core_target.relo"));
        assert!(
            theirs.iter().any(|l| l.contains(why)),
            "{name}: golden lacks {why:?}"
        );
        assert_same_log(name, &ours, &theirs);
    }
}

/// The fixtures relocated against the running kernel, each with the least
/// number of its relocated instructions the xlated programs must confirm
/// (all but those of programs the verifier shortened).
const VMLINUX_FIXTURES: [(&str, usize); 2] = [("core_vmlinux", 23), ("core_vmlinux_wide", 47)];

#[test]
fn vmlinux_fixtures_against_min_btf_match_libbpf() {
    for (name, _) in VMLINUX_FIXTURES {
        let fx = Fixture::load(name);
        let min =
            Btf::parse(&std::fs::read(fixtures().join(format!("golden/{name}.min.btf"))).unwrap())
                .unwrap();
        let (ours, _) = fx.relocate_log(&min);
        let theirs = golden_lines(&format!("{name}.min.relo"));
        assert!(theirs.len() > 50, "{name}: golden too short");
        assert_same_log(&format!("{name} vs min BTF"), &ours, &theirs);
    }
}

/// The running kernel's vmlinux BTF, if readable.
fn live_vmlinux() -> Option<Btf> {
    let bytes = std::fs::read("/sys/kernel/btf/vmlinux").ok()?;
    Some(Btf::parse(&bytes).expect("vmlinux BTF parses"))
}

fn require_kernel() -> bool {
    std::env::var("BPFKIT_REQUIRE_KERNEL").is_ok_and(|v| v == "1")
}

#[test]
fn vmlinux_fixtures_against_captured_kernel_match_libbpf_and_verifier() {
    let Some(vmlinux) = live_vmlinux() else {
        assert!(
            !require_kernel(),
            "BPFKIT_REQUIRE_KERNEL=1 but no /sys/kernel/btf/vmlinux"
        );
        eprintln!("skipped: no /sys/kernel/btf/vmlinux");
        return;
    };
    let running = std::fs::read_to_string("/proc/sys/kernel/osrelease").unwrap_or_default();
    for (name, min_compared) in VMLINUX_FIXTURES {
        let kernel =
            std::fs::read_to_string(fixtures().join(format!("golden/{name}.vmlinux.kernel")))
                .unwrap();
        let captured = kernel.lines().next().unwrap_or("");
        if running.trim() != captured {
            eprintln!(
                "skipped: {name} goldens were captured on kernel {captured}, this is {}",
                running.trim()
            );
            continue;
        }
        let fx = Fixture::load(name);
        let (ours, relocated) = fx.relocate_log(&vmlinux);
        let theirs = golden_lines(&format!("{name}.vmlinux.relo"));
        assert_same_log(&format!("{name} vs vmlinux"), &ours, &theirs);
        let compared = compare_xlated(&fx, &relocated, |prog| {
            std::fs::read_to_string(fixtures().join(format!("golden/{name}.xlated.{prog}"))).ok()
        });
        assert!(
            compared >= min_compared,
            "{name}: only {compared} relocated instructions compared with xlated"
        );
    }
}

/// Slots of a `bpftool prog dump xlated ... opcodes` listing.
fn parse_xlated(text: &str) -> Vec<Insn> {
    let mut out = Vec::new();
    for line in text.lines() {
        let t = line.trim();
        let bytes: Vec<u8> = t
            .split(' ')
            .map(|b| u8::from_str_radix(b, 16))
            .collect::<Result<_, _>>()
            .unwrap_or_default();
        if t.is_empty() || bytes.len() % 8 != 0 || t.split(' ').any(|b| b.len() != 2) {
            continue;
        }
        out.extend(decode_slots(&bytes).unwrap());
    }
    out
}

/// Compares bpfkit's relocated instructions with the kernel's xlated
/// programs: same memory offset and size for loads/stores, same immediates
/// for ALU and lddw. Programs whose xlated form does not line up slot for
/// slot (the verifier removed dead code) are skipped. Returns how many
/// relocated instructions were compared.
fn compare_xlated(
    fx: &Fixture,
    relocated: &[(String, Vec<Insn>)],
    xlated_of: impl Fn(&str) -> Option<String>,
) -> usize {
    let mut compared = 0;
    for (section, insns) in relocated {
        for rec in fx.ext.core_relos(section) {
            let idx = (rec.insn_off / 8) as usize;
            let (prog, base) = fx.func_at(section, idx);
            let Some(text) = xlated_of(&prog) else {
                panic!("no xlated dump of {prog}");
            };
            let x = parse_xlated(&text);
            let size = fx
                .funcs
                .iter()
                .filter(|(s, a, _)| s == section && (*a / 8) as usize > base)
                .map(|(_, a, _)| (*a / 8) as usize)
                .min()
                .unwrap_or(insns.len())
                - base;
            if x.len() != size {
                continue;
            }
            let (ours, kern) = (insns[idx], x[idx - base]);
            let class = ours.code & 7;
            match class {
                // LDX/ST/STX: the kernel may turn the mode into PROBE_MEM.
                1..=3 => {
                    assert_eq!(ours.off, kern.off, "{prog} insn #{}: offset", idx - base);
                    assert_eq!(
                        ours.code & 0x18,
                        kern.code & 0x18,
                        "{prog} insn #{}: size",
                        idx - base
                    );
                }
                0 => {
                    assert_eq!(ours.imm, kern.imm, "{prog} insn #{}: lddw low", idx - base);
                    assert_eq!(
                        insns[idx + 1].imm,
                        x[idx - base + 1].imm,
                        "{prog} insn #{}: lddw high",
                        idx - base
                    );
                }
                _ => assert_eq!(ours, kern, "{prog} insn #{}", idx - base),
            }
            compared += 1;
        }
    }
    compared
}

/// Removes a bpffs pin directory (and so the programs pinned in it) on drop.
struct PinDir(PathBuf);

impl Drop for PinDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

#[test]
fn vmlinux_fixtures_against_live_kernel_match_libbpf_and_verifier() {
    let is_root = std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("Uid:"))
                .map(|l| l.split_whitespace().nth(1) == Some("0"))
        })
        .unwrap_or(false);
    let have_bpftool = Command::new("bpftool")
        .arg("version")
        .output()
        .is_ok_and(|o| o.status.success());
    let t0 = std::time::Instant::now();
    let vmlinux = live_vmlinux();
    let parse_time = t0.elapsed();
    let (Some(vmlinux), true, true, true) = (
        vmlinux,
        is_root,
        have_bpftool,
        Path::new("/sys/fs/bpf").is_dir(),
    ) else {
        assert!(
            !require_kernel(),
            "BPFKIT_REQUIRE_KERNEL=1 but no root, bpftool, bpffs or vmlinux BTF"
        );
        eprintln!(
            "skipped: live CO-RE oracle needs root, bpftool, bpffs and /sys/kernel/btf/vmlinux"
        );
        return;
    };
    for (name, min_compared) in VMLINUX_FIXTURES {
        let pin = PinDir(PathBuf::from(format!(
            "/sys/fs/bpf/bpfkit_core_test_{}_{name}",
            std::process::id()
        )));
        let out = Command::new("bpftool")
            .arg("-d")
            .args(["prog", "loadall"])
            .arg(fixtures().join(format!("{name}.o")))
            .arg(&pin.0)
            .output()
            .unwrap();
        let log = String::from_utf8_lossy(&out.stderr);
        assert!(
            out.status.success(),
            "{name}: bpftool prog loadall failed:\n{log}"
        );
        let theirs: Vec<String> = log
            .lines()
            .filter_map(|l| l.strip_prefix("libbpf: "))
            .filter(|l| {
                l.starts_with("CO-RE relocating")
                    || l.contains(": relo #")
                    || (l.starts_with("sec '") && l.ends_with(" CO-RE relocations"))
            })
            .map(str::to_owned)
            .collect();
        let fx = Fixture::load(name);
        let t0 = std::time::Instant::now();
        let (ours, relocated) = fx.relocate_log(&vmlinux);
        let relo_time = t0.elapsed();
        assert_same_log(&format!("{name} vs live libbpf"), &ours, &theirs);
        let compared = compare_xlated(&fx, &relocated, |prog| {
            let o = Command::new("bpftool")
                .args(["prog", "dump", "xlated", "pinned"])
                .arg(pin.0.join(prog))
                .arg("opcodes")
                .output()
                .ok()?;
            o.status
                .success()
                .then(|| String::from_utf8_lossy(&o.stdout).into_owned())
        });
        assert!(
            compared >= min_compared,
            "{name}: only {compared} relocated instructions compared with xlated"
        );
        let records: usize = fx.ext.core_relos.iter().map(|s| s.records.len()).sum();
        eprintln!(
            "live kernel, {name}: {} libbpf log lines and {compared} xlated instructions agree; \
             {records} relocations applied in {relo_time:?} (vmlinux BTF parsed in {parse_time:?})",
            ours.len()
        );
    }
}

#[test]
fn strict_relocation_error_names_section_relocation_and_source_line() {
    let fx = Fixture::load("core_ambiguous");
    let target = target_btf("core_target");
    let mut insns = fx.insns("kprobe/core_amb");
    let e = bpfkit_object::co_re::relocate_section(
        &fx.btf,
        &fx.ext,
        "kprobe/core_amb",
        &mut insns,
        &target,
    )
    .unwrap_err();
    assert_eq!(e.location.section, "kprobe/core_amb");
    assert_eq!((e.location.relo_index, e.location.insn_index), (0, 0));
    let src = e.location.source.as_ref().expect("line info");
    assert!(src.file.ends_with("core_ambiguous.c"), "{src:?}");
    assert_eq!(src.text, "return a->x;");
    let id = |n| target.find_by_name(n, bpfkit_object::btf::Kind::Struct)[0];
    let (a, b) = (id("core_amb___a"), id("core_amb___b"));
    let text = e.to_string();
    let want_end = format!(
        "`return a->x;`: field offset ambiguity: candidate [{b}] at bit 32 != [{a}] at bit 0"
    );
    assert!(
        text.starts_with("section 'kprobe/core_amb' relo #0 (insn #0, <byte_off> [5] \"0:0\") at ")
            && text.ends_with(&want_end),
        "{text}"
    );
}

/// The reader's linked programs relocate to the same instructions as their
/// sections do (the entry function's slots come first in both).
#[test]
fn linked_programs_relocate_like_their_sections() {
    let fx = Fixture::load("core_vmlinux");
    let min = Btf::parse(&std::fs::read(fixtures().join("golden/core_vmlinux.min.btf")).unwrap())
        .unwrap();
    let (_, sections) = fx.relocate_log(&min);
    let obj = bpfkit_object::read::Object::open(fixtures().join("core_vmlinux.o")).unwrap();
    let local = obj.btf.as_ref().unwrap();
    let mut r = Relocator::new(local, CoreTarget::new(&min));
    let mut compared = 0;
    for prog in &obj.programs {
        let (slots, res) = r.relocate_program(prog).unwrap();
        assert_eq!(res.len(), prog.core_relos.len());
        let (_, sec) = sections.iter().find(|(n, _)| *n == prog.section).unwrap();
        for x in &res {
            let pc = x.location.insn_index;
            assert_eq!(slots[pc], sec[prog.start + pc], "{} slot {pc}", prog.name);
            assert!(
                x.location.source.is_some(),
                "{} slot {pc} has a line",
                prog.name
            );
            compared += 1;
        }
    }
    assert!(compared >= 29, "{compared}");
}
