//! Programs: load with the verifier log (and its growth), test run, info
//! with xlated and jited code, ids, pins, links, stats and BTF load.

mod support;

use std::os::fd::AsFd;

use bpfkit_kernel::btf::KernelBtf;
use bpfkit_kernel::info::{self, LinkTarget, ProgInfo, ProgInfoArrays};
use bpfkit_kernel::link::{Link, LinkAttach};
use bpfkit_kernel::prog::{ProgLoad, Program, LOG_LEVEL_ALL, LOG_LEVEL_BRANCHES};
use bpfkit_kernel::test_run::TestRun;
use bpfkit_kernel::{stats, Cmd, Error, IdKind};
use bpfkit_object::btf::int_encoding::SIGNED;
use bpfkit_object::btf::{BtfBuilder, Endian};
use bpfkit_object::kinds::{AttachType, ProgType};
use support::{asm, kernel_or_skip, CgroupGuard, PinGuard};

/// Bumps the first packet byte and passes; drops packets too short to touch.
const XDP_BUMP: &str = "
    r2 = *(u32 *)(r1 + 0)
    r3 = *(u32 *)(r1 + 4)
    r0 = 1
    r4 = r2
    r4 += 1
    if r4 > r3 goto out
    r5 = *(u8 *)(r2 + 0)
    r5 += 1
    *(u8 *)(r2 + 0) = r5
    r0 = 2
out:
    exit
";

fn load_xdp(name: &str) -> Program {
    let insns = asm(XDP_BUMP);
    let mut l = ProgLoad::new(ProgType::Xdp, &insns);
    l.name = name;
    l.load().unwrap()
}

#[test]
fn xdp_test_run_changes_the_packet() {
    if !kernel_or_skip("xdp_test_run_changes_the_packet") {
        return;
    }
    let p = load_xdp("bpfkit_xdp");
    let pkt = [0x41u8; 64];
    let r = TestRun {
        data_in: &pkt,
        repeat: 3,
        ..Default::default()
    }
    .run(p.fd())
    .unwrap();
    assert_eq!(r.retval, 2, "XDP_PASS");
    assert_eq!(r.data_out.len(), 64);
    // The kernel copies the packet in once and runs all repeats on it.
    assert_eq!(r.data_out[0], 0x44);
    assert_eq!(&r.data_out[1..], &pkt[1..]);
    // XDP's context in and out is struct xdp_md.
    let ctx = [0u8; 24];
    let r = TestRun {
        data_in: &pkt,
        ctx_in: Some(&ctx),
        ..Default::default()
    }
    .run(p.fd())
    .unwrap();
    assert_eq!(r.ctx_out.len(), 24);
    // The kernel refuses an XDP packet shorter than an Ethernet header.
    let e = TestRun {
        data_in: &[1, 2],
        ..Default::default()
    }
    .run(p.fd())
    .unwrap_err();
    assert_eq!(e.errno(), Some(libc::EINVAL));
    assert!(e.to_string().starts_with("BPF_PROG_TEST_RUN: "), "{e}");
}

#[test]
fn verifier_log_grows_until_complete() {
    if !kernel_or_skip("verifier_log_grows_until_complete") {
        return;
    }
    let insns = asm(XDP_BUMP);
    let mut l = ProgLoad::new(ProgType::Xdp, &insns);
    l.log_level = LOG_LEVEL_ALL;
    l.log_size = 128;
    let p = l.load().unwrap();
    assert!(p.log_sizes().len() > 1, "grew: {:?}", p.log_sizes());
    assert_eq!(p.log_sizes()[0], 128);
    assert!(p.log().contains("processed "), "{}", p.log());
    assert!(p.log().contains("r5 += 1"), "level 2 logs every insn");

    // A rejected program: the error carries the whole log.
    let bad = asm("exit");
    let mut l = ProgLoad::new(ProgType::SocketFilter, &bad);
    l.log_size = 128;
    let e = l.load().unwrap_err();
    match &e {
        Error::Rejected { cmd, errno, log } => {
            assert_eq!(*cmd, Cmd::ProgLoad);
            assert_eq!(*errno, libc::EACCES);
            assert!(log.contains("R0 !read_ok"), "{log}");
        }
        other => panic!("{other:?}"),
    }
    assert!(e.to_string().contains("R0 !read_ok"), "{e}");

    // Level 1 on a good program keeps the summary line.
    let mut l = ProgLoad::new(ProgType::Xdp, &insns);
    l.log_level = LOG_LEVEL_BRANCHES;
    let p = l.load().unwrap();
    assert!(p.log().contains("processed "), "{}", p.log());
}

