//! Loads BPF objects into the kernel with `bpfkit_kernel::loader` and prints
//! each program's verdict (root needed):
//! `cargo run -p bpfkit-kernel --example load_object -- OBJ...`.

use bpfkit_kernel::loader::{load, LoadOptions};
use bpfkit_object::read::Object;

fn main() {
    let opts = LoadOptions {
        keep_going: true,
        pin_root: std::env::temp_dir(),
        ..Default::default()
    };
    for path in std::env::args().skip(1) {
        let obj = match Object::open(&path) {
            Ok(o) => o,
            Err(e) => {
                println!("{path}: {e}");
                continue;
            }
        };
        match load(&obj, &opts) {
            Err(e) => println!("{path}: {e}"),
            Ok(mut loaded) => {
                if let Some(e) = &loaded.btf_error {
                    println!("{path}: BTF refused: {e}");
                }
                for p in &loaded.programs {
                    match &p.result {
                        Ok(_) => println!("{path}: {} loaded", p.name),
                        Err(e) => println!("{path}: {}: {e}", p.name),
                    }
                }
                loaded.unpin();
            }
        }
    }
}
