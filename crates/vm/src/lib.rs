//! Userspace BPF virtual machine.
