//! Links `whatif-lambda` with its cold-start layout, `hot.ld`: a linker
//! script that puts the functions a cold start runs first in the binary's
//! code, next to each other, so a start maps a few 64 KiB windows of code
//! instead of many. `whatif-bench layout --write` makes it
//! (docs/performance.md). Both linkers the project uses read it: lld
//! (cargo-lambda's zig, and rustc's default on x86_64 Linux) and GNU ld.

fn main() {
    println!("cargo:rerun-if-changed=hot.ld");
    let script = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("hot.ld");
    println!("cargo:rustc-link-arg-bin=whatif-lambda=-Wl,-T,{}", script.display());
}