#[test]
fn load_refuses_bad_arguments_before_the_kernel() {
    let insns = asm("r0 = 0\nexit");
    let mut l = ProgLoad::new(ProgType::Xdp, &insns);
    l.name = "this_name_is_far_too_long";
    let e = l.load().unwrap_err();
    assert!(
        matches!(e, Error::Invalid(ref s) if s.contains("at most 15")),
        "{e}"
    );
    let mut l = ProgLoad::new(ProgType::Xdp, &insns);
    l.func_info = &[0; 12];
    l.func_info_rec_size = 8;
    let e = l.load().unwrap_err();
    assert!(
        matches!(e, Error::Invalid(ref s) if s.contains("func_info")),
        "{e}"
    );
}

#[test]
fn info_ids_xlated_and_jited() {
    if !kernel_or_skip("info_ids_xlated_and_jited") {
        return;
    }
    let p = load_xdp("bpfkit_info");
    let i = ProgInfo::of_fd(
        p.fd(),
        ProgInfoArrays {
            xlated: true,
            jited: true,
        },
    )
    .unwrap();
    assert_eq!(i.prog_type, Some(ProgType::Xdp));
    assert_eq!(i.name, "bpfkit_info");
    assert!(i.gpl_compatible);
    assert_eq!(i.uid, 0);
    assert_eq!(i.tag_hex().len(), 16);
    assert_eq!(i.bytes_xlated as usize, i.xlated.len() * 8);
    assert!(!i.xlated.is_empty());
    assert_eq!(i.bytes_jited as usize, i.jited.len());
    assert!(i.bytes_memlock > 0);
    assert!(i.loaded_at_unix() > 1_600_000_000);
    // The loaded code decodes and disassembles.
    let text = bpfkit_isa::disasm::listing(&i.xlated, &Default::default());
    assert!(text.contains("exit"), "{text}");
    // Enumeration finds it; by id opens the same program.
    assert!(info::ids(IdKind::Prog).unwrap().contains(&i.id));
    let again = Program::from_id(i.id).unwrap();
    assert_eq!(again.info().unwrap().tag, i.tag);
    // A map's descriptor is not a program.
    let spec = bpfkit_object::map::MapSpec {
        name: String::new(),
        map_type: bpfkit_object::kinds::MapType::Array,
        key_size: 4,
        value_size: 4,
        max_entries: 1,
        map_flags: 0,
    };
    let m = bpfkit_kernel::map::KernelMap::create(&spec).unwrap();
    let e = ProgInfo::of_fd(m.fd(), ProgInfoArrays::default()).unwrap_err();
    assert!(e.to_string().contains("not a program"), "{e}");
    let e = Program::from_fd(m.into_fd()).unwrap_err();
    assert!(e.to_string().contains("not a program"), "{e}");
}

#[test]
fn pin_and_get_a_program() {
    if !kernel_or_skip("pin_and_get_a_program") {
        return;
    }
    let p = load_xdp("bpfkit_pin");
    let pin = PinGuard::new("prog");
    p.pin(pin.path()).unwrap();
    let got = Program::from_pin(pin.path()).unwrap();
    assert_eq!(got.id().unwrap(), p.id().unwrap());
    assert!(bpfkit_kernel::pin::is_bpffs(std::path::Path::new("/sys/fs/bpf")).unwrap());
}

#[test]
fn run_time_stats_count_test_runs() {
    if !kernel_or_skip("run_time_stats_count_test_runs") {
        return;
    }
    let p = load_xdp("bpfkit_stats");
    let guard = stats::enable_run_time_stats().unwrap();
    TestRun {
        data_in: &[0u8; 64],
        repeat: 5,
        ..Default::default()
    }
    .run(p.fd())
    .unwrap();
    let i = p.info().unwrap();
    drop(guard);
    assert!(i.run_cnt >= 5, "run_cnt {}", i.run_cnt);
}

