//! Reading BPF ELF objects: programs, maps, global data and relocations.
