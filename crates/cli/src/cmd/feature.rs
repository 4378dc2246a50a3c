//! `bpfkit feature probe [kernel] [full] [--json]`: what this kernel
//! supports, probed, in bpftool's words and JSON fields.

use std::process::ExitCode;

use bpfkit_isa::helpers::helper_name;
use bpfkit_kernel::probe;
use bpfkit_object::kinds::{MapType, ProgType};
use serde_json::{json, Map};

use super::kernel_args::Words;
use super::kernel_render::print_json;
use crate::failure::{fail, CmdResult};

/// The verbs of `bpfkit feature`.
#[derive(clap::Subcommand)]
pub enum Command {
    /// `probe [kernel] [full]`: probe the running kernel.
    Probe(Args),
}

/// The words after the verb.
#[derive(clap::Args)]
pub struct Args {
    /// `kernel` (the default target) and `full` (also probe the helpers
    /// that write to dmesg).
    words: Vec<String>,
    /// Print JSON with bpftool's field names.
    #[arg(long, short = 'j')]
    json: bool,
}

/// The program types probed: all but `unspec`.
fn prog_types() -> impl Iterator<Item = ProgType> {
    ProgType::ALL
        .iter()
        .copied()
        .filter(|t| *t != ProgType::Unspec)
}

fn map_types() -> impl Iterator<Item = MapType> {
    MapType::ALL
        .iter()
        .copied()
        .filter(|t| *t != MapType::Unspec)
}

