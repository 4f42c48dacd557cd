//! The cold-start layout: which functions of `whatif-lambda` a cold start
//! runs, learned by running every function's cold start once under
//! callgrind, written as `app/hot.ld`, a linker script that puts those
//! functions first in the binary's code and next to each other.
//!
//! Why: the kernel maps a binary's code 64 KiB around each page a process
//! touches. Spread over the one binary of every function, the code a cold
//! start runs touches far more of those windows than it fills; packed
//! together it touches a few. (docs/performance.md has the figures.)
//!
//! Needs valgrind, the emulators (the functions run on the AWS adapters, as
//! in Lambda) and the binary with its symbols:
//! `cargo build --profile profiling -p whatif-app --bin whatif-lambda`.
//! The script names functions by their mangled path without the hash, so it
//! outlives the build it was made from; a function renamed since is simply
//! not moved.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use crate::cold::{self, Run};
use crate::{Options, Row, runtime_api};

/// The linker script, beside the binary's crate.
const SCRIPT: &str = "app/hot.ld";
/// The output section the script adds before `.text`.
const SECTION: &str = ".text.whatif_hot";

pub async fn run(options: &Options) -> Result<Vec<Row>, String> {
    let bin_dir = options.bin_dir.parent().map(|t| t.join("profiling")).unwrap_or_default();
    let bin = bin_dir.join(cold::LAMBDA_BIN);
    if !bin.is_file() {
        return Err(format!(
            "no binary with symbols at {}\n  build it first: cargo build --profile profiling -p whatif-app --bin {}",
            bin.display(),
            cold::LAMBDA_BIN
        ));
    }
    // valgrind names only the functions in `.text`: a binary linked with
    // the layout would hide the ones it moved.
    let image = std::fs::read(&bin).map_err(|e| format!("cannot read {}: {e}", bin.display()))?;
    if image.windows(SECTION.len()).any(|w| w == SECTION.as_bytes()) {
        return Err(format!(
            "{} is linked with the layout ({SECTION}); the profiling build links without it: \
             rebuild it with cargo build --profile profiling -p whatif-app --bin {}",
            bin.display(),
            cold::LAMBDA_BIN
        ));
    }
    drop(image);
    let (dynamodb, moto) = cold::emulator_urls(true)?.ok_or("the layout needs the emulators")?;
    let backend = cold::emulators(&dynamodb, &moto).await?;
    let out = backend.dir.path().join("callgrind");
    std::fs::create_dir_all(&out).map_err(|e| format!("cannot create {}: {e}", out.display()))?;

    // Every function's own event, and history-get as the signed-in owner of
    // what it reads (the path the cold benchmark measures).
    let mut runs: Vec<(String, &whatif_shared::routes::Route, bytes::Bytes)> = whatif_local::routes()
        .into_iter()
        .filter(|r| options.functions.is_empty() || options.functions.iter().any(|f| f == r.function))
        .map(|r| (r.function.to_string(), r, runtime_api::event(&options.workspace, r)))
        .collect();
    let (owner_event, _) = cold::owner_read(&backend, &options.workspace).await?;
    runs.push(("history-get-owner".into(), crate::route("history-get")?, owner_event));

    println!("== layout: {} cold starts under callgrind ({})", runs.len(), bin.display());
    // symbol pattern → the runs that ran it (their indices, in order)
    let mut ran: BTreeMap<String, Vec<usize>> = BTreeMap::new();
    let mut failed = Vec::new();
    for (index, (label, route, event)) in runs.iter().enumerate() {
        let file = out.join(format!("{label}.out"));
        let wrap: Vec<String> = [
            "valgrind",
            "--tool=callgrind",
            "--demangle=no",
            "--compress-strings=no",
            "--compress-pos=no",
            "--dump-line=no",
        ]
        .into_iter()
        .map(String::from)
        .chain([format!("--callgrind-out-file={}", file.display())])
        .collect();
        let run = Run { bin: &bin, route, log: label, env: &[], wrap: &wrap };
        let log = backend.dir.path().join(format!("{label}.log"));
        // The harness stops a wrapped process with SIGTERM after its first
        // answer, and callgrind writes its file on the way out.
        // A function that cannot answer here (text to speech has no Polly
        // on the emulators: 503) still ran its cold start's code.
        let answer = match cold::start_once(&run, event, &backend, None, &log).await {
            Ok(sample) => format!("status {}", sample.status),
            Err(e) => e.chars().take(60).collect(),
        };
        match executed(&file, &bin) {
            Ok(functions) => {
                println!("   {label:<34} {:>6} functions  {answer}", functions.len());
                for f in functions {
                    ran.entry(f).or_default().push(index);
                }
            }
            Err(e) => {
                println!("   {label:<34} FAILED: {answer}: {e}");
                failed.push(label.clone());
            }
        }
    }
    if !failed.is_empty() {
        return Err(format!("cold starts failed under callgrind: {}", failed.join(", ")));
    }
    // The code most functions run first, so a function's own code is what
    // lies beyond the shared run; then code that the same starts run, side
    // by side, so one start's own code is in few places.
    let mut order: Vec<(String, Vec<usize>)> = ran.into_iter().collect();
    order.sort_by(|a, b| b.1.len().cmp(&a.1.len()).then_with(|| a.1.cmp(&b.1)).then_with(|| a.0.cmp(&b.0)));
    let script = render(&order, runs.len());
    let path = options.workspace.join(SCRIPT);
    if options.write {
        std::fs::write(&path, script).map_err(|e| format!("cannot write {}: {e}", path.display()))?;
        println!("   wrote {} ({} functions)", path.display(), order.len());
    } else {
        println!("   {} functions; --write writes {}", order.len(), path.display());
    }
    Ok(vec![Row::new("layout: functions a cold start runs", order.len().to_string(), "", None)])
}

