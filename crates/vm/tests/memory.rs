//! Checked memory: stack and input edges, extra regions, read-only
//! regions, diagnostics, and the legacy LD_ABS / LD_IND packet loads.

mod harness;
use harness::{fails, fails_mem, r0, run_mem, vm};

use bpfkit_vm::memory::region_base;
use bpfkit_vm::{Access, FaultKind, Region, VmError, INPUT_BASE, STACK_BASE, STACK_SIZE};

const TOP: u64 = STACK_BASE + STACK_SIZE as u64;

fn fault(e: VmError) -> (usize, Access, u64, usize, FaultKind) {
    match e {
        VmError::MemoryFault {
            pc,
            access,
            addr,
            size,
            kind,
            ..
        } => (pc, access, addr, size, kind),
        other => panic!("expected a memory fault, got {other}"),
    }
}

#[test]
fn stack_frame_edges() {
    assert_eq!(r0("mov %r0, %r10\nexit"), TOP);
    assert_eq!(r0("stb [%r10-512], 7\nldxb %r0, [%r10-512]\nexit"), 7);
    assert_eq!(r0("stdw [%r10-8], 9\nldxdw %r0, [%r10-8]\nexit"), 9);
    let below = fault(fails("mov %r0, 0\nstb [%r10-513], 1\nexit"));
    assert_eq!(
        below,
        (1, Access::Write, TOP - 513, 1, FaultKind::OutOfBounds)
    );
    // A load that straddles the top of the frame, and one above it.
    let straddle = fault(fails("ldxdw %r0, [%r10-4]\nexit"));
    assert_eq!(
        straddle,
        (0, Access::Read, TOP - 4, 8, FaultKind::OutOfBounds)
    );
    let above = fault(fails("ldxb %r0, [%r10+0]\nexit"));
    assert_eq!(above, (0, Access::Read, TOP, 1, FaultKind::OutOfBounds));
}

#[test]
fn input_edges() {
    let mut mem = [1, 2, 3, 4];
    assert_eq!(
        run_mem("ldxw %r0, [%r1]\nexit", &mut mem).unwrap().r0,
        0x0403_0201
    );
    assert_eq!(run_mem("ldxb %r0, [%r1+3]\nexit", &mut mem).unwrap().r0, 4);
    let past = fault(fails_mem("ldxb %r0, [%r1+4]\nexit", &mut mem));
    assert_eq!(
        past,
        (0, Access::Read, INPUT_BASE + 4, 1, FaultKind::OutOfBounds)
    );
    let straddle = fault(fails_mem("stw [%r1+1], 0\nexit", &mut mem));
    assert_eq!(
        straddle,
        (0, Access::Write, INPUT_BASE + 1, 4, FaultKind::OutOfBounds)
    );
    let before = fault(fails_mem("ldxb %r0, [%r1-1]\nexit", &mut mem));
    assert_eq!(
        before,
        (0, Access::Read, INPUT_BASE - 1, 1, FaultKind::OutOfBounds)
    );
    // r1 and r2 describe the input; stores reach the caller's buffer.
    assert_eq!(
        run_mem("mov %r0, %r1\nexit", &mut mem).unwrap().r0,
        INPUT_BASE
    );
    assert_eq!(run_mem("mov %r0, %r2\nexit", &mut mem).unwrap().r0, 4);
    run_mem("sth [%r1+2], 0x0a0b\nmov %r0, 0\nexit", &mut mem).unwrap();
    assert_eq!(mem, [1, 2, 0x0b, 0x0a]);
}

#[test]
fn null_and_wild_pointers_fault() {
    // Empty input: r1 = 0, which no region contains.
    assert_eq!(r0("mov %r0, %r1\nexit"), 0);
    let null = fault(fails("ldxb %r0, [%r1]\nexit"));
    assert_eq!(null, (0, Access::Read, 0, 1, FaultKind::OutOfBounds));
    // Address arithmetic wraps rather than overflowing.
    let wrapped = fault(fails(
        "lddw %r1, 0xffffffffffffffff\nldxh %r0, [%r1+1]\nexit",
    ));
    assert_eq!(wrapped, (2, Access::Read, 0, 2, FaultKind::OutOfBounds));
    let wild = fault(fails("lddw %r1, 0x7fff00000010\nstxdw [%r1], %r1\nexit"));
    assert_eq!(wild.2, 0x7fff_0000_0010);
    let atomic = fault(fails("mov %r1, 8\nlock add [%r1], %r1\nexit"));
    assert_eq!(atomic, (1, Access::Write, 8, 8, FaultKind::OutOfBounds));
}

#[test]
fn fault_messages_name_the_instruction_address_and_region() {
    let mut mem = [0u8; 12];
    let e = fails_mem("mov %r0, 0\nldxw %r0, [%r1+12]\nexit", &mut mem);
    assert_eq!(
        e.to_string(),
        "instruction 1: out-of-bounds read of 4 bytes at 0x20000000c \
         (input is 12 bytes at 0x200000000..0x20000000c)"
    );
    assert_eq!(e.pc(), Some(1));
    let e = fails("stdw [%r1+16], 0\nexit");
    assert_eq!(
        e.to_string(),
        "instruction 0: out-of-bounds write of 8 bytes at 0x10 (no region)"
    );
    let e = fails("stb [%r10-513], 0\nexit");
    assert_eq!(
        e.to_string(),
        "instruction 0: out-of-bounds write of 1 bytes at 0x100000dff \
         (stack frame is 512 bytes at 0x100000e00..0x100001000)"
    );
}

