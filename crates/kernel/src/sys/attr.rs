//! The `union bpf_attr` members and `struct bpf_*_info` records of
//! `include/uapi/linux/bpf.h`, one `#[repr(C)]` struct per command family,
//! laid out byte for byte as the kernel reads them (checked by the offset
//! assertions at the bottom).
//!
//! Passing a member smaller than the kernel's whole union is how bpf(2) is
//! meant to be used: the kernel zero-fills what it does not get, and rejects
//! a larger attr only when the bytes it does not know are non-zero.
//!
//! Pointer fields are `u64` user addresses; only the command wrappers in this
//! module set them, from slices they borrow for the duration of the call.

/// `BPF_OBJ_NAME_LEN`: object names are at most 15 bytes plus a NUL.
pub const OBJ_NAME_LEN: usize = 16;
/// `BPF_TAG_SIZE`: a program tag is 8 bytes.
pub const TAG_SIZE: usize = 8;

/// The `BPF_MAP_CREATE` member.
#[repr(C)]
#[derive(Debug, Default, Clone, Copy)]
pub struct MapCreateAttr {
    pub map_type: u32,
    pub key_size: u32,
    pub value_size: u32,
    pub max_entries: u32,
    pub map_flags: u32,
    pub inner_map_fd: u32,
    pub numa_node: u32,
    pub map_name: [u8; OBJ_NAME_LEN],
    pub map_ifindex: u32,
    pub btf_fd: u32,
    pub btf_key_type_id: u32,
    pub btf_value_type_id: u32,
    pub btf_vmlinux_value_type_id: u32,
    pub map_extra: u64,
}

/// The `BPF_MAP_*_ELEM` member (also `BPF_MAP_FREEZE`, which reads `map_fd`).
#[repr(C)]
#[derive(Debug, Default, Clone, Copy)]
pub struct MapElemAttr {
    pub map_fd: u32,
    pub _pad: u32,
    pub key: u64,
    /// `value`, or `next_key` for `BPF_MAP_GET_NEXT_KEY`.
    pub value: u64,
    pub flags: u64,
}

/// The `BPF_MAP_*_BATCH` member.
#[repr(C)]
#[derive(Debug, Default, Clone, Copy)]
pub struct MapBatchAttr {
    pub in_batch: u64,
    pub out_batch: u64,
    pub keys: u64,
    pub values: u64,
    pub count: u32,
    pub map_fd: u32,
    pub elem_flags: u64,
    pub flags: u64,
}

/// The `BPF_PROG_LOAD` member, up to `log_true_size` (Linux 6.4).
#[repr(C)]
#[derive(Debug, Default, Clone, Copy)]
pub struct ProgLoadAttr {
    pub prog_type: u32,
    pub insn_cnt: u32,
    pub insns: u64,
    pub license: u64,
    pub log_level: u32,
    pub log_size: u32,
    pub log_buf: u64,
    pub kern_version: u32,
    pub prog_flags: u32,
    pub prog_name: [u8; OBJ_NAME_LEN],
    pub prog_ifindex: u32,
    pub expected_attach_type: u32,
    pub prog_btf_fd: u32,
    pub func_info_rec_size: u32,
    pub func_info: u64,
    pub func_info_cnt: u32,
    pub line_info_rec_size: u32,
    pub line_info: u64,
    pub line_info_cnt: u32,
    pub attach_btf_id: u32,
    /// `attach_prog_fd` or `attach_btf_obj_fd`.
    pub attach_prog_fd: u32,
    pub core_relo_cnt: u32,
    pub fd_array: u64,
    pub core_relos: u64,
    pub core_relo_rec_size: u32,
    /// Output: the log size the whole log needs (Linux 6.4+).
    pub log_true_size: u32,
}

/// The `BPF_OBJ_PIN` / `BPF_OBJ_GET` member.
#[repr(C)]
#[derive(Debug, Default, Clone, Copy)]
pub struct ObjAttr {
    pub pathname: u64,
    pub bpf_fd: u32,
    pub file_flags: u32,
}

