//! The object loader: an [`Object`] from `bpfkit-object` into the kernel,
//! without libbpf.
//!
//! [`load`] does what libbpf's `bpf_object__load` does, in its order:
//!
//! 1. the object's BTF, fixed up ([`btf_image::fixed_up`]: DATASEC sizes
//!    and offsets, `.kconfig`/`.ksyms` laid out, extern linkage) and
//!    sanitised to the kinds this kernel has ([`btf_features`](mod@btf_features),
//!    [`btf_sanitise`]), then
//!    `BPF_BTF_LOAD`; an object whose BTF the kernel refuses still loads,
//!    without BTF (as libbpf does), and [`LoadedObject::btf_error`] says why;
//! 2. the maps, from every kind of definition (BTF-defined, legacy
//!    `bpf_map_def` and iproute2 `bpf_elf_map`, which libbpf 1.x refuses,
//!    global data, `.kconfig`), map-in-maps with their inner template,
//!    pinned ones reused when compatible ([`maps::reuse`]) and pinned when
//!    their definition says so; global data given its initial bytes and
//!    `.rodata`/`.kconfig` frozen;
//! 3. externs: `.kconfig` values from the kernel version and config,
//!    `.ksyms` by vmlinux BTF id or kallsyms address ([`externs`]);
//! 4. each program relocated (CO-RE against `/sys/kernel/btf/vmlinux`,
//!    map fds, externs, kfuncs) and loaded with its type, expected attach
//!    type, attach BTF id, license, kernel version, func and line info;
//!    a refusal is a [`Rejection`] with the failing instruction;
//! 5. prog-array and map-in-map initial slots (`.values = {...}`, iproute2
//!    `inner_idx` and `ID/KEY` tail-call sections).
//!
//! Everything is owned by the [`LoadedObject`]: dropping it closes every
//! descriptor. Pins are made only where a definition or the caller asks,
//! and stay (bpffs keeps them) until [`LoadedObject::unpin`].
//!
//! ```no_run
//! use bpfkit_kernel::loader::{load, LoadError, LoadOptions};
//! use bpfkit_object::read::Object;
//!
//! let obj = Object::open("prog.o")?;
//! match load(&obj, &LoadOptions::default()) {
//!     Ok(loaded) => {
//!         let prog = loaded.program("xdp_main").expect("loaded");
//!         println!("id {}", prog.id()?);
//!     }
//!     // The verifier's log, the failing instruction and its source line.
//!     Err(LoadError::Rejected(r)) => eprintln!("{}", r.render()),
//!     Err(e) => eprintln!("{e}"),
//! }
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

pub mod btf_features;
pub mod btf_image;
pub mod btf_sanitise;
mod error;
pub mod externs;
pub mod maps;
mod programs;
mod reject;
mod sha1;
mod slots;

use std::collections::HashMap;
use std::os::fd::AsFd;
use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

use bpfkit_object::btf::{Btf, Endian};
use bpfkit_object::read::{MapSource, Object};

use crate::btf::KernelBtf;
use crate::error::Error;
use crate::map::KernelMap;
use crate::prog::Program;

pub use btf_features::{btf_features, BtfFeatures};
pub use error::LoadError;
pub use programs::LoadType;
pub use reject::{last_insn_index, FailingInsn, Rejection, SourceLine};
pub use sha1::sha1_hex;

/// Where the kernel's own BTF is.
pub const VMLINUX_BTF: &str = "/sys/kernel/btf/vmlinux";

