//! CO-RE (compile once, run everywhere) relocations against a target BTF.
