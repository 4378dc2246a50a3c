//! `struct __sk_buff`, the context of socket filter, TC and cgroup skb
//! programs, with each program type's access rules
//! (`sk_filter_is_valid_access`, `tc_cls_act_is_valid_access`,
//! `cg_skb_is_valid_access`, and `bpf_skb_is_valid_access` under them).

use super::{check_bounds, narrow, Context, Denied, PacketPointers};

/// `sizeof(struct __sk_buff)`.
const SIZE: u32 = 192;
const LEN: u32 = 0;
const PKT_TYPE: u32 = 4;
const MARK: u32 = 8;
const QUEUE_MAPPING: u32 = 12;
const PROTOCOL: u32 = 16;
const VLAN_PRESENT: u32 = 20;
const VLAN_TCI: u32 = 24;
const VLAN_PROTO: u32 = 28;
const PRIORITY: u32 = 32;
const INGRESS_IFINDEX: u32 = 36;
const IFINDEX: u32 = 40;
const TC_INDEX: u32 = 44;
const CB: u32 = 48;
const CB_END: u32 = 68;
const HASH: u32 = 68;
const TC_CLASSID: u32 = 72;
const DATA: u32 = 76;
const DATA_END: u32 = 80;
const NAPI_ID: u32 = 84;
const FAMILY: u32 = 88;
const REMOTE_IP4: u32 = 92;
const LOCAL_IP4: u32 = 96;
const REMOTE_IP6: u32 = 100;
const LOCAL_IP6: u32 = 116;
const REMOTE_PORT: u32 = 132;
const LOCAL_PORT: u32 = 136;
const SOCK_FIELDS_END: u32 = 140;
const DATA_META: u32 = 140;
const FLOW_KEYS: u32 = 144;
const TSTAMP: u32 = 152;
const WIRE_LEN: u32 = 160;
const GSO_SEGS: u32 = 164;
const SK: u32 = 168;
const GSO_SIZE: u32 = 176;
const TSTAMP_TYPE: u32 = 180;
const HWTSTAMP: u32 = 184;

/// Which program type's rules apply to the `__sk_buff`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SkbKind {
    /// `BPF_PROG_TYPE_SOCKET_FILTER`: reads of the skb fields, writes to
    /// `cb[]` only; no packet pointers.
    SocketFilter,
    /// `BPF_PROG_TYPE_SCHED_CLS` and `SCHED_ACT`: packet pointers, writes
    /// to mark, tc_index, priority, tc_classid, cb[], tstamp and
    /// queue_mapping.
    #[default]
    Tc,
    /// `BPF_PROG_TYPE_CGROUP_SKB`: the socket's address fields, writes to
    /// mark, priority, cb[] and tstamp.
    CgroupSkb,
}

/// The `__sk_buff` fields a program sees, besides the packet pointers
/// (which come from the packet) and `len` (its length).
///
/// Values are as the program reads them: `protocol`, `vlan_proto`, the
/// addresses and `remote_port` in network byte order (as the kernel keeps
/// them), `local_port` in host order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[allow(missing_docs)]
pub struct SkBuff {
    pub kind: SkbKind,
    /// Whether `skb->data` is at the network header, with the 14-byte
    /// Ethernet header just before it in the buffer (`eth_type_trans`
    /// pulled it: socket filter and cgroup skb programs under
    /// `BPF_PROG_TEST_RUN`), rather than at the MAC header (TC, and a
    /// packet socket's filter). `bpf_skb_load_bytes_relative` finds the
    /// headers by it.
    pub l2_pulled: bool,
    pub pkt_type: u32,
    pub mark: u32,
    pub queue_mapping: u32,
    pub protocol: u32,
    pub vlan_present: u32,
    pub vlan_tci: u32,
    pub vlan_proto: u32,
    pub priority: u32,
    pub ingress_ifindex: u32,
    pub ifindex: u32,
    pub tc_index: u32,
    /// `cb[5]`, as bytes: programs may access it at any size.
    pub cb: [u8; 20],
    pub hash: u32,
    pub tc_classid: u32,
    pub napi_id: u32,
    pub family: u32,
    pub remote_ip4: u32,
    pub local_ip4: u32,
    pub remote_ip6: [u32; 4],
    pub local_ip6: [u32; 4],
    pub remote_port: u32,
    pub local_port: u32,
    pub tstamp: u64,
    pub wire_len: u32,
    pub gso_segs: u32,
    pub gso_size: u32,
    pub tstamp_type: u8,
    pub hwtstamp: u64,
    /// `skb->ip_summed` as `bpf_csum_level` sees it: `None` for
    /// `CHECKSUM_NONE` (how every test-run skb starts), `Some(level)` for
    /// `CHECKSUM_UNNECESSARY` with that `csum_level` (0 to 3).
    pub csum_unnecessary: Option<u8>,
}

