//! Applying CO-RE relocations: libbpf's `bpf_core_resolve_relo`,
//! `bpf_core_calc_relo_insn` and `bpf_core_patch_insn` in sequence, per
//! record, with libbpf's candidate cache.

use std::collections::HashMap;

use bpfkit_isa::Insn;

use super::candidates::{find_candidates, Candidate, CoreTarget};
use super::error::{CoreError, CoreErrorKind, ReloLocation, SourceLine};
use super::names::kind_str;
use super::patch::{patch_insn, Patch};
use super::report::{CandidateReport, CoreOutcome, CoreResolution, FoundCandidate};
use super::spec::{parse_spec, Spec};
use super::spec_match::spec_match;
use super::value::{calc_relo, ReloValue};
use crate::btf::{Btf, BtfExt, CoreRelo, CoreReloKind};

/// Applies CO-RE relocations of one object (one local BTF) against one
/// target. It keeps libbpf's per-object candidate cache: the first
/// relocation of a local type searches the target, and the candidate list
/// is then pruned to the candidates that matched, so later relocations of
/// that type only consider those. Use one `Relocator` for all sections of
/// an object to get libbpf's exact results.
#[derive(Debug)]
pub struct Relocator<'a> {
    local: &'a Btf,
    target: CoreTarget<'a>,
    cache: HashMap<u32, Vec<Candidate<'a>>>,
}

/// A resolution as far as it got, before its outcome is known.
struct Partial {
    location: ReloLocation,
    local_type: String,
    local: String,
    found: Vec<FoundCandidate>,
    candidates: Vec<CandidateReport>,
    target: Option<usize>,
    value: Option<ReloValue>,
    /// Resolution succeeded; the failure, if any, is the patching's.
    patching: bool,
}

impl Partial {
    /// The resolution with a failure recorded as its outcome.
    fn finish_lenient(self, outcome: Result<Patch, CoreError>) -> CoreResolution {
        let outcome = match outcome {
            Ok(patch) => CoreOutcome::Patched { patch },
            Err(e) => CoreOutcome::Failed {
                error: e.reason.to_string(),
                reason: e.reason,
            },
        };
        self.finish(outcome)
    }

    fn finish(self, outcome: CoreOutcome) -> CoreResolution {
        CoreResolution {
            location: self.location,
            local_type: self.local_type,
            local: self.local,
            found: self.found,
            candidates: self.candidates,
            target: self.target,
            value: self.value,
            failed_in_patch: self.patching && matches!(outcome, CoreOutcome::Failed { .. }),
            outcome,
        }
    }
}

/// `kind name` of a type for log lines (`struct task_struct`, `int <anon>`).
fn type_text(btf: &Btf, id: u32) -> String {
    match btf.type_by_id(id) {
        Some(t) => {
            let n = btf.name(t);
            format!(
                "{} {}",
                kind_str(t.kind),
                if n.is_empty() { "<anon>" } else { n }
            )
        }
        None => format!("unknown [{id}]"),
    }
}

