//! bpftool's argument words for kernel objects: the `PROG` and `MAP`
//! selectors (`id N`, `pinned PATH`, `name NAME`, `tag TAG`), byte lists
//! (`key 0x01 2 03`, `key hex 01 02`) and update flags.

use std::path::PathBuf;

use bpfkit_kernel::info::{self, MapInfo, ProgInfo, ProgInfoArrays};
use bpfkit_kernel::{fd, pin, IdKind};
use bpfkit_object::map::{BPF_ANY, BPF_EXIST, BPF_NOEXIST};

use crate::failure::{fail, Failure};

/// The words of a command, consumed front to back.
pub struct Words {
    words: Vec<String>,
    at: usize,
}

impl Words {
    /// Wraps the words after the verb.
    pub fn new(words: Vec<String>) -> Words {
        Words { words, at: 0 }
    }

    /// The next word, if any.
    pub fn peek(&self) -> Option<&str> {
        self.words.get(self.at).map(String::as_str)
    }

    /// Takes the next word.
    pub fn next(&mut self) -> Option<String> {
        let w = self.words.get(self.at).cloned();
        if w.is_some() {
            self.at += 1;
        }
        w
    }

    /// Takes the next word, which `what` needs.
    pub fn expect(&mut self, what: &str) -> Result<String, Failure> {
        self.next()
            .ok_or_else(|| fail(format!("expected {what}, found the end of the command")))
    }

    /// Takes the next word if it is `w`.
    pub fn eat(&mut self, w: &str) -> bool {
        if self.peek() == Some(w) {
            self.at += 1;
            true
        } else {
            false
        }
    }

    /// Whether every word was used.
    pub fn is_empty(&self) -> bool {
        self.at >= self.words.len()
    }

    /// Fails on words left over.
    pub fn finish(&self) -> Result<(), Failure> {
        match self.peek() {
            None => Ok(()),
            Some(w) => Err(fail(format!("unexpected argument {w:?}"))),
        }
    }
}

/// How a command names an object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Selector {
    /// `id N`.
    Id(u32),
    /// `pinned PATH`.
    Pinned(PathBuf),
    /// `name NAME` (all objects of that name).
    Name(String),
    /// `tag TAG` (programs only; all with that tag).
    Tag([u8; 8]),
}

/// Parses a selector; `tag` only when `tags` (programs).
pub fn selector(w: &mut Words, tags: bool) -> Result<Selector, Failure> {
    let kw = w.expect("id, pinned, name or tag")?;
    match kw.as_str() {
        "id" => {
            let v = w.expect("an id after 'id'")?;
            v.parse()
                .map(Selector::Id)
                .map_err(|_| fail(format!("id {v:?} is not a number")))
        }
        "pinned" => Ok(Selector::Pinned(PathBuf::from(
            w.expect("a path after 'pinned'")?,
        ))),
        "name" => Ok(Selector::Name(w.expect("a name after 'name'")?)),
        "tag" if tags => {
            let v = w.expect("a tag after 'tag'")?;
            parse_tag(&v).map(Selector::Tag)
        }
        other => Err(fail(format!(
            "expected {}, got {other:?}",
            if tags {
                "'id', 'pinned', 'name' or 'tag'"
            } else {
                "'id', 'pinned' or 'name'"
            }
        ))),
    }
}

fn parse_tag(s: &str) -> Result<[u8; 8], Failure> {
    let digits: String = s.chars().filter(|c| *c != ':').collect();
    let bytes = crate::hex::parse_hex(&digits).map_err(|e| fail(format!("tag {s:?}: {e}")))?;
    bytes
        .try_into()
        .map_err(|_| fail(format!("tag {s:?} is not 8 bytes")))
}

/// The ids of the programs a selector names (several for name and tag).
pub fn prog_ids(sel: &Selector) -> Result<Vec<u32>, Failure> {
    match sel {
        Selector::Id(id) => Ok(vec![*id]),
        Selector::Pinned(p) => {
            let fd = pin::get(p).map_err(fail)?;
            if fd::kind_of(std::os::fd::AsFd::as_fd(&fd)).map_err(fail)? != fd::ObjKind::Prog {
                return Err(fail(format!("{}: not a program", p.display())));
            }
            let i = ProgInfo::of_fd(std::os::fd::AsFd::as_fd(&fd), ProgInfoArrays::default())
                .map_err(fail)?;
            Ok(vec![i.id])
        }
        Selector::Name(_) | Selector::Tag(_) => {
            let mut out = Vec::new();
            for id in info::ids(IdKind::Prog).map_err(fail)? {
                let Ok(i) = ProgInfo::of_id(id, ProgInfoArrays::default()) else {
                    continue;
                };
                let hit = match sel {
                    Selector::Name(n) => &i.name == n,
                    Selector::Tag(t) => &i.tag == t,
                    _ => false,
                };
                if hit {
                    out.push(id);
                }
            }
            if out.is_empty() {
                return Err(fail(format!("no program matches {}", describe(sel))));
            }
            Ok(out)
        }
    }
}