/// How to load an object.
#[derive(Debug, Clone)]
pub struct LoadOptions {
    /// Root of the pin paths definitions ask for (`LIBBPF_PIN_BY_NAME`,
    /// iproute2's namespaces); libbpf's and tc's default is `/sys/fs/bpf`.
    pub pin_root: PathBuf,
    /// The directory of iproute2's `PIN_OBJECT_NS` pins under
    /// `pin_root/tc/`: iproute2 names it by the SHA-1 of the object file
    /// ([`object_ns_of`]); `None` uses the object's name.
    pub object_ns: Option<String>,
    /// Maps to take from pins instead of creating them: (map name, path),
    /// as bpftool's `map name NAME PATH`.
    pub reuse_maps: Vec<(String, PathBuf)>,
    /// Load every program as this type (bpftool's `type T`), instead of
    /// its section's.
    pub prog_type: Option<LoadType>,
    /// Go on past programs the kernel refuses (each program's outcome is in
    /// [`LoadedProgram::result`]); otherwise the first refusal fails the
    /// whole load, and what was made is closed and unpinned.
    pub keep_going: bool,
    /// The verifier log level of every load (0: a log only on failure).
    pub log_level: u32,
    /// The BTF features to assume instead of probing (tests sanitise
    /// against a kernel without them).
    pub btf_features: Option<BtfFeatures>,
    /// The kernel configuration text for `CONFIG_*` externs, instead of
    /// `/boot/config-$(uname -r)` or `/proc/config.gz`.
    pub kernel_config: Option<String>,
}

impl Default for LoadOptions {
    fn default() -> Self {
        LoadOptions {
            pin_root: PathBuf::from(crate::pin::BPFFS_ROOT),
            object_ns: None,
            reuse_maps: Vec::new(),
            prog_type: None,
            keep_going: false,
            log_level: 0,
            btf_features: None,
            kernel_config: None,
        }
    }
}

/// One map of a loaded object.
#[derive(Debug)]
pub struct LoadedMap {
    /// Its name in the object.
    pub name: String,
    /// Where its definition came from.
    pub source: MapSource,
    /// The kernel map.
    pub map: KernelMap,
    /// The pin it was reused from or pinned at.
    pub pin: Option<PathBuf>,
    /// Taken from an existing pin rather than created.
    pub reused: bool,
}

/// One program of a loaded object and the kernel's verdict on it.
#[derive(Debug)]
pub struct LoadedProgram {
    /// Its name.
    pub name: String,
    /// Its section.
    pub section: String,
    /// The type it was loaded as.
    pub load_type: LoadType,
    /// The loaded program, or why it is not.
    pub result: Result<Program, LoadError>,
}

/// An object in the kernel: its BTF, maps and programs, owned.
#[derive(Debug)]
pub struct LoadedObject {
    /// The object's BTF in the kernel, when it loaded.
    pub btf: Option<KernelBtf>,
    /// Why the kernel refused the object's BTF (the object loaded without).
    pub btf_error: Option<Error>,
    /// The maps, in the object's order.
    pub maps: Vec<LoadedMap>,
    /// The programs, in the object's order (those with autoload).
    pub programs: Vec<LoadedProgram>,
    /// Pins this load made (by-name and iproute2 maps, and those of
    /// [`LoadedObject::pin_maps`] / [`LoadedObject::pin_programs`]).
    pub pins: Vec<PathBuf>,
}

impl LoadedObject {
    /// The map named `name`.
    pub fn map(&self, name: &str) -> Option<&KernelMap> {
        self.maps.iter().find(|m| m.name == name).map(|m| &m.map)
    }

    /// The loaded program named `name`.
    pub fn program(&self, name: &str) -> Option<&Program> {
        self.programs
            .iter()
            .find(|p| p.name == name)
            .and_then(|p| p.result.as_ref().ok())
    }

    /// Pins every loaded program at `dir/NAME` (bpftool `loadall`'s names),
    /// creating `dir` on bpffs.
    pub fn pin_programs(&mut self, dir: &Path) -> Result<(), LoadError> {
        make_dir(dir)?;
        for p in &self.programs {
            if let Ok(prog) = &p.result {
                let path = dir.join(&p.name);
                prog.pin(&path).map_err(|source| LoadError::Pin {
                    path: path.clone(),
                    source,
                })?;
                self.pins.push(path);
            }
        }
        Ok(())
    }

    /// Pins every map at `dir/NAME` (bpftool's `pinmaps DIR`).
    pub fn pin_maps(&mut self, dir: &Path) -> Result<(), LoadError> {
        make_dir(dir)?;
        for m in &self.maps {
            let path = dir.join(&m.name);
            m.map.pin(&path).map_err(|source| LoadError::Pin {
                path: path.clone(),
                source,
            })?;
            self.pins.push(path);
        }
        Ok(())
    }

