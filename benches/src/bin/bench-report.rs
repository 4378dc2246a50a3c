//! Prints the Markdown table of `RESULTS.md` from criterion's results of
//! `cargo bench -p bpfkit-bench`, with the executed instruction count of each
//! program from bpfkit's own counter.
//!
//! Usage: `bench-report [CRITERION_DIR]` (default: `target/criterion` of the
//! workspace).

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use bpfkit_bench::{bpfkit_runner, workloads};

/// Criterion's headline figure for one benchmark, in nanoseconds per run:
/// the regression slope when it sampled linearly, else the mean.
fn ns_per_run(dir: &Path, group: &str, function: &str) -> Result<f64, String> {
    let path = dir.join(group).join(function).join("new/estimates.json");
    let text = std::fs::read_to_string(&path).map_err(|e| {
        format!(
            "{}: {e} (run `cargo bench -p bpfkit-bench` first)",
            path.display()
        )
    })?;
    let json: serde_json::Value =
        serde_json::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))?;
    ["slope", "mean"]
        .iter()
        .find_map(|k| json[k]["point_estimate"].as_f64())
        .ok_or_else(|| format!("{}: no slope or mean estimate", path.display()))
}

fn criterion_dir() -> PathBuf {
    if let Some(dir) = std::env::args_os().nth(1) {
        return PathBuf::from(dir);
    }
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../target"));
    target.join("criterion")
}

/// One row of the table.
struct Row {
    name: &'static str,
    insns: u64,
    ours: f64,
    rbpf: f64,
}

fn rows(dir: &Path) -> Result<Vec<Row>, String> {
    workloads::all()
        .into_iter()
        .map(|w| {
            let out = bpfkit_runner::run_once(w.bytecode, &w.mem)
                .map_err(|e| format!("{}: {e}", w.name))?;
            Ok(Row {
                name: w.name,
                insns: out.insn_count,
                ours: ns_per_run(dir, w.name, "bpfkit")?,
                rbpf: ns_per_run(dir, w.name, "rbpf")?,
            })
        })
        .collect()
}

fn print_table(rows: &[Row]) {
    let fixed = rows.iter().find(|r| r.name == "empty").map(|r| r.ours);
    println!("| program | insns executed | bpfkit ns/run | rbpf ns/run | bpfkit ns/insn | bpfkit ns/insn after fixed cost | rbpf ns/insn | rbpf / bpfkit |");
    println!("|---|---:|---:|---:|---:|---:|---:|---:|");
    for r in rows {
        let n = r.insns as f64;
        let marginal = match fixed {
            Some(f) if r.name != "empty" => format!("{:.2}", (r.ours - f) / n),
            _ => "–".to_string(),
        };
        println!(
            "| {} | {} | {:.1} | {:.1} | {:.2} | {} | {:.2} | {:.2}x |",
            r.name,
            r.insns,
            r.ours,
            r.rbpf,
            r.ours / n,
            marginal,
            r.rbpf / n,
            r.rbpf / r.ours
        );
    }
    println!();
    println!("Goals: at most 1 ns per executed instruction, at most 10 ns fixed cost per run, at least 3x faster than rbpf on every program.");
    println!();
    for r in rows {
        let per_insn = r.ours / r.insns as f64;
        let ratio = r.rbpf / r.ours;
        let mut misses = Vec::new();
        if r.name == "empty" {
            if r.ours > 10.0 {
                misses.push(format!(
                    "fixed cost {:.1} ns is {:.1}x the 10 ns goal",
                    r.ours,
                    r.ours / 10.0
                ));
            }
        } else if per_insn > 1.0 {
            misses.push(format!(
                "{per_insn:.2} ns/insn is {per_insn:.1}x the 1 ns goal"
            ));
        }
        if ratio < 3.0 {
            misses.push(format!(
                "{ratio:.2}x faster than rbpf, short of 3x by a factor {:.2}",
                3.0 / ratio
            ));
        }
        if misses.is_empty() {
            println!("- {}: goals met", r.name);
        } else {
            println!("- {}: {}", r.name, misses.join("; "));
        }
    }
}

fn main() -> ExitCode {
    match rows(&criterion_dir()) {
        Ok(rows) => {
            print_table(&rows);
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("bench-report: {e}");
            ExitCode::FAILURE
        }
    }
}