#[test]
fn cgroup_link_create_info_detach() {
    if !kernel_or_skip("cgroup_link_create_info_detach") {
        return;
    }
    let Some(cg) = CgroupGuard::new("link") else {
        eprintln!("skipped: cgroup_link_create_info_detach: no cgroup2 mount");
        return;
    };
    let dir = std::fs::File::open(&cg.0).unwrap();
    let insns = asm("r0 = 1\nexit");
    let mut l = ProgLoad::new(ProgType::CgroupSkb, &insns);
    l.expected_attach_type = Some(AttachType::CgroupInetIngress);
    l.name = "bpfkit_cg";
    let p = l.load().unwrap();
    let link = Link::create(
        p.fd(),
        LinkAttach::Fd(dir.as_fd()),
        AttachType::CgroupInetIngress,
        0,
        0,
    )
    .unwrap();
    let i = link.info().unwrap();
    assert_eq!(i.prog_id, p.id().unwrap());
    assert_eq!(i.attach_type(), Some(AttachType::CgroupInetIngress));
    use std::os::unix::fs::MetadataExt;
    let ino = std::fs::metadata(&cg.0).unwrap().ino();
    assert_eq!(
        i.target,
        LinkTarget::Cgroup {
            cgroup_id: ino,
            attach_type: AttachType::CgroupInetIngress.raw()
        }
    );
    assert!(info::ids(IdKind::Link).unwrap().contains(&i.id));
    let by_id = Link::from_id(i.id).unwrap();
    link.detach().unwrap();
    match by_id.info().unwrap().target {
        LinkTarget::Cgroup { cgroup_id, .. } => assert_eq!(cgroup_id, 0, "detached"),
        other => panic!("{other:?}"),
    }
}

/// A BTF blob with one type, `int`.
fn int_btf() -> Vec<u8> {
    let mut b = BtfBuilder::new();
    b.int("int", 4, SIGNED);
    b.encode(Endian::HOST)
}

/// [`int_btf`] with the string section's last NUL cut off (the header's
/// `str_len` one shorter), which the kernel refuses.
fn unterminated_int_btf() -> Vec<u8> {
    let mut blob = int_btf();
    blob.pop();
    let str_len = u32::from_ne_bytes(blob[20..24].try_into().unwrap());
    blob[20..24].copy_from_slice(&(str_len - 1).to_ne_bytes());
    blob
}

#[test]
fn btf_load_info_and_log() {
    if !kernel_or_skip("btf_load_info_and_log") {
        return;
    }
    let blob = int_btf();
    let btf = KernelBtf::load(&blob, 1).unwrap();
    let i = btf.info(true).unwrap();
    assert_eq!(i.data, blob);
    assert_eq!(i.size as usize, blob.len());
    assert!(!i.kernel);
    assert!(info::ids(IdKind::Btf).unwrap().contains(&i.id));
    assert_eq!(
        KernelBtf::from_id(i.id).unwrap().info(false).unwrap().id,
        i.id
    );
    let e = KernelBtf::load(&unterminated_int_btf(), 0).unwrap_err();
    assert_eq!(e.errno(), Some(libc::EINVAL));
    assert!(!e.log().unwrap_or("").is_empty(), "{e:?}");
    // vmlinux is BTF object with a name.
    let vmlinux = info::ids(IdKind::Btf)
        .unwrap()
        .into_iter()
        .filter_map(|id| KernelBtf::from_id(id).ok())
        .filter_map(|b| b.info(false).ok())
        .find(|i| i.name == "vmlinux");
    assert!(vmlinux.is_some_and(|v| v.kernel));
}

/// BTF for one function, `int prog(void)` [3], and the offsets of the
/// strings a line record needs: the file "t.c" and the line "return 2;".
fn func_btf() -> (Vec<u8>, u32, u32) {
    let mut b = BtfBuilder::new();
    let int = b.int("", 4, SIGNED);
    let proto = b.func_proto(int, &[]);
    let func = b.func("prog", proto, 1);
    assert_eq!(func, 3);
    let (file, line) = (b.string("t.c"), b.string("return 2;"));
    (b.encode(Endian::HOST), file, line)
}

fn records(words: &[u32]) -> Vec<u8> {
    words.iter().flat_map(|w| w.to_ne_bytes()).collect()
}

