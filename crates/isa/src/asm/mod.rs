//! The assembler: LLVM/kernel syntax and uBPF/bpf_conformance syntax to slots.