#[test]
fn extra_regions_are_reachable_and_read_only_ones_refuse_writes() {
    let src = "lddw %r3, 0x300000000\nlddw %r4, 0x400000000\n\
               ldxw %r0, [%r3+0]\nstxw [%r4+0], %r0\nexit";
    assert_eq!(region_base(0), 0x3_0000_0000);
    let ro = [0x11, 0x22, 0x33, 0x44];
    let mut rw = [0u8; 4];
    let mut regions = [
        Region::read_only("rodata", &ro),
        Region::writable("scratch", &mut rw),
    ];
    let out = vm(src).run_with_regions(&mut [], &mut regions).unwrap();
    assert_eq!(out.r0, 0x4433_2211);
    assert_eq!(regions[1].bytes(), &[0x11, 0x22, 0x33, 0x44]);

    let write_ro = "lddw %r3, 0x300000000\nstb [%r3+1], 0\nexit";
    let mut regions = [Region::read_only("rodata", &ro)];
    let e = vm(write_ro)
        .run_with_regions(&mut [], &mut regions)
        .unwrap_err();
    assert_eq!(
        fault(e.clone()),
        (2, Access::Write, 0x3_0000_0001, 1, FaultKind::ReadOnly)
    );
    assert_eq!(
        e.to_string(),
        "instruction 2: read-only write of 1 bytes at 0x300000001 \
         (rodata is 4 bytes at 0x300000000..0x300000004)"
    );
    // Past the end of a read-only region is out of bounds, not read-only.
    let past = "lddw %r3, 0x300000000\nstb [%r3+4], 0\nexit";
    let e = vm(past)
        .run_with_regions(&mut [], &mut regions)
        .unwrap_err();
    assert_eq!(fault(e).4, FaultKind::OutOfBounds);
    // Regions that were not passed do not exist.
    let e = vm("lddw %r3, 0x500000000\nldxb %r0, [%r3]\nexit")
        .run(&mut [])
        .unwrap_err();
    assert_eq!(fault(e).2, 0x5_0000_0000);
}

#[test]
fn stack_contents_persist_between_runs_unless_cleared() {
    let src = "ldxdw %r0, [%r10-8]\nstdw [%r10-8], 77\nexit";
    let mut v = vm(src);
    assert_eq!(v.run(&mut []).unwrap().r0, 0, "a new VM's stack is zeroed");
    assert_eq!(v.run(&mut []).unwrap().r0, 77);
    v.set_clear_stack(true);
    assert_eq!(v.run(&mut []).unwrap().r0, 0);
}

#[test]
fn ld_abs_and_ld_ind_load_big_endian_from_the_input() {
    let mut pkt = [0x12, 0x34, 0x56, 0x78, 0x9a];
    let mut run = |src: &str| run_mem(src, &mut pkt).unwrap();
    assert_eq!(run("ldabsb 0\nexit").r0, 0x12);
    assert_eq!(run("ldabsh 1\nexit").r0, 0x3456);
    assert_eq!(run("ldabsw 1\nexit").r0, 0x3456_789a);
    assert_eq!(run("mov %r2, 1\nldindh %r2, 2\nexit").r0, 0x789a);
    // LD_IND adds in 32 bits, as the kernel does.
    assert_eq!(run("lddw %r2, 0x100000001\nldindb %r2, 0\nexit").r0, 0x34);
    // The result replaces all of r0.
    assert_eq!(run("mov %r0, -1\nldabsb 4\nexit").r0, 0x9a);
}

#[test]
fn out_of_bounds_packet_loads_return_zero_from_the_program() {
    let mut pkt = [0x12, 0x34, 0x56, 0x78, 0x9a];
    // The kernel's rewrite: `r0 = 0; exit` -- the next instructions never run.
    let out = run_mem("mov %r0, 5\nldabsw 2\nmov %r0, 7\nexit", &mut pkt).unwrap();
    assert_eq!((out.r0, out.insn_count), (0, 2));
    assert_eq!(run_mem("ldabsb 5\nexit", &mut pkt).unwrap().r0, 0);
    assert_eq!(run_mem("ldabsb -1\nexit", &mut pkt).unwrap().r0, 0);
    // A negative LD_IND offset (the kernel's SKF_* areas) is out of bounds too.
    assert_eq!(
        run_mem("mov %r2, -1\nldindb %r2, 1\nexit", &mut pkt)
            .unwrap()
            .r0,
        0x12
    );
    assert_eq!(
        run_mem("mov %r2, -2\nldindb %r2, 1\nexit", &mut pkt)
            .unwrap()
            .r0,
        0
    );
    assert_eq!(run_mem("ldabsb 0\nexit", &mut []).unwrap().r0, 0);
    // In a subprogram the exit returns from that subprogram only.
    let sub = "call local f\nadd %r0, 100\nexit\nf:\nldabsw 100\nmov %r0, 5\nexit";
    assert_eq!(run_mem(sub, &mut pkt).unwrap().r0, 100);
}
