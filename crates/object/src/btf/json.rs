//! JSON in the shape of `bpftool -j btf dump file F`: `{"types": [...]}`
//! with bpftool's field names, names resolved and "(anon)" for none.

use serde::ser::{SerializeMap, SerializeSeq, Serializer};
use serde::Serialize;

use super::dump_raw::{int_encoding_name, linkage_name, quoted_name};
use super::types::{Kind, TypeData};
use super::Btf;

/// A serializable view of a [`Btf`] that produces bpftool's JSON.
pub struct BpftoolJson<'a>(pub &'a Btf);

/// One type of a [`BpftoolJson`].
struct TypeJson<'a> {
    btf: &'a Btf,
    id: u32,
}

/// A list of objects built by a closure (members, values, ...).
struct List<F>(F);

impl<F, T> Serialize for List<F>
where
    F: Fn() -> Vec<T>,
    T: Serialize,
{
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let items = (self.0)();
        let mut seq = s.serialize_seq(Some(items.len()))?;
        for i in &items {
            seq.serialize_element(i)?;
        }
        seq.end()
    }
}

/// A JSON object of (key, value) pairs with mixed value types.
#[derive(Serialize)]
#[serde(untagged)]
enum Value<'a> {
    U(u64),
    I(i64),
    S(&'a str),
}

impl Serialize for BpftoolJson<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let btf = self.0;
        let mut m = s.serialize_map(Some(1))?;
        let ids: Vec<u32> = (btf.first_id()..btf.len() as u32).collect();
        m.serialize_entry(
            "types",
            &List(|| ids.iter().map(|&id| TypeJson { btf, id }).collect()),
        )?;
        m.end()
    }
}

impl Serialize for TypeJson<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let btf = self.btf;
        let Some(t) = btf.type_by_id(self.id) else {
            return s.serialize_none();
        };
        let name = |off| quoted_name(btf, off);
        let mut m = s.serialize_map(None)?;
        m.serialize_entry("id", &self.id)?;
        m.serialize_entry("kind", t.kind.name())?;
        m.serialize_entry("name", name(t.name_off))?;
        match (&t.kind, &t.data) {
            (Kind::Int, TypeData::Int(i)) => {
                m.serialize_entry("size", &t.size_or_type)?;
                m.serialize_entry("bits_offset", &i.offset)?;
                m.serialize_entry("nr_bits", &i.bits)?;
                m.serialize_entry("encoding", int_encoding_name(i.encoding))?;
            }
            (Kind::Ptr | Kind::Const | Kind::Volatile | Kind::Restrict, _)
            | (Kind::Typedef | Kind::TypeTag, _) => {
                m.serialize_entry("type_id", &t.size_or_type)?;
            }
            (Kind::Array, TypeData::Array(a)) => {
                m.serialize_entry("type_id", &a.elem)?;
                m.serialize_entry("index_type_id", &a.index)?;
                m.serialize_entry("nr_elems", &a.nelems)?;
            }
            (Kind::Struct | Kind::Union, TypeData::Members(ms)) => {
                m.serialize_entry("size", &t.size_or_type)?;
                m.serialize_entry("vlen", &t.vlen)?;
                m.serialize_entry(
                    "members",
                    &List(|| {
                        ms.iter()
                            .map(|x| {
                                let mut v = vec![
                                    ("name", Value::S(name(x.name_off))),
                                    ("type_id", Value::U(x.ty as u64)),
                                    ("bits_offset", Value::U(x.bit_offset as u64)),
                                ];
                                if x.bitfield_size != 0 {
                                    v.push(("bitfield_size", Value::U(x.bitfield_size as u64)));
                                }
                                Obj(v)
                            })
                            .collect()
                    }),
                )?;
            }
            (Kind::Enum | Kind::Enum64, TypeData::Enum(vs)) => {
                let enc = if t.kind_flag { "SIGNED" } else { "UNSIGNED" };
                m.serialize_entry("encoding", enc)?;
                m.serialize_entry("size", &t.size_or_type)?;
                m.serialize_entry("vlen", &t.vlen)?;
                m.serialize_entry(
                    "values",
                    &List(|| {
                        vs.iter()
                            .map(|x| {
                                let val = if t.kind_flag {
                                    Value::I(x.value as i64)
                                } else if t.kind == Kind::Enum {
                                    // bpftool 7.1 passes the 32-bit value,
                                    // an `__s32`, to its unsigned printer:
                                    // values with the top bit set come out
                                    // sign-extended to 64 bits.
                                    Value::U(x.value as u32 as i32 as i64 as u64)
                                } else {
                                    Value::U(x.value)
                                };
                                Obj(vec![("name", Value::S(name(x.name_off))), ("val", val)])
                            })
                            .collect()
                    }),
                )?;
            }
            (Kind::Fwd, _) => {
                let k = if t.kind_flag { "union" } else { "struct" };
                m.serialize_entry("fwd_kind", k)?;
            }
            (Kind::Func, _) => {
                m.serialize_entry("type_id", &t.size_or_type)?;
                m.serialize_entry("linkage", linkage_name(t.vlen as u32))?;
            }
            (Kind::FuncProto, TypeData::Params(ps)) => {
                m.serialize_entry("ret_type_id", &t.size_or_type)?;
                m.serialize_entry("vlen", &t.vlen)?;
                m.serialize_entry(
                    "params",
                    &List(|| {
                        ps.iter()
                            .map(|p| {
                                Obj(vec![
                                    ("name", Value::S(name(p.name_off))),
                                    ("type_id", Value::U(p.ty as u64)),
                                ])
                            })
                            .collect()
                    }),
                )?;
            }
            (Kind::Var, TypeData::Var { linkage }) => {
                m.serialize_entry("type_id", &t.size_or_type)?;
                m.serialize_entry("linkage", linkage_name(*linkage))?;
            }
            (Kind::Datasec, TypeData::Datasec(es)) => {
                m.serialize_entry("size", &t.size_or_type)?;
                m.serialize_entry("vlen", &t.vlen)?;
                m.serialize_entry(
                    "vars",
                    &List(|| {
                        es.iter()
                            .map(|e| {
                                Obj(vec![
                                    ("type_id", Value::U(e.ty as u64)),
                                    ("offset", Value::U(e.offset as u64)),
                                    ("size", Value::U(e.size as u64)),
                                ])
                            })
                            .collect()
                    }),
                )?;
            }
            (Kind::Float, _) => m.serialize_entry("size", &t.size_or_type)?,
            (Kind::DeclTag, TypeData::DeclTag { component_idx }) => {
                m.serialize_entry("type_id", &t.size_or_type)?;
                m.serialize_entry("component_idx", component_idx)?;
            }
            _ => {}
        }
        m.end()
    }
}

/// An ordered JSON object.
struct Obj<'a>(Vec<(&'static str, Value<'a>)>);

impl Serialize for Obj<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(Some(self.0.len()))?;
        for (k, v) in &self.0 {
            m.serialize_entry(k, v)?;
        }
        m.end()
    }
}