#[test]
fn func_and_line_info_with_prog_btf_and_freplace() {
    if !kernel_or_skip("func_and_line_info_with_prog_btf_and_freplace") {
        return;
    }
    let (blob, file, line) = func_btf();
    let btf = KernelBtf::load(&blob, 0).unwrap();
    let insns = asm("r0 = 2\nexit");
    // struct bpf_func_info { insn_off, type_id }
    let func_info = records(&[0, 3]);
    // struct bpf_line_info { insn_off, file_name_off, line_off, line_col }
    let line_info = records(&[0, file, line, (7 << 10) | 5]);
    let mut l = ProgLoad::new(ProgType::Xdp, &insns);
    l.name = "prog";
    l.prog_btf_fd = Some(btf.fd());
    l.func_info = &func_info;
    l.func_info_rec_size = 8;
    l.line_info = &line_info;
    l.line_info_rec_size = 16;
    l.log_level = LOG_LEVEL_BRANCHES;
    let p = l.load().unwrap();
    let i = p.info().unwrap();
    assert_eq!(i.btf_id, btf.info(false).unwrap().id);
    assert_eq!((i.nr_func_info, i.nr_line_info), (1, 1));
    // A record size the kernel does not know is refused with its errno.
    let mut bad = l.clone();
    bad.func_info_rec_size = 4;
    bad.func_info = &func_info[..4];
    let e = bad.load().unwrap_err();
    assert!(e.errno().is_some(), "{e}");

    // freplace: an extension program replacing `prog` in the loaded one,
    // by attach_prog_fd and attach_btf_id (the FUNC's id).
    let ext_insns = asm("r0 = 1\nexit");
    let mut ext = ProgLoad::new(ProgType::Ext, &ext_insns);
    ext.attach_prog_fd = Some(p.fd());
    ext.attach_btf_id = 3;
    ext.prog_btf_fd = Some(btf.fd());
    ext.func_info = &func_info;
    ext.func_info_rec_size = 8;
    ext.name = "prog";
    let e = ext.load();
    match e {
        Ok(x) => {
            let xi = x.info().unwrap();
            assert_eq!(xi.prog_type, Some(ProgType::Ext));
            assert_eq!(xi.attach_btf_id, 3);
        }
        // Some kernels refuse tracing-class programs outright (EPERM before
        // the verifier runs, as bpftool's probes also find here).
        Err(e) if e.errno() == Some(libc::EPERM) && e.log() == Some("") => {
            eprintln!("skipped: freplace part: this kernel refuses EXT programs: {e}");
        }
        Err(e) => {
            // Past the permission check the verifier must say why.
            assert!(!e.log().unwrap_or("").is_empty(), "{e}");
            eprintln!("freplace refused: {e}");
        }
    }
}

#[test]
fn bpffs_mounts_where_asked() {
    if !kernel_or_skip("bpffs_mounts_where_asked") {
        return;
    }
    struct Mounted(std::path::PathBuf);
    impl Drop for Mounted {
        fn drop(&mut self) {
            let _ = std::process::Command::new("umount").arg(&self.0).status();
            let _ = std::fs::remove_dir(&self.0);
        }
    }
    let dir = std::env::temp_dir().join(format!("bpfkit-bpffs-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let m = Mounted(dir.clone());
    assert!(!bpfkit_kernel::pin::is_bpffs(&dir).unwrap());
    bpfkit_kernel::pin::mount_bpffs(&m.0).unwrap();
    assert!(bpfkit_kernel::pin::is_bpffs(&m.0).unwrap());
    let p = load_xdp("bpfkit_fs");
    let path = m.0.join("p");
    p.pin(&path).unwrap();
    assert_eq!(
        Program::from_pin(&path).unwrap().id().unwrap(),
        p.id().unwrap()
    );
    bpfkit_kernel::pin::unpin(&path).unwrap();
}

#[test]
fn raw_tracepoint_test_run_on_a_cpu() {
    if !kernel_or_skip("raw_tracepoint_test_run_on_a_cpu") {
        return;
    }
    // Returns its first argument; raw tracepoint runs take only a context
    // (the arguments) and may be pinned to a CPU.
    let insns = asm("r0 = *(u64 *)(r1 + 0)\nexit");
    let p = ProgLoad::new(ProgType::RawTracepoint, &insns)
        .load()
        .unwrap();
    let args = 7u64.to_ne_bytes();
    let r = TestRun {
        ctx_in: Some(&args),
        ctx_size_out: Some(0),
        flags: bpfkit_kernel::test_run::BPF_F_TEST_RUN_ON_CPU,
        cpu: 0,
        ..Default::default()
    }
    .run(p.fd())
    .unwrap();
    assert_eq!(r.retval, 7);
    // A CPU that does not exist is refused.
    let e = TestRun {
        ctx_in: Some(&args),
        ctx_size_out: Some(0),
        flags: bpfkit_kernel::test_run::BPF_F_TEST_RUN_ON_CPU,
        cpu: 1 << 20,
        ..Default::default()
    }
    .run(p.fd())
    .unwrap_err();
    assert!(e.errno().is_some(), "{e}");
}