/// The names of the functions of `bin` a callgrind profile ran, as
/// patterns of their mangled names.
fn executed(profile: &Path, bin: &Path) -> Result<BTreeSet<String>, String> {
    let text = std::fs::read_to_string(profile)
        .map_err(|e| format!("no callgrind profile at {} ({e}): did valgrind run?", profile.display()))?;
    let bin = bin.canonicalize().unwrap_or_else(|_| PathBuf::from(bin));
    let mut in_bin = false;
    let mut names = BTreeSet::new();
    for line in text.lines() {
        if let Some(object) = line.strip_prefix("ob=") {
            in_bin = Path::new(object).canonicalize().is_ok_and(|o| o == bin);
        } else if let Some(name) = line.strip_prefix("fn=")
            && in_bin
            && let Some(pattern) = pattern(name)
        {
            names.insert(pattern);
        }
    }
    Ok(names)
}

/// A function's name as a pattern, or `None` for a name that is not a symbol
/// (callgrind's `0x…` for code without one).
///
/// What differs between builds becomes `*`: an LTO-promoted local's
/// `.llvm.<n>` suffix; in a v0 name (`_R…`, the workspace's mangling) each
/// crate's disambiguator (`Cs<base-62>_`, a hash of the crate's build, so
/// different for arm64) and the back-references that count bytes past it
/// (`B<base-62>_`); in a legacy name (`_ZN…`, the C-like one) the hash that
/// ends it. A v0 name spells out a generic function's type arguments, so
/// its pattern names that one instance; a legacy one names them all.
fn pattern(name: &str) -> Option<String> {
    // callgrind marks a recursive function's inner calls `name'2`.
    let name = name.split('\'').next().unwrap_or(name);
    if name.starts_with("0x") || name.is_empty() || name.contains(char::is_whitespace) {
        return None;
    }
    let (name, suffix) = match name.split_once(".llvm.") {
        Some((head, _)) => (head, "*"),
        None => (name, ""),
    };
    let body = if name.starts_with("_R") {
        let mut out = String::with_capacity(name.len());
        let bytes = name.as_bytes();
        let mut i = 0;
        while i < bytes.len() {
            // `Cs<base-62>_` (a crate) and `B<base-62>_` (a back-reference).
            let (tag, longest) = match bytes[i] {
                b'C' if bytes.get(i + 1) == Some(&b's') => (2, 13),
                b'B' => (1, 4),
                _ => (0, 0),
            };
            let digits = bytes[(i + tag).min(bytes.len())..].iter().take_while(|b| b.is_ascii_alphanumeric()).count();
            if tag > 0 && (1..=longest).contains(&digits) && bytes.get(i + tag + digits) == Some(&b'_') {
                out.push_str(&name[i..i + tag]);
                out.push_str("*_");
                i += tag + digits + 1;
            } else {
                out.push(bytes[i] as char);
                i += 1;
            }
        }
        out
    } else {
        // Rust's legacy mangling ends a path with `17h` and a 16-digit hash, then `E`.
        match name.strip_suffix('E').and_then(|n| n.len().checked_sub(16).map(|i| n.split_at(i))) {
            Some((head, hash)) if head.ends_with("17h") && hash.bytes().all(|b| b.is_ascii_hexdigit()) => {
                return Some(format!("{head}*"));
            }
            _ => name.to_string(),
        }
    };
    Some(format!("{body}{suffix}"))
}

fn render(order: &[(String, Vec<usize>)], runs: usize) -> String {
    let mut script = format!(
        "/* The cold-start layout of whatif-lambda, made by\n   \
         `cargo run --release -p whatif-bench -- layout --emulators --write` (docs/performance.md):\n   \
         the {} functions that {runs} cold starts ran (every function's event, and history-get as its owner),\n   \
         those most starts ran first, those the same starts ran together. The linker puts them ahead of the rest of .text, next to each other.\n   \
         Rust symbols are named without their hash, so the script outlives the build it was made from. */\n\
         SECTIONS\n{{\n  {SECTION} :\n  {{\n",
        order.len()
    );
    // A function the compiler thinks cold (`#[cold]`: a vector's growth,
    // an error's construction) is in `.text.unlikely.<name>`.
    for (pattern, _) in order {
        script.push_str(&format!("    *(.text.{pattern} .text.unlikely.{pattern})\n"));
    }
    script.push_str("  }\n}\nINSERT BEFORE .text;\n");
    script
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_rust_symbol_loses_its_hash_and_a_c_symbol_keeps_its_name() {
        assert_eq!(
            pattern("_ZN5tokio7runtime4task3raw4poll17h0123456789abcdefE").as_deref(),
            Some("_ZN5tokio7runtime4task3raw4poll17h*")
        );
        assert_eq!(
            pattern("_ZN4core3ptr13drop_in_place17hfedcba9876543210E.llvm.12345").as_deref(),
            Some("_ZN4core3ptr13drop_in_place17h*")
        );
        assert_eq!(pattern("aws_lc_0_30_sha256_init").as_deref(), Some("aws_lc_0_30_sha256_init"));
        assert_eq!(
            pattern("_RNvMNtCsgEmfK2I1SDS_4core3strB2T_5write'2").as_deref(),
            Some("_RNvMNtCs*_4core3strB*_5write")
        );
        // An identifier's own letters stay as they are.
        assert_eq!(pattern("_RNvCs1a2b3c_7mycrate8BTreeMap").as_deref(), Some("_RNvCs*_7mycrate8BTreeMap"));
        assert_eq!(pattern("_RNvCs1a_3foo3bar.llvm.42").as_deref(), Some("_RNvCs*_3foo3bar*"));
        assert_eq!(pattern("0x0000000000123abc"), None);
    }
}
