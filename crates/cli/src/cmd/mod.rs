//! One module per subcommand.

pub mod asm;
pub mod btf;
mod btf_list;
mod btf_value;
pub mod conformance_plugin;
pub mod disasm;
pub mod exec;
pub mod feature;
pub mod inspect;
mod kernel_args;
mod kernel_pins;
mod kernel_render;
pub mod link;
pub mod load;
pub mod map;
mod map_entry;
mod map_queue;
pub mod prog;
mod prog_load;
pub mod run;