impl<'a> Relocator<'a> {
    /// A relocator for objects whose `.BTF` is `local`.
    pub fn new(local: &'a Btf, target: CoreTarget<'a>) -> Relocator<'a> {
        Relocator {
            local,
            target,
            cache: HashMap::new(),
        }
    }

    /// Applies every CO-RE record of `section` to its instruction slots
    /// (`insns` are the section's, so `insn_off / 8` indexes them). Stops at
    /// the first relocation that fails, as libbpf fails the whole load;
    /// instructions already patched stay patched.
    pub fn relocate_section(
        &mut self,
        ext: &BtfExt,
        section: &str,
        insns: &mut [Insn],
    ) -> Result<Vec<CoreResolution>, CoreError> {
        ext.core_relos(section)
            .iter()
            .enumerate()
            .map(|(i, r)| {
                let source = SourceLine::find(ext, section, r.insn_off);
                let (partial, outcome) = self.apply(section, i, r, insns, source);
                outcome.map(|patch| partial.finish(CoreOutcome::Patched { patch }))
            })
            .collect()
    }

    /// Like [`Relocator::relocate_section`] but goes on past failures, each
    /// recorded as [`CoreOutcome::Failed`] with what was found before the
    /// failure (the local spec, the candidates tried): the report
    /// `bpfkit btf core` prints.
    pub fn report_section(
        &mut self,
        ext: &BtfExt,
        section: &str,
        insns: &mut [Insn],
    ) -> Vec<CoreResolution> {
        ext.core_relos(section)
            .iter()
            .enumerate()
            .map(|(i, r)| {
                let source = SourceLine::find(ext, section, r.insn_off);
                let (partial, outcome) = self.apply(section, i, r, insns, source);
                partial.finish_lenient(outcome)
            })
            .collect()
    }

    /// Applies the CO-RE records of a linked program from the reader
    /// ([`crate::read::Program`], whose `core_relos` count instructions in
    /// slots of the linked code) to a copy of its slots, for a loader.
    /// Locations name the program's section, the record's index in the
    /// program, the linked slot, and the source line.
    pub fn relocate_program(
        &mut self,
        program: &crate::read::Program,
    ) -> Result<(Vec<Insn>, Vec<CoreResolution>), CoreError> {
        let mut slots = program.slots().to_vec();
        let mut out = Vec::with_capacity(program.core_relos.len());
        for (i, r) in program.core_relos.iter().enumerate() {
            let pc = r.insn_off as usize;
            let source = program.line_at(pc).map(|l| SourceLine {
                file: l.file_name.clone(),
                line: l.line,
                col: l.col,
                text: l.line_text.trim().to_owned(),
            });
            let rec = CoreRelo {
                insn_off: r.insn_off.saturating_mul(8),
                ..r.clone()
            };
            let (partial, outcome) = self.apply(&program.section, i, &rec, &mut slots, source);
            out.push(partial.finish(CoreOutcome::Patched { patch: outcome? }));
        }
        Ok((slots, out))
    }

    /// Like [`Relocator::relocate`] but a failure is recorded in the
    /// report ([`CoreOutcome::Failed`]) with what was found before it.
    pub fn report(
        &mut self,
        section: &str,
        relo_index: usize,
        relo: &CoreRelo,
        insns: &mut [Insn],
    ) -> CoreResolution {
        let (partial, outcome) = self.apply(section, relo_index, relo, insns, None);
        partial.finish_lenient(outcome)
    }

    /// Resolves one record and patches its instruction in `insns`.
    /// `relo_index` is the record's index in its section (for reports).
    pub fn relocate(
        &mut self,
        section: &str,
        relo_index: usize,
        relo: &CoreRelo,
        insns: &mut [Insn],
    ) -> Result<CoreResolution, CoreError> {
        let (partial, outcome) = self.apply(section, relo_index, relo, insns, None);
        outcome.map(|patch| partial.finish(CoreOutcome::Patched { patch }))
    }

    /// Resolves and patches, returning the report as far as it got and
    /// the patch or the error.
    fn apply(
        &mut self,
        section: &str,
        relo_index: usize,
        relo: &CoreRelo,
        insns: &mut [Insn],
        source: Option<SourceLine>,
    ) -> (Partial, Result<Patch, CoreError>) {
        let location = ReloLocation {
            section: section.to_owned(),
            relo_index,
            insn_index: (relo.insn_off / 8) as usize,
            kind: relo.kind,
            type_id: relo.type_id,
            access: relo.access.clone(),
            source,
        };
        let local_type = type_text(self.local, relo.type_id);
        let mut partial = Partial {
            local: format!("[{}] {local_type} + {}", relo.type_id, relo.access),
            local_type,
            location: location.clone(),
            found: Vec::new(),
            candidates: Vec::new(),
            target: None,
            value: None,
            patching: false,
        };
        let outcome = (|| {
            if relo.insn_off % 8 != 0 {
                return Err(CoreErrorKind::MisalignedInsnOff(relo.insn_off));
            }
            let value = self.resolve(relo, &mut partial)?;
            partial.value = Some(value);
            partial.patching = true;
            patch_insn(insns, location.insn_index, &value)
        })();
        let outcome = outcome.map_err(|reason| CoreError {
            location: Box::new(location),
            reason,
        });
        (partial, outcome)
    }

    /// The candidate list of `local_id`, searched on first use.
    fn candidates(&mut self, local_id: u32) -> (Vec<Candidate<'a>>, bool) {
        if let Some(c) = self.cache.get(&local_id) {
            return (c.clone(), false);
        }
        let c = find_candidates(self.local, local_id, &self.target);
        self.cache.insert(local_id, c.clone());
        (c, true)
    }

    /// `bpf_core_resolve_relo` + `bpf_core_calc_relo_insn`: the value pair
    /// for the record; the report gets the local spec and the candidates as
    /// they are found.
    fn resolve(&mut self, relo: &CoreRelo, out: &mut Partial) -> Result<ReloValue, CoreErrorKind> {
        let local = self.local;
        let lt = local
            .type_by_id(relo.type_id)
            .ok_or(CoreErrorKind::NoLocalType(relo.type_id))?;
        let named = !local.name(lt).is_empty();
        if relo.kind != CoreReloKind::TypeIdLocal && !named {
            return Err(CoreErrorKind::AnonymousType(relo.type_id));
        }
        let cands = if relo.kind != CoreReloKind::TypeIdLocal {
            let (c, searched) = self.candidates(relo.type_id);
            if searched {
                out.found = c
                    .iter()
                    .map(|c| FoundCandidate {
                        btf: c.btf_name.to_owned(),
                        type_id: c.id,
                        type_name: type_text(c.btf, c.id),
                    })
                    .collect();
            }
            c
        } else {
            Vec::new()
        };
        let spec = parse_spec(local, relo.type_id, &relo.access, relo.kind).map_err(|reason| {
            CoreErrorKind::BadAccessSpec {
                type_id: relo.type_id,
                access: relo.access.clone(),
                reason,
            }
        })?;
        out.local = spec.render(local);
        if relo.kind == CoreReloKind::TypeIdLocal {
            // Type ids may change when objects are linked: no validation.
            let id = spec.root_type_id as u64;
            return Ok(ReloValue {
                orig_val: id,
                new_val: id,
                ..ReloValue::default()
            });
        }
        let calc_err = |reason: String| CoreErrorKind::Calc {
            kind: relo.kind.name(),
            reason,
        };
        let mut first: Option<(usize, Spec, ReloValue)> = None;
        let mut kept = Vec::new();
        for (i, c) in cands.iter().enumerate() {
            let (ok, ts) = spec_match(local, &spec, c.btf, c.id).map_err(|reason| {
                CoreErrorKind::CandidateMatch {
                    btf: c.btf_name.to_owned(),
                    type_id: c.id,
                    reason,
                }
            })?;
            out.candidates
                .push(candidate_report(i, c, ok, ts.render(c.btf)));
            if !ok {
                continue;
            }
            let res = calc_relo(relo.kind, local, &spec, Some((c.btf, &ts))).map_err(calc_err)?;
            match &first {
                None => {
                    out.target = Some(i);
                    first = Some((i, ts, res));
                }
                Some((fi, fs, fres)) => {
                    if ts.bit_offset != fs.bit_offset {
                        return Err(CoreErrorKind::AmbiguousOffset {
                            first_id: cands[*fi].id,
                            first_bits: fs.bit_offset,
                            cand_id: c.id,
                            cand_bits: ts.bit_offset,
                        });
                    }
                    if res.poison != fres.poison || res.new_val != fres.new_val {
                        let text = |r: &ReloValue| {
                            format!(
                                "{} {}",
                                if r.poison { "failure" } else { "success" },
                                r.new_val
                            )
                        };
                        return Err(CoreErrorKind::AmbiguousValue {
                            first_id: cands[*fi].id,
                            first: text(fres),
                            cand_id: c.id,
                            cand: text(&res),
                        });
                    }
                }
            }
            kept.push(*c);
        }
        if !kept.is_empty() {
            self.cache.insert(relo.type_id, kept);
        }
        match first {
            Some((_, _, v)) => Ok(v),
            None => calc_relo(relo.kind, local, &spec, None).map_err(calc_err),
        }
    }
}

fn candidate_report(
    index: usize,
    c: &Candidate<'_>,
    matched: bool,
    spec: String,
) -> CandidateReport {
    CandidateReport {
        index,
        btf: c.btf_name.to_owned(),
        type_id: c.id,
        type_name: type_text(c.btf, c.id),
        matched,
        spec,
    }
}

/// Applies the CO-RE relocations of `section` against `target` with a
/// fresh [`Relocator`]: the one-call form for an object with one section
/// of relocations. Objects with several should share one `Relocator`, as
/// libbpf shares its candidate cache.
pub fn relocate_section(
    local_btf: &Btf,
    ext: &BtfExt,
    section: &str,
    insns: &mut [Insn],
    target_btf: &Btf,
) -> Result<Vec<CoreResolution>, CoreError> {
    Relocator::new(local_btf, CoreTarget::new(target_btf)).relocate_section(ext, section, insns)
}
