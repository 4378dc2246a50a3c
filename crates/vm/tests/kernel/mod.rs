//! The kernel side of the differential tests (kernel_diff.rs,
//! kernel_diff_skb.rs): whether the kernel can be used, objects loaded and
//! run with bpftool (BPF_PROG_TEST_RUN), their maps read, and the frames
//! both sides get.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command;

use bpfkit_object::read::Object;
use bpfkit_vm::runtime::{LoadOptions, Runtime};

pub const MANIFEST: &str = env!("CARGO_MANIFEST_DIR");

/// Whether the kernel can be used; prints why not, and panics instead
/// when BPFKIT_REQUIRE_KERNEL=1.
pub fn kernel_available() -> bool {
    let root = std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("Uid:"))
                .map(|l| l.split_whitespace().nth(2) == Some("0"))
        })
        .unwrap_or(false);
    let bpftool = Command::new("bpftool")
        .arg("version")
        .output()
        .is_ok_and(|o| o.status.success());
    let bpffs = Path::new("/sys/fs/bpf").is_dir();
    let why = match (root, bpftool, bpffs) {
        (false, _, _) => "not root",
        (_, false, _) => "no bpftool",
        (_, _, false) => "no /sys/fs/bpf",
        _ => return true,
    };
    if std::env::var("BPFKIT_REQUIRE_KERNEL").as_deref() == Ok("1") {
        panic!("BPFKIT_REQUIRE_KERNEL=1 but the kernel cannot be used: {why}");
    }
    eprintln!("skipped: kernel differential test: {why}");
    false
}

/// An object loaded into the kernel with its programs and maps pinned;
/// dropping it unpins (and so frees) them.
pub struct Loaded {
    pub dir: PathBuf,
    /// Pins libbpf makes itself (`LIBBPF_PIN_BY_NAME` maps).
    pub by_name: Vec<PathBuf>,
}

impl Loaded {
    pub fn new(obj: &str, tag: &str) -> Loaded {
        Loaded::with_pins(obj, tag, &[])
    }

