//! One module per subcommand.

pub mod asm;
pub mod btf;
mod btf_value;
pub mod conformance_plugin;
pub mod disasm;
pub mod exec;
pub mod feature;
mod kernel_args;
mod kernel_render;
pub mod link;
pub mod load;
pub mod map;
pub mod prog;
