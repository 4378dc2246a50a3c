//! Links (`BPF_LINK_CREATE`, `BPF_LINK_DETACH`): a program attached to a
//! hook for as long as the link lives (closing the last reference detaches).

use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd};
use std::path::Path;

use bpfkit_object::kinds::AttachType;

use crate::error::{Error, Result};
use crate::fd::{kind_of, ObjKind};
use crate::info::LinkInfo;
use crate::sys::{self, IdKind};

/// Where `BPF_LINK_CREATE` attaches.
#[derive(Debug, Clone, Copy)]
pub enum LinkAttach<'a> {
    /// An object by descriptor: a cgroup directory, a netns, a map.
    Fd(BorrowedFd<'a>),
    /// A network device (XDP, tcx, netkit).
    Ifindex(u32),
    /// Nothing (tracing programs attach to their `attach_btf_id`).
    None,
}

/// A link, held open by its descriptor (closed on drop, which detaches it
/// unless it is pinned or otherwise referenced).
#[derive(Debug)]
pub struct Link {
    fd: OwnedFd,
}

impl Link {
    /// `BPF_LINK_CREATE`: attaches `prog` at `target` for `attach_type`.
    /// `target_btf_id` is the tracing target (0 for none).
    pub fn create(
        prog: BorrowedFd<'_>,
        target: LinkAttach<'_>,
        attach_type: AttachType,
        flags: u32,
        target_btf_id: u32,
    ) -> Result<Link> {
        let target = match target {
            LinkAttach::Fd(fd) => fd.as_raw_fd() as u32,
            LinkAttach::Ifindex(i) => i,
            LinkAttach::None => 0,
        };
        let extra = [u64::from(target_btf_id), 0, 0, 0];
        let fd = sys::link_create(prog, target, attach_type.raw(), flags, extra)?;
        Ok(Link { fd })
    }

    /// Wraps a link descriptor (refusing any other kind).
    pub fn from_fd(fd: OwnedFd) -> Result<Link> {
        match kind_of(fd.as_fd())? {
            ObjKind::Link => Ok(Link { fd }),
            other => Err(Error::Invalid(format!(
                "descriptor is a BPF {}, not a link",
                other.name()
            ))),
        }
    }

    /// Opens the link with this id.
    pub fn from_id(id: u32) -> Result<Link> {
        Link::from_fd(sys::fd_by_id(IdKind::Link, id)?)
    }

    /// Opens the link pinned at `path`.
    pub fn from_pin(path: &Path) -> Result<Link> {
        Link::from_fd(crate::pin::get(path)?)
    }

    /// `BPF_LINK_DETACH`: detaches now; the descriptor stays valid and its
    /// info then shows no target.
    pub fn detach(&self) -> Result<()> {
        sys::link_detach(self.fd())
    }

    /// The descriptor.
    pub fn fd(&self) -> BorrowedFd<'_> {
        self.fd.as_fd()
    }

    /// The link's info.
    pub fn info(&self) -> Result<LinkInfo> {
        LinkInfo::of_fd(self.fd())
    }

    /// Pins the link at `path` on bpffs.
    pub fn pin(&self, path: &Path) -> Result<()> {
        crate::pin::pin(self.fd(), path)
    }
}

impl AsFd for Link {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.fd()
    }
}