    /// Loads an object whose maps in `by_name` libbpf pins by name under
    /// /sys/fs/bpf (its maps are then not pinned again, and not read).
    pub fn with_pins(obj: &str, tag: &str, by_name: &[&str]) -> Loaded {
        let dir = PathBuf::from(format!(
            "/sys/fs/bpf/bpfkit_test_{tag}_{}",
            std::process::id()
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let by_name: Vec<PathBuf> = by_name
            .iter()
            .map(|n| Path::new("/sys/fs/bpf").join(n))
            .collect();
        for p in &by_name {
            assert!(
                !p.exists(),
                "{} is pinned already: another loader uses it",
                p.display()
            );
        }
        let guard = Loaded { dir, by_name };
        let mut c = Command::new("bpftool");
        c.args(["prog", "loadall", obj]).arg(guard.dir.join("p"));
        if guard.by_name.is_empty() {
            c.arg("pinmaps").arg(guard.dir.join("m"));
        }
        let out = c.output().unwrap();
        assert!(
            out.status.success(),
            "bpftool prog loadall {obj}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        guard
    }

    pub fn hex(bytes: &[u8]) -> Vec<String> {
        bytes.iter().map(|b| format!("{b:02x}")).collect()
    }

    pub fn map_update(&self, map: &str, key: &[u8], value: &[u8]) {
        let mut c = Command::new("bpftool");
        c.args(["map", "update", "pinned"])
            .arg(self.dir.join("m").join(map));
        c.arg("key")
            .arg("hex")
            .args(Self::hex(key))
            .arg("value")
            .arg("hex")
            .args(Self::hex(value));
        let out = c.output().unwrap();
        assert!(
            out.status.success(),
            "map update {map}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    pub fn map_lookup(&self, map: &str, key: &[u8]) -> Vec<u8> {
        let mut c = Command::new("bpftool");
        c.args(["-j", "map", "lookup", "pinned"])
            .arg(self.dir.join("m").join(map));
        c.arg("key").arg("hex").args(Self::hex(key));
        let out = c.output().unwrap();
        assert!(
            out.status.success(),
            "map lookup {map}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let text = String::from_utf8_lossy(&out.stdout);
        let values = &text[text.find("\"value\":[").unwrap() + 9..];
        values[..values.find(']').unwrap()]
            .split(',')
            .map(|s| {
                u8::from_str_radix(s.trim().trim_matches('"').trim_start_matches("0x"), 16).unwrap()
            })
            .collect()
    }

    /// `bpftool prog run`: the return value and data_out.
    pub fn run(&self, prog: &str, data: &[u8]) -> (u64, Vec<u8>) {
        let (rv, out, _) = self.run_ctx(prog, data, None);
        (rv, out)
    }

    /// `bpftool prog run` with a `ctx_in`: also ctx_out.
    pub fn run_ctx(&self, prog: &str, data: &[u8], ctx: Option<&[u8]>) -> (u64, Vec<u8>, Vec<u8>) {
        self.try_run_ctx(prog, data, ctx)
            .unwrap_or_else(|e| panic!("prog run {prog}: {e}"))
    }

    /// `bpftool prog run`, or its error when the kernel refuses the input.
    pub fn try_run_ctx(
        &self,
        prog: &str,
        data: &[u8],
        ctx: Option<&[u8]>,
    ) -> Result<(u64, Vec<u8>, Vec<u8>), String> {
        let base = std::env::temp_dir().join(self.dir.file_name().unwrap());
        let input = base.with_extension("in");
        let output = base.with_extension("out");
        let ctx_in = base.with_extension("ctx_in");
        let ctx_out = base.with_extension("ctx_out");
        std::fs::write(&input, data).unwrap();
        let mut c = Command::new("bpftool");
        c.args(["prog", "run", "pinned"])
            .arg(self.dir.join("p").join(prog))
            .arg("data_in")
            .arg(&input)
            .arg("data_out")
            .arg(&output);
        if let Some(ctx) = ctx {
            std::fs::write(&ctx_in, ctx).unwrap();
            c.arg("ctx_in").arg(&ctx_in).arg("ctx_out").arg(&ctx_out);
        }
        let out = c.output().unwrap();
        let text = String::from_utf8_lossy(&out.stdout).into_owned();
        if !out.status.success() {
            for f in [&input, &output, &ctx_in, &ctx_out] {
                let _ = std::fs::remove_file(f);
            }
            return Err(format!("{text} {}", String::from_utf8_lossy(&out.stderr)));
        }
        let rv = text
            .split("Return value: ")
            .nth(1)
            .unwrap()
            .split(',')
            .next()
            .unwrap()
            .trim()
            .parse()
            .unwrap();
        let data_out = std::fs::read(&output).unwrap();
        let ctx_bytes = std::fs::read(&ctx_out).unwrap_or_default();
        for f in [&input, &output, &ctx_in, &ctx_out] {
            let _ = std::fs::remove_file(f);
        }
        Ok((rv, data_out, ctx_bytes))
    }
}

impl Drop for Loaded {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
        for p in &self.by_name {
            let _ = std::fs::remove_file(p);
        }
    }
}

pub fn runtime(obj: &str, program: &str) -> (Runtime, usize) {
    let o = Object::open(obj).unwrap();
    let opts = LoadOptions {
        only: Some(program.into()),
        ..LoadOptions::default()
    };
    let rt = Runtime::load_with(&o, &opts).unwrap();
    let i = rt.program_index(program).unwrap();
    (rt, i)
}

pub fn read_pcap(bytes: &[u8]) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    let mut at = 24;
    while at + 16 <= bytes.len() {
        let caplen = u32::from_le_bytes(bytes[at + 8..at + 12].try_into().unwrap()) as usize;
        out.push(bytes[at + 16..at + 16 + caplen].to_vec());
        at += 16 + caplen;
    }
    out
}

pub fn hex_frame() -> Vec<u8> {
    // Ethernet, IPv4 192.0.2.1 -> 192.0.2.2 (checksum 0xb8f3), TCP 40000 -> 5000.
    let mut ip = vec![
        0x45, 0, 0, 56, 0, 1, 0, 0, 64, 6, 0, 0, 192, 0, 2, 1, 192, 0, 2, 2,
    ];
    let sum = |d: &[u8]| {
        let mut s: u32 = d
            .chunks(2)
            .map(|c| u16::from_be_bytes([c[0], c[1]]) as u32)
            .sum();
        while s >> 16 != 0 {
            s = (s & 0xffff) + (s >> 16);
        }
        !(s as u16)
    };
    let c = sum(&ip);
    ip[10..12].copy_from_slice(&c.to_be_bytes());
    let mut tcp = vec![
        0x9c, 0x40, 0x13, 0x88, 0, 0, 0, 1, 0, 0, 0, 0, 0x50, 0x18, 0xff, 0xff, 0, 0, 0, 0,
    ];
    tcp.extend_from_slice(b"hello, checksums");
    let mut pseudo = ip[12..20].to_vec();
    pseudo.extend_from_slice(&[0, 6, 0, tcp.len() as u8]);
    pseudo.extend_from_slice(&tcp);
    let c = sum(&pseudo);
    tcp[16..18].copy_from_slice(&c.to_be_bytes());
    let mut f = vec![2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1, 8, 0];
    f.extend(ip);
    f.extend(tcp);
    f
}
