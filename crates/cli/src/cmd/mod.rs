//! One module per subcommand.

pub mod asm;
pub mod btf;
pub mod conformance_plugin;
pub mod disasm;
pub mod exec;
pub mod inspect;
pub mod load;
pub mod run;