    /// Removes every pin this load made (maps and programs stay alive
    /// while this object holds them).
    pub fn unpin(&mut self) {
        for p in self.pins.drain(..) {
            let _ = std::fs::remove_file(&p);
        }
    }
}

fn make_dir(dir: &Path) -> Result<(), LoadError> {
    if dir.starts_with(crate::pin::BPFFS_ROOT) {
        crate::pin::ensure_bpffs().map_err(|source| LoadError::Pin {
            path: dir.to_path_buf(),
            source,
        })?;
    }
    std::fs::create_dir_all(dir).map_err(|e| LoadError::Pin {
        path: dir.to_path_buf(),
        source: Error::Io {
            path: dir.to_path_buf(),
            source: e,
        },
    })
}

/// iproute2's name for an object's `PIN_OBJECT_NS` directory: the SHA-1
/// of the object file's bytes, in hex.
pub fn object_ns_of(file_bytes: &[u8]) -> String {
    sha1_hex(file_bytes)
}

/// The running kernel's BTF, parsed once per process.
pub fn vmlinux_btf() -> Result<Arc<Btf>, LoadError> {
    static VMLINUX: OnceLock<Result<Arc<Btf>, String>> = OnceLock::new();
    VMLINUX
        .get_or_init(|| {
            let bytes = std::fs::read(VMLINUX_BTF).map_err(|e| e.to_string())?;
            Btf::parse(&bytes).map(Arc::new).map_err(|e| e.to_string())
        })
        .clone()
        .map_err(|message| LoadError::Read {
            path: PathBuf::from(VMLINUX_BTF),
            message,
        })
}

/// A load in progress: what has been made so far, unpinned if the load
/// fails.
struct Partial {
    pins: Vec<PathBuf>,
}

impl Drop for Partial {
    fn drop(&mut self) {
        for p in &self.pins {
            let _ = std::fs::remove_file(p);
        }
    }
}

