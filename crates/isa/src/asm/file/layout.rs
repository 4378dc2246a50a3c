//! Resolving an [`AsmFile`]: labels of the same section become pc-relative
//! offsets; everything else that refers to a symbol becomes a [`SymbolRef`].

use super::assembled::{AssembledFile, AssembledSection, AssembledSymbol, RefKind, SymbolRef};
use super::model::{AsmFile, Binding, Expr, ItemKind, SectionType, SourceLoc, SymbolUse};
use crate::asm::{patch_offset, AsmError};
use crate::instruction::{CallTarget, Instruction};

impl AsmFile {
    /// Resolves labels and lays out every section's bytes.
    ///
    /// Jumps must target a label of their own section. A `call` to a local
    /// label of the same section becomes a pc-relative call; a `call` to any
    /// other symbol (global, in another section, or undefined), an `lddw`
    /// of a symbol and a `.quad`/`.long` of a symbol become [`SymbolRef`]s,
    /// which an object writer turns into relocations. A `call` to an
    /// undefined, undeclared name that is a helper's calls that helper.
    pub fn assemble(&self) -> Result<AssembledFile, AsmError> {
        let symbols = self.final_symbols()?;
        let mut sections = Vec::with_capacity(self.sections.len());
        for (index, sec) in self.sections.iter().enumerate() {
            let mut data = Vec::new();
            let mut refs = Vec::new();
            for item in &sec.items {
                let bytes = match &item.kind {
                    ItemKind::Instruction { insn, target } => {
                        let insn = match target {
                            Some(t) => {
                                self.resolve(*insn, t, index, item.offset, &symbols, &mut refs)?
                            }
                            None => *insn,
                        };
                        let mut out = Vec::with_capacity(16);
                        for slot in insn.encode().as_slice() {
                            out.extend_from_slice(&slot.to_bytes());
                        }
                        out
                    }
                    ItemKind::Bytes(bytes) => bytes.clone(),
                    ItemKind::Value { size, value } => {
                        self.value(value, *size, item.offset, item.loc, &symbols, &mut refs)?
                    }
                    ItemKind::Fill { len, byte } => {
                        if sec.ty == SectionType::NoBits {
                            continue;
                        }
                        vec![*byte; *len as usize]
                    }
                };
                data.extend_from_slice(&bytes);
            }
            sections.push(AssembledSection {
                name: sec.name.clone(),
                flags: sec.flags,
                ty: sec.ty,
                entsize: sec.entsize,
                align: sec.align,
                size: sec.size,
                data,
                refs,
            });
        }
        Ok(AssembledFile {
            source_name: self.source_name.clone(),
            sections,
            symbols,
            order: self.order.clone(),
        })
    }

    /// Each symbol's binding, definition and size.
    fn final_symbols(&self) -> Result<Vec<AssembledSymbol>, AsmError> {
        let mut out = Vec::with_capacity(self.symbols.len());
        for sym in &self.symbols {
            let definition = sym.definition.map(|d| (d.section, d.offset));
            let binding = match (sym.binding, definition) {
                (Some(b), _) => b,
                (None, Some(_)) => Binding::Local,
                (None, None) => Binding::Global,
            };
            let size = match &sym.size {
                None => 0,
                Some((expr, loc)) => match self.constant(expr, *loc)? {
                    v if v >= 0 => v as u64,
                    v => {
                        return Err(
                            loc.error(format!("the size of `{}` is negative ({v})", sym.name))
                        )
                    }
                },
            };
            let temporary =
                matches!(sym.binding, None | Some(Binding::Local)) && is_temporary(&sym.name);
            out.push(AssembledSymbol {
                name: sym.name.clone(),
                binding,
                declared: sym.binding.is_some(),
                kind: sym.kind,
                visibility: sym.visibility,
                definition,
                size,
                temporary,
                loc: sym.first,
            });
        }
        Ok(out)
    }

    /// The value of an expression that must be a constant (`.size`).
    fn constant(&self, expr: &Expr, loc: SourceLoc) -> Result<i64, AsmError> {
        match expr {
            Expr::Const(v) => Ok(*v),
            Expr::Difference {
                plus,
                minus,
                addend,
            } => self.difference(*plus, *minus, *addend, loc),
            Expr::Symbol { symbol, .. } => Err(loc.error(format!(
                "`{}` is an address, not a constant",
                self.symbols[*symbol].name
            ))),
        }
    }