/// The `BPF_PROG_TEST_RUN` member.
#[repr(C)]
#[derive(Debug, Default, Clone, Copy)]
pub struct TestRunAttr {
    pub prog_fd: u32,
    pub retval: u32,
    pub data_size_in: u32,
    pub data_size_out: u32,
    pub data_in: u64,
    pub data_out: u64,
    pub repeat: u32,
    pub duration: u32,
    pub ctx_size_in: u32,
    pub ctx_size_out: u32,
    pub ctx_in: u64,
    pub ctx_out: u64,
    pub flags: u32,
    pub cpu: u32,
    pub batch_size: u32,
    pub _pad: u32,
}

/// The `BPF_*_GET_NEXT_ID` / `BPF_*_GET_FD_BY_ID` member.
#[repr(C)]
#[derive(Debug, Default, Clone, Copy)]
pub struct IdAttr {
    /// `start_id` for next-id, the object id for fd-by-id.
    pub id: u32,
    pub next_id: u32,
    pub open_flags: u32,
    pub _pad: u32,
}

/// The `BPF_OBJ_GET_INFO_BY_FD` member.
#[repr(C)]
#[derive(Debug, Default, Clone, Copy)]
pub struct InfoAttr {
    pub bpf_fd: u32,
    pub info_len: u32,
    pub info: u64,
}

/// The `BPF_BTF_LOAD` member, up to `btf_log_true_size` (Linux 6.4).
#[repr(C)]
#[derive(Debug, Default, Clone, Copy)]
pub struct BtfLoadAttr {
    pub btf: u64,
    pub btf_log_buf: u64,
    pub btf_size: u32,
    pub btf_log_size: u32,
    pub btf_log_level: u32,
    pub btf_log_true_size: u32,
}

/// The `BPF_LINK_CREATE` member: the fixed head and the per-attach-type
/// union as raw words (`target_btf_id`, tcx's `relative_fd` and
/// `expected_revision`, ...), none of which are pointers here.
#[repr(C)]
#[derive(Debug, Default, Clone, Copy)]
pub struct LinkCreateAttr {
    pub prog_fd: u32,
    /// `target_fd` or `target_ifindex`.
    pub target: u32,
    pub attach_type: u32,
    pub flags: u32,
    pub extra: [u64; 4],
}

/// A member holding one `u32` (`link_detach.link_fd`, `enable_stats.type`,
/// `BPF_MAP_FREEZE`'s `map_fd`).
#[repr(C)]
#[derive(Debug, Default, Clone, Copy)]
pub struct U32Attr {
    pub value: u32,
    pub _pad: u32,
}

/// `struct bpf_prog_info` (Linux 6.18 layout).
#[repr(C)]
#[derive(Debug, Default, Clone, Copy)]
pub struct ProgInfoRaw {
    pub prog_type: u32,
    pub id: u32,
    pub tag: [u8; TAG_SIZE],
    pub jited_prog_len: u32,
    pub xlated_prog_len: u32,
    pub jited_prog_insns: u64,
    pub xlated_prog_insns: u64,
    pub load_time: u64,
    pub created_by_uid: u32,
    pub nr_map_ids: u32,
    pub map_ids: u64,
    pub name: [u8; OBJ_NAME_LEN],
    pub ifindex: u32,
    /// Bit 0: `gpl_compatible`.
    pub flags: u32,
    pub netns_dev: u64,
    pub netns_ino: u64,
    pub nr_jited_ksyms: u32,
    pub nr_jited_func_lens: u32,
    pub jited_ksyms: u64,
    pub jited_func_lens: u64,
    pub btf_id: u32,
    pub func_info_rec_size: u32,
    pub func_info: u64,
    pub nr_func_info: u32,
    pub nr_line_info: u32,
    pub line_info: u64,
    pub jited_line_info: u64,
    pub nr_jited_line_info: u32,
    pub line_info_rec_size: u32,
    pub jited_line_info_rec_size: u32,
    pub nr_prog_tags: u32,
    pub prog_tags: u64,
    pub run_time_ns: u64,
    pub run_cnt: u64,
    pub recursion_misses: u64,
    pub verified_insns: u32,
    pub attach_btf_obj_id: u32,
    pub attach_btf_id: u32,
    pub _pad: u32,
}