impl SkBuff {
    /// The program type's own rules, before the common ones.
    fn type_rules(&self, off: u32, size: u32, write: bool) -> Result<(), Denied> {
        let sock_fields = (FAMILY..SOCK_FIELDS_END).contains(&off);
        match self.kind {
            SkbKind::SocketFilter => {
                if matches!(off, TC_CLASSID | DATA | DATA_META | DATA_END | WIRE_LEN)
                    || sock_fields
                    || (TSTAMP..TSTAMP + 8).contains(&off)
                    || (HWTSTAMP..SIZE).contains(&off)
                {
                    return Err(Denied("not accessible to socket filters"));
                }
                if write && !(CB..CB_END).contains(&off) {
                    return Err(Denied("socket filters may write only cb[]"));
                }
            }
            SkbKind::Tc => {
                if write
                    && !matches!(off, MARK | TC_INDEX | PRIORITY | TC_CLASSID | QUEUE_MAPPING)
                    && !(CB..CB_END).contains(&off)
                    && !(TSTAMP..TSTAMP + 8).contains(&off)
                {
                    return Err(Denied("TC programs may not write this field"));
                }
                if sock_fields {
                    return Err(Denied("socket fields are not accessible to TC programs"));
                }
            }
            SkbKind::CgroupSkb => {
                if matches!(off, TC_CLASSID | DATA_META | WIRE_LEN) {
                    return Err(Denied("not accessible to cgroup skb programs"));
                }
                if write
                    && !matches!(off, MARK | PRIORITY)
                    && !(CB..CB_END).contains(&off)
                    && !(TSTAMP..TSTAMP + 8).contains(&off)
                {
                    return Err(Denied("cgroup skb programs may not write this field"));
                }
            }
        }
        let _ = size;
        Ok(())
    }

    /// `bpf_skb_is_valid_access`: the rules every skb program type shares.
    fn common_rules(off: u32, size: u32, write: bool) -> Result<(), Denied> {
        check_bounds(off, size, SIZE)?;
        match off {
            CB..CB_END if off + size > CB_END => return Err(Denied("access runs past cb[4]")),
            CB..CB_END => {}
            REMOTE_IP6..REMOTE_PORT | REMOTE_IP4 | LOCAL_IP4 | DATA | DATA_META | DATA_END
                if size != 4 =>
            {
                return Err(Denied("this field is accessed as 4 bytes only"))
            }
            FLOW_KEYS..TSTAMP => return Err(Denied("flow_keys is not accessible here")),
            HWTSTAMP..SIZE if write || size != 8 => {
                return Err(Denied("hwtstamp is read as 8 bytes only"))
            }
            TSTAMP..WIRE_LEN if size != 8 => {
                return Err(Denied("tstamp is accessed as 8 bytes only"))
            }
            SK..GSO_SIZE if write || size != 8 => {
                return Err(Denied("sk is read as an 8-byte pointer only"))
            }
            TSTAMP_TYPE..HWTSTAMP => return Err(Denied("tstamp_type and padding")),
            HWTSTAMP..SIZE | TSTAMP..WIRE_LEN | SK..GSO_SIZE => {}
            _ if write && size != 4 => return Err(Denied("fields are written as 4 bytes")),
            _ if size > 4 => return Err(Denied("fields are read as at most 4 bytes")),
            _ => {}
        }
        Ok(())
    }

    /// The 32-bit field at `field` (its aligned offset).
    fn field(&self, field: u32, p: &PacketPointers) -> u32 {
        match field {
            LEN => p.data_end.saturating_sub(p.data) as u32,
            PKT_TYPE => self.pkt_type,
            MARK => self.mark,
            QUEUE_MAPPING => self.queue_mapping,
            PROTOCOL => self.protocol,
            VLAN_PRESENT => self.vlan_present,
            VLAN_TCI => self.vlan_tci,
            VLAN_PROTO => self.vlan_proto,
            PRIORITY => self.priority,
            INGRESS_IFINDEX => self.ingress_ifindex,
            IFINDEX => self.ifindex,
            TC_INDEX => self.tc_index,
            HASH => self.hash,
            TC_CLASSID => self.tc_classid,
            NAPI_ID => self.napi_id,
            FAMILY => self.family,
            REMOTE_IP4 => self.remote_ip4,
            LOCAL_IP4 => self.local_ip4,
            REMOTE_IP6..LOCAL_IP6 => self.remote_ip6[((field - REMOTE_IP6) / 4) as usize],
            LOCAL_IP6..REMOTE_PORT => self.local_ip6[((field - LOCAL_IP6) / 4) as usize],
            REMOTE_PORT => self.remote_port,
            LOCAL_PORT => self.local_port,
            WIRE_LEN => self.wire_len,
            GSO_SEGS => self.gso_segs,
            GSO_SIZE => self.gso_size,
            _ => 0,
        }
    }
}