/// Loads `obj` into the kernel. See the [module docs](self).
pub fn load(obj: &Object, opts: &LoadOptions) -> Result<LoadedObject, LoadError> {
    if let Some((name, _)) = opts
        .reuse_maps
        .iter()
        .find(|(n, _)| !obj.maps.iter().any(|m| m.name == *n))
    {
        return Err(LoadError::Unsupported {
            what: format!("map '{name}'"),
            message: "the object has no map of this name to replace".into(),
        });
    }
    let mut partial = Partial { pins: Vec::new() };
    let mut vmlinux = vmlinux_btf;

    // 1. BTF.
    let mut image = None;
    let (btf, btf_error) = match &obj.btf {
        None => (None, None),
        Some(local) => {
            let mut img = btf_image::fixed_up(obj, local);
            let features = opts.btf_features.unwrap_or_else(btf_features);
            btf_sanitise::sanitise(&mut img, &features);
            match KernelBtf::load(&img.encode(Endian::HOST), 0) {
                Ok(b) => {
                    // Without FUNC kinds func and line info cannot be given.
                    image = features.func.then_some(img);
                    (Some(b), None)
                }
                Err(e) => (None, Some(e)),
            }
        }
    };
    let btf_fd = btf.as_ref().map(|b| b.fd());

    // 2. Maps (inner maps named by index or id first).
    let kconfig = externs::kconfig_value(obj, &mut || match &opts.kernel_config {
        Some(text) => Ok(text.clone()),
        None => crate::probe::kernel_config::config_text().map_err(|message| LoadError::Read {
            path: PathBuf::from("/boot/config-$(uname -r)"),
            message,
        }),
    })?;
    let mut made: Vec<Option<LoadedMap>> = (0..obj.maps.len()).map(|_| None).collect();
    let order: Vec<usize> = {
        let (outer, plain): (Vec<usize>, Vec<usize>) = (0..obj.maps.len())
            .partition(|&i| maps::inner_index(&obj.maps, &obj.maps[i]).is_some());
        plain.into_iter().chain(outer).collect()
    };
    for i in order {
        let def = &obj.maps[i];
        let reuse = opts
            .reuse_maps
            .iter()
            .find(|(n, _)| *n == def.name)
            .map(|(_, p)| p.clone());
        let pin = maps::pin_path(
            def,
            &opts.pin_root,
            opts.object_ns.as_deref().unwrap_or(&obj.name),
        );
        let loaded = if let Some(path) = reuse {
            let map = maps::reuse(def, &path)?;
            LoadedMap {
                name: def.name.clone(),
                source: def.source,
                map,
                pin: Some(path),
                reused: true,
            }
        } else if let Some(path) = pin.as_ref().filter(|p| p.exists()) {
            let map = maps::reuse(def, path)?;
            LoadedMap {
                name: def.name.clone(),
                source: def.source,
                map,
                pin: Some(path.clone()),
                reused: true,
            }
        } else {
            let template = match &def.inner {
                Some(inner) => Some(maps::create(inner, btf_fd, None)?),
                None => None,
            };
            let inner_fd = match maps::inner_index(&obj.maps, def) {
                Some(j) => made[j].as_ref().map(|m| m.map.fd()),
                None => template.as_ref().map(|t| t.fd()),
            };
            let map = maps::create(def, btf_fd, inner_fd)?;
            slots::initialise_data(def, &map, kconfig.as_deref())?;
            if let Some(path) = &pin {
                if let Some(parent) = path.parent() {
                    make_dir(parent)?;
                }
                map.pin(path).map_err(|source| LoadError::Pin {
                    path: path.clone(),
                    source,
                })?;
                partial.pins.push(path.clone());
            }
            LoadedMap {
                name: def.name.clone(),
                source: def.source,
                map,
                pin,
                reused: false,
            }
        };
        made[i] = Some(loaded);
    }
    let maps: Vec<LoadedMap> = made.into_iter().flatten().collect();
    let map_fds: Vec<i32> = maps.iter().map(|m| programs::raw_fd(m.map.fd())).collect();

    // 3. Externs.
    let ksyms = externs::resolve_ksyms(obj, &mut vmlinux)?;

    // 4. Programs.
    let kern_version = externs::running_kernel_version().unwrap_or(0);
    let mut cx = programs::ProgramContext {
        obj,
        map_fds: &map_fds,
        ksyms: &ksyms,
        btf: match (image.as_mut(), btf_fd) {
            (Some(img), Some(fd)) => Some((img, fd)),
            _ => None,
        },
        vmlinux: &mut vmlinux,
        kern_version,
        log_level: opts.log_level,
    };
    let mut loaded = Vec::new();
    for prog in obj.programs.iter().filter(|p| p.section_type.autoload) {
        let ty = opts.prog_type.unwrap_or(LoadType {
            prog_type: prog.section_type.prog_type,
            expected_attach_type: prog.section_type.expected_attach_type,
        });
        let result = programs::relocated(prog, &mut cx).and_then(|slots| {
            let attach = programs::attach_btf_id(prog, ty, cx.vmlinux)?;
            programs::load(prog, &slots, ty, attach, &mut cx)
        });
        let result = match result {
            Err(e) if !opts.keep_going => return Err(e),
            result => result,
        };
        loaded.push(LoadedProgram {
            name: prog.name.clone(),
            section: prog.section.clone(),
            load_type: ty,
            result,
        });
    }

    // 5. Initial slots.
    let prog_fds: HashMap<&str, i32> = loaded
        .iter()
        .filter_map(|p| {
            Some((
                p.name.as_str(),
                programs::raw_fd(p.result.as_ref().ok()?.as_fd()),
            ))
        })
        .collect();
    slots::fill(obj, &maps, &prog_fds)?;

    let pins = std::mem::take(&mut partial.pins);
    Ok(LoadedObject {
        btf,
        btf_error,
        maps,
        programs: loaded,
        pins,
    })
}