/// The ids of the maps a selector names (several for name).
pub fn map_ids(sel: &Selector) -> Result<Vec<u32>, Failure> {
    match sel {
        Selector::Id(id) => Ok(vec![*id]),
        Selector::Pinned(p) => {
            let fd = pin::get(p).map_err(fail)?;
            if fd::kind_of(std::os::fd::AsFd::as_fd(&fd)).map_err(fail)? != fd::ObjKind::Map {
                return Err(fail(format!("{}: not a map", p.display())));
            }
            Ok(vec![
                MapInfo::of_fd(std::os::fd::AsFd::as_fd(&fd))
                    .map_err(fail)?
                    .id,
            ])
        }
        Selector::Name(n) => {
            let mut out = Vec::new();
            for id in info::ids(IdKind::Map).map_err(fail)? {
                let Ok(fd) = info::fd_by_id(IdKind::Map, id) else {
                    continue;
                };
                if let Ok(i) = MapInfo::of_fd(std::os::fd::AsFd::as_fd(&fd)) {
                    if &i.name == n {
                        out.push(id);
                    }
                }
            }
            if out.is_empty() {
                return Err(fail(format!("no map matches {}", describe(sel))));
            }
            Ok(out)
        }
        Selector::Tag(_) => Err(fail("maps have no tag")),
    }
}

/// Exactly one id, as commands that act on one object need.
pub fn one(ids: Vec<u32>, sel: &Selector) -> Result<u32, Failure> {
    match ids.as_slice() {
        [id] => Ok(*id),
        _ => Err(fail(format!(
            "{} matches {} objects; select one by id",
            describe(sel),
            ids.len()
        ))),
    }
}

fn describe(sel: &Selector) -> String {
    match sel {
        Selector::Id(i) => format!("id {i}"),
        Selector::Pinned(p) => format!("pinned {}", p.display()),
        Selector::Name(n) => format!("name {n}"),
        Selector::Tag(t) => format!(
            "tag {}",
            t.iter().map(|b| format!("{b:02x}")).collect::<String>()
        ),
    }
}

/// A byte list after `key` or `value`: words until the next keyword, each
/// one byte in C notation (`0x1f`, `017`, `31`), or hex digits after `hex`
/// (`hex 1f 20` or `hex 1f20`).
pub fn bytes(w: &mut Words, what: &str, stop: &[&str]) -> Result<Vec<u8>, Failure> {
    let hex = w.eat("hex");
    let mut out = Vec::new();
    while let Some(word) = w.peek() {
        if stop.contains(&word) {
            break;
        }
        let word = w.next().unwrap_or_default();
        if hex {
            out.extend(
                crate::hex::parse_hex(&word).map_err(|e| fail(format!("{what} {word:?}: {e}")))?,
            );
        } else {
            out.push(c_byte(&word).ok_or_else(|| {
                fail(format!(
                    "{what}: {word:?} is not a byte (0..255, 0x.. or 0..)"
                ))
            })?);
        }
    }
    Ok(out)
}

/// One byte as C's `strtoul(s, 0)` reads it, refusing values over 255.
fn c_byte(s: &str) -> Option<u8> {
    let v = if let Some(h) = s.strip_prefix("0x").or_else(|| s.strip_prefix("0X")) {
        u32::from_str_radix(h, 16).ok()?
    } else if s.len() > 1 && s.starts_with('0') {
        u32::from_str_radix(&s[1..], 8).ok()?
    } else {
        s.parse::<u32>().ok()?
    };
    u8::try_from(v).ok()
}

/// `any`, `exist` or `noexist`, the update flags.
pub fn update_flag(word: &str) -> Option<u64> {
    match word {
        "any" => Some(BPF_ANY),
        "exist" => Some(BPF_EXIST),
        "noexist" => Some(BPF_NOEXIST),
        _ => None,
    }
}

/// A decimal or `0x` hexadecimal number.
pub fn number(s: &str, what: &str) -> Result<u32, Failure> {
    let r = match s.strip_prefix("0x") {
        Some(h) => u32::from_str_radix(h, 16),
        None => s.parse(),
    };
    r.map_err(|_| fail(format!("{what} {s:?} is not a number")))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(s: &str) -> Words {
        Words::new(s.split_whitespace().map(String::from).collect())
    }

    #[test]
    fn byte_lists_as_bpftool_reads_them() {
        let mut w = words("0x01 2 010 255 value 1");
        assert_eq!(
            bytes(&mut w, "key", &["value"]).unwrap(),
            vec![1, 2, 8, 255]
        );
        assert_eq!(w.next().as_deref(), Some("value"));
        let mut w = words("hex 0a0b 0c");
        assert_eq!(bytes(&mut w, "key", &[]).unwrap(), vec![10, 11, 12]);
        assert!(bytes(&mut words("256"), "key", &[]).is_err());
        assert!(bytes(&mut words("zz"), "key", &[]).is_err());
    }

    #[test]
    fn selectors() {
        assert_eq!(selector(&mut words("id 7"), true).unwrap(), Selector::Id(7));
        assert_eq!(
            selector(&mut words("tag 0102030405060708"), true).unwrap(),
            Selector::Tag([1, 2, 3, 4, 5, 6, 7, 8])
        );
        assert!(selector(&mut words("tag 01"), true).is_err());
        assert!(selector(&mut words("tag 0102030405060708"), false).is_err());
        assert!(selector(&mut words("id x"), true).is_err());
    }
}
