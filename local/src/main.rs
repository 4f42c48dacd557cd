//! `whatif-local`: the whole API on one machine.
//!
//! ```text
//! whatif-local [serve] [--aws]   run the API (embedded store; --aws: the AWS adapters)
//! whatif-local openapi [--write] print the OpenAPI document (or write docs/openapi.json)
//! whatif-local routes [--write]  print every route, its function and its code (or write docs/routes.md)
//! whatif-local cdk [--write]     print the route table as JSON (or write cdk/routes.json, cdk/workers.json, cdk/constants.json)
//! whatif-local template [--write] print the SAM template (or write template.yaml)
//! ```

use std::process::ExitCode;

use whatif_shared::config::Config;

const USAGE: &str = "\
usage: whatif-local [COMMAND] [--aws]

  serve                    run the whole API on http://127.0.0.1:3000 (the default)
  openapi [--write]        print the OpenAPI document (or write docs/openapi.json)
  routes [--write]         print every route, its function and its code (or write docs/routes.md)
  cdk [--write]            print the route table as JSON (or write cdk/routes.json, cdk/workers.json)
  template [--write]       print the SAM template (or write template.yaml)
  keys rotate              a new access-token signing key
  promote-admin EMAIL      make an existing account an admin

  --aws                    use the AWS adapters (AWS_* and WHATIF_* variables) instead of ./.whatif
";

#[tokio::main]
async fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let command = args.iter().find(|a| !a.starts_with("--")).map(String::as_str).unwrap_or("serve");
    let flag = |name: &str| args.iter().any(|a| a == name);
    if flag("--help") || flag("-h") || command == "help" {
        print!("{USAGE}");
        return ExitCode::SUCCESS;
    }
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
            let table = whatif_local::routes_markdown();
            if flag("--write") {
                return write("docs/routes.md", &table);
            }
            print!("{table}");
            ExitCode::SUCCESS
        }
        "cdk" => {
            let routes = format!("{}\n", whatif_local::routes_json());
            if flag("--write") {
                let written = write("cdk/routes.json", &routes);
                if written != ExitCode::SUCCESS {
                    return written;
                }
                let written = write("cdk/workers.json", &whatif_local::template::workers_json());
                if written != ExitCode::SUCCESS {
                    return written;
                }
                return write("cdk/constants.json", &whatif_local::template::constants_json());
            }
            print!("{routes}");
            ExitCode::SUCCESS
        }
        "template" => {
            let template = whatif_local::template::render();
            if flag("--write") {
                return write("template.yaml", &template);
            }
            print!("{template}");
            ExitCode::SUCCESS
        }
        "keys" if args.iter().any(|a| a == "rotate") => match config(flag("--aws")) {
            Ok(config) => report(whatif_local::admin::rotate_keys(config).await),
            Err(code) => code,
        },
        "promote-admin" => match (args.iter().filter(|a| !a.starts_with("--")).nth(1), config(flag("--aws"))) {
            (Some(email), Ok(config)) => report(whatif_local::admin::promote_admin(config, email).await),
            (None, _) => {
                eprintln!("usage: whatif-local promote-admin EMAIL [--aws]");
                ExitCode::from(2)
            }
            (_, Err(code)) => code,
        },
        other => {
            eprint!("unknown command {other:?}\n\n{USAGE}");
            ExitCode::from(2)
        }
    }
}

/// The configuration from the environment; `--aws` selects the AWS adapters.
fn config(aws: bool) -> Result<Config, ExitCode> {
    let mut env: std::collections::HashMap<String, String> = std::env::vars().collect();
    if aws {
        env.insert("WHATIF_BACKEND".into(), "aws".into());
    }
    Config::from_env(&env).map_err(|e| {
        eprintln!("whatif-local: {e}");
        ExitCode::from(2)
    })
}

fn report(outcome: Result<String, String>) -> ExitCode {
    match outcome {
        Ok(message) => {
            println!("{message}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("whatif-local: {e}");
            ExitCode::FAILURE
        }
    }
}

async fn serve(aws: bool) -> ExitCode {
    let config = match config(aws) {
        Ok(config) => config,
        Err(code) => return code,
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