impl Context for SkBuff {
    fn name(&self) -> &'static str {
        "struct __sk_buff"
    }

    fn as_skb_mut(&mut self) -> Option<&mut SkBuff> {
        Some(self)
    }

    fn header_offsets(&self) -> Option<(isize, isize)> {
        Some(if self.l2_pulled { (-14, 0) } else { (0, 14) })
    }

    fn load(&self, off: u32, size: u32, p: &PacketPointers) -> Result<u64, Denied> {
        if self.kind == SkbKind::Tc && off == TSTAMP_TYPE {
            // TC reads tstamp_type as one byte (`tc_cls_act_is_valid_access`).
            return if size == 1 {
                Ok(self.tstamp_type as u64)
            } else {
                Err(Denied("tstamp_type is read as 1 byte"))
            };
        }
        self.type_rules(off, size, false)?;
        Self::common_rules(off, size, false)?;
        Ok(match off {
            DATA => p.data,
            DATA_END => p.data_end,
            DATA_META => p.data_meta,
            TSTAMP => self.tstamp,
            HWTSTAMP => self.hwtstamp,
            // No socket is attached to a userspace skb.
            SK => 0,
            CB..CB_END => {
                let at = (off - CB) as usize;
                let mut b = [0u8; 8];
                b[..size as usize].copy_from_slice(&self.cb[at..at + size as usize]);
                u64::from_le_bytes(b)
            }
            _ => {
                let field = off & !3;
                narrow(self.field(field, p), field, off, size)
            }
        })
    }

    fn store(&mut self, off: u32, size: u32, value: u64) -> Result<(), Denied> {
        self.type_rules(off, size, true)?;
        Self::common_rules(off, size, true)?;
        let v = value as u32;
        match off {
            CB..CB_END => {
                let at = (off - CB) as usize;
                let n = size as usize;
                self.cb[at..at + n].copy_from_slice(&value.to_le_bytes()[..n]);
            }
            MARK => self.mark = v,
            PRIORITY => self.priority = v,
            TC_INDEX => self.tc_index = v,
            TC_CLASSID => self.tc_classid = v,
            // The kernel ignores values at or above NO_QUEUE_MAPPING.
            QUEUE_MAPPING if v < 0xffff => self.queue_mapping = v,
            QUEUE_MAPPING => {}
            TSTAMP => self.tstamp = value,
            _ => return Err(Denied("this field is not writable")),
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const P: PacketPointers = PacketPointers {
        data: 0x2_0000_0040,
        data_end: 0x2_0000_0080,
        data_meta: 0x2_0000_0040,
    };

    fn skb(kind: SkbKind) -> SkBuff {
        SkBuff {
            kind,
            protocol: 0x0008,
            mark: 0x1122_3344,
            ..SkBuff::default()
        }
    }

    #[test]
    fn tc_sees_pointers_len_and_narrow_fields() {
        let s = skb(SkbKind::Tc);
        assert_eq!(s.load(DATA, 4, &P), Ok(P.data));
        assert_eq!(s.load(DATA_END, 4, &P), Ok(P.data_end));
        assert_eq!(s.load(LEN, 4, &P), Ok(0x40));
        assert_eq!(s.load(MARK, 4, &P), Ok(0x1122_3344));
        assert_eq!(s.load(MARK, 1, &P), Ok(0x44));
        assert_eq!(s.load(MARK + 2, 2, &P), Ok(0x1122));
        assert_eq!(s.load(PROTOCOL, 2, &P), Ok(0x0008));
        assert!(s.load(DATA, 2, &P).is_err());
        assert!(s.load(MARK, 8, &P).is_err());
        assert!(s.load(FAMILY, 4, &P).is_err());
        assert!(s.load(FLOW_KEYS, 8, &P).is_err());
    }

    #[test]
    fn writes_follow_each_program_type() {
        let mut tc = skb(SkbKind::Tc);
        tc.store(MARK, 4, 7).unwrap();
        tc.store(TC_CLASSID, 4, 0x10001).unwrap();
        tc.store(CB + 8, 8, 0x0102_0304_0506_0708).unwrap();
        assert!(tc.store(CB + 4, 8, 1).is_err(), "misaligned");
        tc.store(TSTAMP, 8, 99).unwrap();
        assert_eq!((tc.mark, tc.tc_classid, tc.tstamp), (7, 0x10001, 99));
        assert_eq!(tc.load(CB + 8, 4, &P), Ok(0x0506_0708));
        assert!(tc.store(LEN, 4, 1).is_err());
        assert!(tc.store(MARK, 2, 1).is_err());
        assert!(tc.store(CB + 16, 8, 1).is_err());

        let mut sf = skb(SkbKind::SocketFilter);
        sf.store(CB, 4, 5).unwrap();
        assert!(sf.store(MARK, 4, 1).is_err());
        assert!(sf.load(DATA, 4, &P).is_err());
        assert!(sf.load(TC_CLASSID, 4, &P).is_err());
        assert_eq!(sf.load(LEN, 4, &P), Ok(0x40));

        let mut cg = skb(SkbKind::CgroupSkb);
        cg.store(PRIORITY, 4, 3).unwrap();
        assert!(cg.store(TC_INDEX, 4, 3).is_err());
        assert_eq!(cg.load(FAMILY, 4, &P), Ok(0));
        assert!(cg.load(DATA_META, 4, &P).is_err());
    }
}
