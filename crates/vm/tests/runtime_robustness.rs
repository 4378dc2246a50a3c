//! Every program of every fixture object, loaded alone, run on frames of
//! random bytes and lengths (a fixed-seed generator): each run ends with a
//! verdict or a typed error, never a panic or a hang.

use bpfkit_object::kinds::ProgType;
use bpfkit_object::read::Object;
use bpfkit_vm::ctx::{SkBuff, XdpMd};
use bpfkit_vm::runtime::{LoadOptions, Runtime};
use bpfkit_vm::Packet;

const DIRS: &[&str] = &[
    concat!(env!("CARGO_MANIFEST_DIR"), "/../object/tests/fixtures"),
    concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures"),
    concat!(env!("CARGO_MANIFEST_DIR"), "/../../examples/mplex"),
];

/// A 64-bit LCG (Knuth's MMIX constants).
struct Lcg(u64);

impl Lcg {
    fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        self.0 >> 33
    }

    fn frame(&mut self) -> Vec<u8> {
        let len = (self.next() % 400) as usize;
        let mut f: Vec<u8> = (0..len).map(|_| self.next() as u8).collect();
        // Often a plausible EtherType, so the parsers go deeper.
        if len >= 14 && self.next() % 2 == 0 {
            let t: [u16; 4] = [0x0800, 0x86dd, 0x0806, 0x8100];
            f[12..14].copy_from_slice(&t[(self.next() % 4) as usize].to_be_bytes());
            if len > 14 {
                f[14] = 0x45;
            }
        }
        f
    }
}

#[test]
fn fixture_programs_never_panic_on_random_frames() {
    let mut rng = Lcg(0x5eed);
    let mut runs = 0;
    for dir in DIRS {
        let mut paths: Vec<_> = std::fs::read_dir(dir)
            .unwrap()
            .flatten()
            .map(|e| e.path())
            .collect();
        paths.sort();
        for path in paths
            .into_iter()
            .filter(|p| p.extension().is_some_and(|e| e == "o"))
        {
            let Ok(obj) = Object::open(&path) else {
                continue;
            };
            for p in &obj.programs {
                let opts = LoadOptions {
                    only: Some(p.name.clone()),
                    ..LoadOptions::default()
                };
                let Ok(mut rt) = Runtime::load_with(&obj, &opts) else {
                    continue;
                };
                let Some(i) = rt.program_index(&p.name) else {
                    continue;
                };
                rt.program_mut(i).unwrap().vm_mut().set_budget(1 << 20);
                for _ in 0..40 {
                    let frame = rng.frame();
                    let _ = match p.section_type.prog_type {
                        ProgType::Xdp => {
                            rt.run_xdp(i, &mut Packet::xdp(&frame), &mut XdpMd::default())
                        }
                        ProgType::SchedCls
                        | ProgType::SchedAct
                        | ProgType::SocketFilter
                        | ProgType::CgroupSkb => {
                            rt.run_skb(i, &mut Packet::new(&frame, 64, 64), &mut SkBuff::default())
                        }
                        _ => rt.run_with_memory(i, &mut frame.clone()),
                    };
                    runs += 1;
                }
            }
        }
    }
    assert!(runs > 1000, "{runs} runs");
}
