//! The symbol table of a written object, in the order clang's assembler
//! gives it: the file symbol, then local symbols and the section symbols
//! that relocations need, in order of first appearance, then the global
//! and weak symbols in order of first appearance.

use bpfkit_isa::asm::file::{AssembledFile, Binding, Mention};

/// One symbol-table entry after the null symbol.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Entry {
    /// The `STT_FILE` symbol of `.file "prog.c"`.
    File,
    /// The `STT_SECTION` symbol of a section (index into the file's sections).
    Section(usize),
    /// A named symbol (index into the file's symbols).
    Symbol(usize),
}

/// The planned symbol table and the index of each entry.
#[derive(Clone, Debug)]
pub(super) struct Symtab {
    /// The entries after the null symbol, locals first.
    pub entries: Vec<Entry>,
    /// Number of local entries, counting the null symbol (`sh_info` of `.symtab`).
    pub num_local: u32,
    /// Symbol index of each section's `STT_SECTION` symbol, where one is written.
    pub section_symbol: Vec<Option<u32>>,
    /// Symbol index of each named symbol, where it is written.
    pub symbol_index: Vec<Option<u32>>,
}

impl Symtab {
    /// Plans the table for `file`. A reference to a local definition goes
    /// through its section's symbol (so that section symbol is written); a
    /// reference to anything else goes through the symbol itself.
    pub fn plan(file: &AssembledFile) -> Symtab {
        let mut needs_section = vec![false; file.sections.len()];
        let mut referenced = vec![false; file.symbols.len()];
        for r in file.sections.iter().flat_map(|s| &s.refs) {
            let sym = &file.symbols[r.symbol];
            match sym.definition {
                Some((section, _)) if sym.is_local_definition() => needs_section[section] = true,
                _ => referenced[r.symbol] = true,
            }
        }
        let included: Vec<bool> = file
            .symbols
            .iter()
            .enumerate()
            .map(|(i, s)| {
                !s.temporary
                    && (s.definition.is_some()
                        || referenced[i]
                        || (s.declared && s.binding != Binding::Local))
            })
            .collect();
        let mut entries = Vec::new();
        if file.source_name.is_some() {
            entries.push(Entry::File);
        }
        for m in &file.order {
            match *m {
                Mention::Section(i) if needs_section[i] => entries.push(Entry::Section(i)),
                Mention::Symbol(i) if included[i] && file.symbols[i].binding == Binding::Local => {
                    entries.push(Entry::Symbol(i))
                }
                _ => {}
            }
        }
        let num_local = entries.len() as u32 + 1;
        for m in &file.order {
            if let Mention::Symbol(i) = *m {
                if included[i] && file.symbols[i].binding != Binding::Local {
                    entries.push(Entry::Symbol(i));
                }
            }
        }
        let mut section_symbol = vec![None; file.sections.len()];
        let mut symbol_index = vec![None; file.symbols.len()];
        for (n, e) in entries.iter().enumerate() {
            let index = n as u32 + 1;
            match *e {
                Entry::Section(i) => section_symbol[i] = Some(index),
                Entry::Symbol(i) => symbol_index[i] = Some(index),
                Entry::File => {}
            }
        }
        Symtab {
            entries,
            num_local,
            section_symbol,
            symbol_index,
        }
    }
}