/// Runs `bpfkit feature probe`.
pub fn run(c: Command) -> CmdResult {
    let Command::Probe(a) = c;
    let mut w = Words::new(a.words);
    w.eat("kernel");
    let full = w.eat("full");
    w.finish()?;
    let sys = probe::system_config();
    let misc = probe::misc();
    let config = probe::kernel_config::bpf_options();
    if a.json {
        let mut sc = Map::new();
        for (k, v) in [
            ("unprivileged_bpf_disabled", sys.unprivileged_bpf_disabled),
            ("bpf_jit_enable", sys.bpf_jit_enable),
            ("bpf_jit_harden", sys.bpf_jit_harden),
            ("bpf_jit_kallsyms", sys.bpf_jit_kallsyms),
            ("bpf_jit_limit", sys.bpf_jit_limit),
        ] {
            sc.insert(k.into(), v.map_or(json!(-1), |v| json!(v)));
        }
        if let Ok(options) = &config {
            for (name, value) in options {
                sc.insert((*name).into(), json!(value));
            }
        }
        let mut pt = Map::new();
        let mut helpers = Map::new();
        for t in prog_types() {
            pt.insert(
                format!("have_{}_prog_type", t.name()),
                json!(probe::prog_type(t)),
            );
            let names: Vec<&str> = probe::available_helpers(t, full)
                .into_iter()
                .filter_map(|id| helper_name(id as i32))
                .collect();
            helpers.insert(format!("{}_available_helpers", t.name()), json!(names));
        }
        let mut mt = Map::new();
        for t in map_types() {
            mt.insert(
                format!("have_{}_map_type", t.name()),
                json!(probe::map_type(t)),
            );
        }
        let v = json!({
            "system_config": sc,
            "syscall_config": {"have_bpf_syscall": probe::bpf_syscall()},
            "program_types": pt,
            "map_types": mt,
            "helpers": helpers,
            "misc": {
                "have_large_insn_limit": misc.large_insn_limit,
                "have_bounded_loops": misc.bounded_loops,
                "have_v2_isa_extension": misc.v2_isa_extension,
                "have_v3_isa_extension": misc.v3_isa_extension,
            },
        });
        print_json(&v);
        return Ok(ExitCode::SUCCESS);
    }
    let mut out = String::from("Scanning system configuration...\n");
    out.push_str(match sys.unprivileged_bpf_disabled {
        Some(0) => "bpf() syscall for unprivileged users is enabled\n",
        Some(1) => "bpf() syscall restricted to privileged users (without recovery)\n",
        Some(2) => "bpf() syscall restricted to privileged users (admin can change)\n",
        _ => "Unable to retrieve required privileges for bpf() syscall\n",
    });
    out.push_str(match sys.bpf_jit_enable {
        Some(0) => "JIT compiler is disabled\n",
        Some(1) => "JIT compiler is enabled\n",
        Some(2) => "JIT compiler is enabled with debugging traces in kernel logs\n",
        _ => "Unable to retrieve JIT-compiler status\n",
    });
    out.push_str(match sys.bpf_jit_harden {
        Some(0) => "JIT compiler hardening is disabled\n",
        Some(1) => "JIT compiler hardening is enabled for unprivileged users\n",
        Some(2) => "JIT compiler hardening is enabled for all users\n",
        _ => "Unable to retrieve JIT hardening status\n",
    });
    out.push_str(match sys.bpf_jit_kallsyms {
        Some(0) => "JIT compiler kallsyms exports are disabled\n",
        Some(1) => "JIT compiler kallsyms exports are enabled for root\n",
        _ => "Unable to retrieve JIT kallsyms export status\n",
    });
    match sys.bpf_jit_limit {
        Some(n) => out.push_str(&format!(
            "Global memory limit for JIT compiler for unprivileged users is {n} bytes\n"
        )),
        None => out.push_str(
            "Unable to retrieve global memory limit for JIT compiler for unprivileged users\n",
        ),
    }
    match &config {
        Ok(options) => {
            for (name, value) in options {
                match value {
                    Some(v) => out.push_str(&format!("{name} is set to {v}\n")),
                    None => out.push_str(&format!("{name} is not set\n")),
                }
            }
        }
        Err(why) => out.push_str(&format!("skipping kernel config: {why}\n")),
    }
    out.push_str("\nScanning system call availability...\n");
    if !probe::bpf_syscall() {
        out.push_str("bpf() syscall is NOT available\n");
        print!("{out}");
        return Err(fail("this kernel has no bpf() system call"));
    }
    out.push_str("bpf() syscall is available\n");
    out.push_str("\nScanning eBPF program types...\n");
    let avail = |b: bool| {
        if b {
            "is available"
        } else {
            "is NOT available"
        }
    };
    for t in prog_types() {
        out.push_str(&format!(
            "eBPF program_type {} {}\n",
            t.name(),
            avail(probe::prog_type(t))
        ));
    }
    out.push_str("\nScanning eBPF map types...\n");
    for t in map_types() {
        out.push_str(&format!(
            "eBPF map_type {} {}\n",
            t.name(),
            avail(probe::map_type(t))
        ));
    }
    out.push_str("\nScanning eBPF helper functions...\n");
    for t in prog_types() {
        out.push_str(&format!(
            "eBPF helpers supported for program type {}:",
            t.name()
        ));
        let ids = probe::available_helpers(t, full);
        for id in &ids {
            if let Some(n) = helper_name(*id as i32) {
                out.push_str(&format!("\n\t- {n}"));
            }
        }
        out.push('\n');
        if ids.is_empty() {
            out.push_str(if probe::prog_type(t) {
                "\tCould not determine which helpers are available\n"
            } else {
                "\tProgram type not supported\n"
            });
        }
    }
    out.push_str("\nScanning miscellaneous eBPF features...\n");
    for (what, b) in [
        ("Large program size limit", misc.large_insn_limit),
        ("Bounded loop support", misc.bounded_loops),
        ("ISA extension v2", misc.v2_isa_extension),
        ("ISA extension v3", misc.v3_isa_extension),
    ] {
        out.push_str(&format!("{what} {}\n", avail(b)));
    }
    print!("{out}");
    if !probe::prog_type(ProgType::SocketFilter) {
        return Err(fail("bpf(2) refused even a socket filter: are you root?"));
    }
    Ok(ExitCode::SUCCESS)
}
