//! The BPF Type Format (BTF): parsing, type graph and dumps.
