//! Any UTF-8 text into the object writer (`bpfkit asm -o prog.o`): it
//! returns an ELF object or a typed error, never panics; what it writes,
//! the `object` crate reads back.
#![no_main]

use bpfkit_object::write::assemble_object;
use libfuzzer_sys::fuzz_target;
use object::Object;

fuzz_target!(|text: &str| {
    if let Ok(elf) = assemble_object(text) {
        let file = object::File::parse(&*elf).expect("the writer's output parses");
        assert_eq!(file.architecture(), object::Architecture::Bpf);
    }
});
