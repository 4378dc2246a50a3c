//! Writing BPF ELF objects.
