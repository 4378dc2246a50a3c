//! Prints the reader's model of an object (debug form), for development.
fn main() {
    let path = std::env::args().nth(1).expect("usage: dump_object FILE.o");
    match bpfkit_object::read::Object::open(&path) {
        Ok(o) => {
            for p in &o.programs {
                println!("{:#?}", p.section_type);
                println!("{} {:?} rel={:#?}", p.name, p.functions, p.relocations);
                println!("func_info={:?}", p.func_info);
            }
            for m in &o.maps {
                println!("{m:?}");
            }
            println!("{:#?}", o.externs);
        }
        Err(e) => println!("error: {e}"),
    }
}
