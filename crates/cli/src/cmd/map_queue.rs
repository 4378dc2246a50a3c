//! `bpfkit map getnext|peek|push|pop|enqueue|dequeue`: key iteration one
//! step at a time, and the keyless maps (queue, stack, bloom filter), as
//! bpftool does them.

use std::process::ExitCode;

use bpfkit_object::map::BPF_ANY;
use serde_json::{json, Value};

use super::kernel_args::{bytes, update_flag, Words};
use super::kernel_render::{hex_bytes, json_bytes, print_json};
use super::map::{open_one, Args};
use crate::failure::{fail, CmdResult};

/// `getnext MAP [key BYTES]`: the key after `key` (the first without).
pub fn getnext(a: Args) -> CmdResult {
    let mut w = Words::new(a.words);
    let m = open_one(&mut w)?;
    let key = if w.eat("key") {
        Some(bytes(&mut w, "key", &[])?)
    } else {
        None
    };
    w.finish()?;
    let next = m
        .get_next_key(key.as_deref())
        .map_err(fail)?
        .ok_or_else(|| fail("can't get next key: no more keys"))?;
    if a.json {
        let k = key.as_deref().map_or(Value::Null, json_bytes);
        print_json(&json!({"key": k, "next_key": json_bytes(&next)}));
    } else {
        match &key {
            Some(k) => println!("key:\n{}", hex_bytes(k, " ")),
            None => println!("key: None"),
        }
        println!("next key:\n{}", hex_bytes(&next, " "));
    }
    Ok(ExitCode::SUCCESS)
}

fn print_value(v: &[u8], json_out: bool) {
    if json_out {
        // bpftool prints the (empty) key too.
        print_json(&json!({"key": [], "value": json_bytes(v)}));
    } else {
        // bpftool's single-line form for a keyless element.
        let brk = if v.len() > 16 { '\n' } else { ' ' };
        println!("value:{brk}{}", hex_bytes(v, " "));
    }
}

/// `peek MAP`: the head of a queue or the top of a stack, kept.
pub fn peek(a: Args) -> CmdResult {
    let mut w = Words::new(a.words);
    let m = open_one(&mut w)?;
    w.finish()?;
    let v = m.lookup_elem(&[], 0).map_err(fail)?;
    print_value(&v, a.json);
    Ok(ExitCode::SUCCESS)
}

/// `push|enqueue MAP value BYTES [any|exist]`.
pub fn push(a: Args) -> CmdResult {
    let mut w = Words::new(a.words);
    let m = open_one(&mut w)?;
    if !w.eat("value") {
        return Err(fail("expected 'value BYTES'"));
    }
    let value = bytes(&mut w, "value", &["any", "exist", "noexist"])?;
    let flags = match w.next() {
        None => BPF_ANY,
        Some(f) => update_flag(&f)
            .ok_or_else(|| fail(format!("expected any, exist or noexist, got {f:?}")))?,
    };
    w.finish()?;
    m.update_elem(&[], &value, flags).map_err(fail)?;
    Ok(ExitCode::SUCCESS)
}

/// `pop|dequeue MAP`: removes and prints the head (queue) or top (stack).
pub fn pop(a: Args) -> CmdResult {
    let mut w = Words::new(a.words);
    let m = open_one(&mut w)?;
    w.finish()?;
    let v = m.lookup_and_delete_elem(&[], 0).map_err(fail)?;
    print_value(&v, a.json);
    Ok(ExitCode::SUCCESS)
}
