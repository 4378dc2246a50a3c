//! Where objects are pinned (bpftool's `--bpffs`): every file on every
//! mounted bpf filesystem, opened to learn which object it is.

use std::collections::BTreeMap;
use std::os::fd::AsFd;
use std::path::{Path, PathBuf};

use bpfkit_kernel::fd::{kind_of, ObjKind};
use bpfkit_kernel::info::{LinkInfo, MapInfo, ProgInfo, ProgInfoArrays};
use bpfkit_kernel::pin;

/// How deep a bpffs tree is walked (bpftool's nftw has no limit; a bound
/// keeps a pathological tree from hanging the command).
const MAX_DEPTH: usize = 32;

/// The pins a `show` command prints, as bpftool does: none without
/// `--bpffs`; with it, once any object of the kind is pinned, a list for
/// every object (empty for an unpinned one).
pub struct Pins(BTreeMap<u32, Vec<String>>);

impl Pins {
    /// The pins of every object of `kind` when `bpffs`, else none.
    pub fn of(kind: ObjKind, bpffs: bool) -> Pins {
        Pins(if bpffs { pinned(kind) } else { BTreeMap::new() })
    }

    /// The pinned paths of object `id`, when pins are shown.
    pub fn get(&self, id: u32) -> Option<Vec<String>> {
        (!self.0.is_empty()).then(|| self.0.get(&id).cloned().unwrap_or_default())
    }
}

/// The pinned paths of every object of `kind`, by object id.
pub fn pinned(kind: ObjKind) -> BTreeMap<u32, Vec<String>> {
    let mut out: BTreeMap<u32, Vec<String>> = BTreeMap::new();
    let mounts = std::fs::read_to_string("/proc/mounts").unwrap_or_default();
    for root in mounts
        .lines()
        .map(|l| l.split_whitespace().collect::<Vec<_>>())
        .filter(|f| f.len() > 2 && f[2] == "bpf")
        .map(|f| PathBuf::from(f[1]))
    {
        walk(&root, 0, kind, &mut out);
    }
    out
}

fn walk(dir: &Path, depth: usize, kind: ObjKind, out: &mut BTreeMap<u32, Vec<String>>) {
    if depth > MAX_DEPTH {
        return;
    }
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let mut paths: Vec<PathBuf> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
    paths.sort();
    for p in paths {
        let Ok(meta) = std::fs::symlink_metadata(&p) else {
            continue;
        };
        if meta.is_dir() {
            walk(&p, depth + 1, kind, out);
        } else if meta.is_file() {
            if let Some(id) = id_of(&p, kind) {
                out.entry(id).or_default().push(p.display().to_string());
            }
        }
    }
}

/// The id of the object pinned at `path`, if it is of `kind`.
fn id_of(path: &Path, kind: ObjKind) -> Option<u32> {
    let fd = pin::get(path).ok()?;
    if kind_of(fd.as_fd()).ok()? != kind {
        return None;
    }
    match kind {
        ObjKind::Prog => ProgInfo::of_fd(fd.as_fd(), ProgInfoArrays::default())
            .ok()
            .map(|i| i.id),
        ObjKind::Map => MapInfo::of_fd(fd.as_fd()).ok().map(|i| i.id),
        ObjKind::Link => LinkInfo::of_fd(fd.as_fd()).ok().map(|i| i.id),
        _ => None,
    }
}
