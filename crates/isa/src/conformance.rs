//! The bpf_conformance test vector format (`.data` files).
