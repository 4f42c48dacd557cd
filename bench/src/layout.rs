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
//! The script names functions by their mangled names without the hashes of
//! their build (`whatif_bench::symbols`), so it outlives the build it was
//! made from; a function renamed since is simply not moved.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::{Path, PathBuf};

use crate::cold::{self, Run};
use crate::{Options, Row, runtime_api};
use whatif_bench::symbols::pattern;

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
    // Each object's path is written again at every switch: resolved once.
    let mut objects: HashMap<&str, bool> = HashMap::new();
    let mut in_bin = false;
    let mut names = BTreeSet::new();
    for line in text.lines() {
        if let Some(object) = line.strip_prefix("ob=") {
            in_bin = *objects.entry(object).or_insert_with(|| Path::new(object).canonicalize().is_ok_and(|o| o == bin));
        } else if let Some(name) = line.strip_prefix("fn=")
            && in_bin
            && let Some(pattern) = pattern(name)
        {
            names.insert(pattern);
        }
    }
    Ok(names)
}

fn render(order: &[(String, Vec<usize>)], runs: usize) -> String {
    let mut script = format!(
        "/* The cold-start layout of whatif-lambda, made by\n   \
         `cargo run --release -p whatif-bench -- layout --emulators --write` (docs/performance.md):\n   \
         the {} functions that {runs} cold starts ran (every function's event, and history-get as its owner),\n   \
         those most starts ran first, those the same starts ran together. The linker puts them ahead of the rest of .text, next to each other.\n   \
         Rust symbols are named without the hashes of their build, so the script outlives the build it was made from. */\n\
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
