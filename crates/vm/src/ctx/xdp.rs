//! `struct xdp_md`, the context of XDP programs.

use super::{check_bounds, Context, Denied, PacketPointers};

/// `sizeof(struct xdp_md)`.
const SIZE: u32 = 24;
const DATA: u32 = 0;
const DATA_END: u32 = 4;
const DATA_META: u32 = 8;
const INGRESS_IFINDEX: u32 = 12;
const RX_QUEUE_INDEX: u32 = 16;
const EGRESS_IFINDEX: u32 = 20;

/// The metadata of an XDP packet beyond its pointers.
///
/// Rules of `xdp_is_valid_access`: only aligned 4-byte reads; no writes;
/// `egress_ifindex` only for programs attached to a devmap
/// (`expected_attach_type == BPF_XDP_DEVMAP`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct XdpMd {
    /// `ingress_ifindex` (`rxq->dev->ifindex`).
    pub ingress_ifindex: u32,
    /// `rx_queue_index`.
    pub rx_queue_index: u32,
    /// `egress_ifindex` (`txq->dev->ifindex`), for devmap programs.
    pub egress_ifindex: u32,
    /// Whether the program was loaded for a devmap (`BPF_XDP_DEVMAP`).
    pub devmap: bool,
}

impl Context for XdpMd {
    fn name(&self) -> &'static str {
        "struct xdp_md"
    }

    fn load(&self, off: u32, size: u32, p: &PacketPointers) -> Result<u64, Denied> {
        check_bounds(off, size, SIZE)?;
        if size != 4 {
            return Err(Denied("xdp_md fields are read as 4 bytes only"));
        }
        Ok(match off {
            DATA => p.data,
            DATA_END => p.data_end,
            DATA_META => p.data_meta,
            INGRESS_IFINDEX => self.ingress_ifindex as u64,
            RX_QUEUE_INDEX => self.rx_queue_index as u64,
            EGRESS_IFINDEX if self.devmap => self.egress_ifindex as u64,
            EGRESS_IFINDEX => {
                return Err(Denied("egress_ifindex is only for BPF_XDP_DEVMAP programs"))
            }
            _ => return Err(Denied("outside the context")),
        })
    }

    fn store(&mut self, _off: u32, _size: u32, _value: u64) -> Result<(), Denied> {
        Err(Denied("xdp_md is read-only"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const P: PacketPointers = PacketPointers {
        data: 0x2_0000_0100,
        data_end: 0x2_0000_0140,
        data_meta: 0x2_0000_00f8,
    };

    #[test]
    fn pointers_come_out_whole_from_4_byte_loads() {
        let md = XdpMd::default();
        assert_eq!(md.load(DATA, 4, &P), Ok(P.data));
        assert_eq!(md.load(DATA_END, 4, &P), Ok(P.data_end));
        assert_eq!(md.load(DATA_META, 4, &P), Ok(P.data_meta));
    }

    #[test]
    fn the_kernel_rules_refuse_what_the_verifier_refuses() {
        let mut md = XdpMd {
            ingress_ifindex: 3,
            ..XdpMd::default()
        };
        assert_eq!(md.load(INGRESS_IFINDEX, 4, &P), Ok(3));
        assert!(md.load(DATA, 8, &P).is_err());
        assert!(md.load(INGRESS_IFINDEX, 2, &P).is_err());
        assert!(md.load(2, 4, &P).is_err());
        assert!(md.load(SIZE, 4, &P).is_err());
        assert!(md.load(EGRESS_IFINDEX, 4, &P).is_err());
        assert!(md.store(RX_QUEUE_INDEX, 4, 1).is_err());
        md.devmap = true;
        md.egress_ifindex = 9;
        assert_eq!(md.load(EGRESS_IFINDEX, 4, &P), Ok(9));
    }
}
