//! `whatif-local`: the whole API on one machine.
//!
//! ```text
//! whatif-local [serve] [--aws]   run the API (embedded store; --aws: the AWS adapters)
//! whatif-local openapi [--write] print the OpenAPI document (or write docs/openapi.json)
//! whatif-local routes            print the route table as JSON
//! ```

use std::process::ExitCode;

use whatif_shared::config::Config;

#[tokio::main]
async fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let command = args.iter().find(|a| !a.starts_with("--")).map(String::as_str).unwrap_or("serve");
    let flag = |name: &str| args.iter().any(|a| a == name);
    match command {
        "serve" => serve(flag("--aws")).await,
        "openapi" => {
            let doc = whatif_local::openapi_document();
            if flag("--write") {
                return write("docs/openapi.json", &doc);
            }
            print!("{doc}");
            ExitCode::SUCCESS
        }
        "routes" => {
            println!("{}", whatif_local::routes_json());
            ExitCode::SUCCESS
        }
        other => {
            eprintln!("unknown command {other:?}; use serve, openapi or routes");
            ExitCode::from(2)
        }
    }
}

async fn serve(aws: bool) -> ExitCode {
    if aws {
        // SAFETY: set before any other thread reads the environment.
        unsafe { std::env::set_var("WHATIF_BACKEND", "aws") };
    }
    let config = match Config::from_process_env() {
        Ok(config) => config,
        Err(e) => {
            eprintln!("whatif-local: {e}");
            return ExitCode::from(2);
        }
    };
    whatif_shared::logging::init(config.log_json && std::env::var("WHATIF_LOG_FORMAT").is_ok());
    let backend = match &config.backend {
        whatif_shared::config::Backend::Embedded { data_dir } => format!("embedded store in {}", data_dir.display()),
        whatif_shared::config::Backend::Aws(r) => format!("AWS adapters (table {})", r.table),
    };
    let server = match whatif_local::bind(config).await {
        Ok(server) => server,
        Err(e) => {
            eprintln!("whatif-local: {e}");
            return ExitCode::FAILURE;
        }
    };
    println!("What If API listening on http://{} ({backend}); Ctrl-C stops it", server.addr);
    server
        .run(async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await;
    println!("stopped");
    ExitCode::SUCCESS
}

fn write(path: &str, text: &str) -> ExitCode {
    match std::fs::write(path, text) {
        Ok(()) => {
            println!("wrote {path}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("cannot write {path}: {e}");
            ExitCode::FAILURE
        }
    }
}
