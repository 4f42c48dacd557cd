//! Links `whatif-lambda` with its cold-start layout, `hot.ld`: a linker
//! script that puts the functions a cold start runs first in the binary's
//! code, next to each other, so a start maps a few 64 KiB windows of code
//! instead of many. `whatif-bench layout --write` makes it
//! (docs/performance.md). Both linkers the project uses read it: lld
//! (cargo-lambda's zig, and rustc's default on x86_64 Linux) and GNU ld.
//!
//! The `profiling` build, which `layout` runs under callgrind, links
//! without it: valgrind names only the functions in a section called
//! `.text`, and the layout moves them into their own.

fn main() {
    println!("cargo:rerun-if-changed=hot.ld");
    // OUT_DIR is <target>/[<triple>/]<profile>/build/<package>-<hash>/out.
    let out_dir = std::env::var("OUT_DIR").unwrap_or_default();
    let profile = std::path::Path::new(&out_dir).ancestors().nth(3).and_then(|p| p.file_name());
    if profile.is_some_and(|p| p == "profiling") {
        return;
    }
    let script = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("hot.ld");
    println!("cargo:rustc-link-arg-bin=whatif-lambda=-Wl,-T,{}", script.display());
}