    /// `plus - minus + addend`, for two labels of one section.
    fn difference(
        &self,
        plus: usize,
        minus: usize,
        addend: i64,
        loc: SourceLoc,
    ) -> Result<i64, AsmError> {
        let (a, b) = (&self.symbols[plus], &self.symbols[minus]);
        match (a.definition, b.definition) {
            (Some(da), Some(db)) if da.section == db.section => Ok((da.offset as i64)
                .wrapping_sub(db.offset as i64)
                .wrapping_add(addend)),
            (Some(_), Some(_)) => Err(loc.error(format!(
                "`{} - {}`: the labels are in different sections, so the distance is unknown",
                a.name, b.name
            ))),
            (None, _) => Err(loc.error(format!("unknown label `{}`", a.name))),
            (_, None) => Err(loc.error(format!("unknown label `{}`", b.name))),
        }
    }

    /// The bytes of a `.quad`/`.long`/... whose value involves symbols.
    fn value(
        &self,
        value: &Expr,
        size: u8,
        offset: u64,
        loc: SourceLoc,
        symbols: &[AssembledSymbol],
        refs: &mut Vec<SymbolRef>,
    ) -> Result<Vec<u8>, AsmError> {
        match value {
            Expr::Symbol { symbol, addend } => {
                let kind = match size {
                    8 => RefKind::Abs64,
                    4 => RefKind::Abs32,
                    _ => {
                        return Err(loc.error(format!(
                            "the address of `{}` needs `.quad` or `.long`, not a {size}-byte value",
                            symbols[*symbol].name
                        )))
                    }
                };
                check_defined(&symbols[*symbol], loc)?;
                refs.push(SymbolRef {
                    offset,
                    kind,
                    symbol: *symbol,
                    addend: *addend,
                    loc,
                });
                Ok(vec![0; usize::from(size)])
            }
            other => {
                let v = self.constant(other, loc)?;
                super::data::le_bytes(v, size).map_err(|m| loc.error(m))
            }
        }
    }

    /// Sets the target of a jump, call or `lddw` written with a symbol.
    fn resolve(
        &self,
        insn: Instruction,
        target: &SymbolUse,
        section: usize,
        offset: u64,
        symbols: &[AssembledSymbol],
        refs: &mut Vec<SymbolRef>,
    ) -> Result<Instruction, AsmError> {
        let sym = &symbols[target.symbol];
        let loc = target.loc;
        let reference = |kind| SymbolRef {
            offset,
            kind,
            symbol: target.symbol,
            addend: target.addend,
            loc,
        };
        match insn {
            Instruction::LoadImm64 { .. } => {
                check_defined(sym, loc)?;
                refs.push(reference(RefKind::LoadImm64));
                Ok(insn)
            }
            Instruction::Call(CallTarget::Local(_)) => match sym.definition {
                Some((s, at)) if s == section && sym.binding == Binding::Local => {
                    self.relative(insn, &sym.name, at, offset, loc)
                }
                None if !sym.declared && target.helper.is_some() => Ok(Instruction::Call(
                    CallTarget::Helper(target.helper.unwrap_or(0)),
                )),
                _ => {
                    check_defined(sym, loc)?;
                    refs.push(reference(RefKind::Call));
                    Ok(insn)
                }
            },
            _ => match sym.definition {
                Some((s, at)) if s == section => self.relative(insn, &sym.name, at, offset, loc),
                Some((s, _)) => Err(loc.error(format!(
                    "`{}` is in section `{}`: a jump stays within its own section",
                    sym.name, self.sections[s].name
                ))),
                None => Err(loc.error(format!("unknown label `{}`", sym.name))),
            },
        }
    }

    /// `insn` at byte `from` aimed at byte `to` of the same section.
    fn relative(
        &self,
        insn: Instruction,
        name: &str,
        to: u64,
        from: u64,
        loc: SourceLoc,
    ) -> Result<Instruction, AsmError> {
        let distance = to as i64 - from as i64;
        if distance % 8 != 0 {
            return Err(loc.error(format!(
                "label `{name}` is not on an instruction boundary ({distance} bytes away)"
            )));
        }
        patch_offset(insn, distance / 8 - 1, name).map_err(|m| loc.error(m))
    }
}

/// Fails for a temporary label (`.Lx`) that is used but never defined: it
/// cannot be an external symbol.
fn check_defined(sym: &AssembledSymbol, loc: SourceLoc) -> Result<(), AsmError> {
    if sym.definition.is_none() && (sym.temporary || sym.binding == Binding::Local) {
        let what = if sym.temporary {
            "label"
        } else {
            "local symbol"
        };
        return Err(loc.error(format!("unknown {what} `{}`", sym.name)));
    }
    Ok(())
}

/// Names clang's assembler keeps out of the symbol table: `.L` labels and
/// clang's basic-block labels (`LBB0_2`), which clang's own object writer
/// treats as assembler-local.
fn is_temporary(name: &str) -> bool {
    if name.starts_with(".L") {
        return true;
    }
    let Some(rest) = name.strip_prefix("LBB") else {
        return false;
    };
    let Some((a, b)) = rest.split_once('_') else {
        return false;
    };
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|c| c.is_ascii_digit());
    digits(a) && digits(b)
}