/// `struct bpf_map_info`.
#[repr(C)]
#[derive(Debug, Default, Clone, Copy)]
pub struct MapInfoRaw {
    pub map_type: u32,
    pub id: u32,
    pub key_size: u32,
    pub value_size: u32,
    pub max_entries: u32,
    pub map_flags: u32,
    pub name: [u8; OBJ_NAME_LEN],
    pub ifindex: u32,
    pub btf_vmlinux_value_type_id: u32,
    pub netns_dev: u64,
    pub netns_ino: u64,
    pub btf_id: u32,
    pub btf_key_type_id: u32,
    pub btf_value_type_id: u32,
    pub _pad: u32,
    pub map_extra: u64,
}

/// `struct bpf_btf_info`.
#[repr(C)]
#[derive(Debug, Default, Clone, Copy)]
pub struct BtfInfoRaw {
    pub btf: u64,
    pub btf_size: u32,
    pub id: u32,
    pub name: u64,
    pub name_len: u32,
    pub kernel_btf: u32,
}

/// `struct bpf_link_info`: the head and the per-link-type union as raw
/// words, decoded by [`crate::info`]. The wrappers leave every pointer in
/// the union zero, so the kernel only reports lengths there.
#[repr(C)]
#[derive(Debug, Default, Clone, Copy)]
pub struct LinkInfoRaw {
    pub link_type: u32,
    pub id: u32,
    pub prog_id: u32,
    pub _pad: u32,
    pub union: [u64; 8],
}

// The layout is the ABI: any drift from the kernel's offsets fails the build.
const _: () = {
    use core::mem::{offset_of, size_of};
    assert!(size_of::<MapCreateAttr>() == 72);
    assert!(offset_of!(MapCreateAttr, map_extra) == 64);
    assert!(size_of::<MapElemAttr>() == 32);
    assert!(size_of::<MapBatchAttr>() == 56);
    assert!(offset_of!(MapBatchAttr, elem_flags) == 40);
    assert!(offset_of!(ProgLoadAttr, prog_name) == 48);
    assert!(offset_of!(ProgLoadAttr, attach_btf_id) == 108);
    assert!(offset_of!(ProgLoadAttr, log_true_size) == 140);
    assert!(size_of::<ProgLoadAttr>() == 144);
    assert!(size_of::<ObjAttr>() == 16);
    assert!(offset_of!(TestRunAttr, ctx_out) == 56);
    assert!(offset_of!(TestRunAttr, batch_size) == 72);
    assert!(size_of::<InfoAttr>() == 16);
    assert!(size_of::<BtfLoadAttr>() == 32);
    assert!(offset_of!(LinkCreateAttr, extra) == 16);
    assert!(offset_of!(ProgInfoRaw, map_ids) == 56);
    assert!(offset_of!(ProgInfoRaw, name) == 64);
    assert!(offset_of!(ProgInfoRaw, btf_id) == 128);
    assert!(offset_of!(ProgInfoRaw, run_time_ns) == 192);
    assert!(offset_of!(ProgInfoRaw, attach_btf_id) == 224);
    assert!(size_of::<ProgInfoRaw>() == 232);
    assert!(offset_of!(MapInfoRaw, btf_id) == 64);
    assert!(size_of::<MapInfoRaw>() == 88);
    assert!(size_of::<BtfInfoRaw>() == 32);
    assert!(offset_of!(LinkInfoRaw, union) == 16);
};
