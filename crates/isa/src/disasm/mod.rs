//! The disassembler: slots to LLVM/kernel syntax (as `llvm-objdump -d`) or uBPF syntax.
