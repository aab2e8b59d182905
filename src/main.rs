//! `dbguru serve` and `dbguru check`.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use clap::{Parser, Subcommand};

use dbguru::config::Config;

#[derive(Parser)]
#[command(
    name = "dbguru",
    version,
    about = "One PostgreSQL server in front of many databases"
)]
struct Cli {
    #[command(subcommand)]
    command: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// Run the proxy.
    Serve {
        /// Configuration file (default: ./proxy.toml if present, else the embedded default).
        #[arg(long, short)]
        config: Option<PathBuf>,
        /// Listen address, overriding `[server] listen` (e.g. 127.0.0.1:6543).
        #[arg(long)]
        listen: Option<String>,
        /// HTTP API and chat page address, overriding `[http] listen` (e.g. 127.0.0.1:8000).
        #[arg(long)]
        http_listen: Option<String>,
    },
    /// Validate the configuration and connect to every database.
    Check {
        /// Configuration file (default: ./proxy.toml if present, else the embedded default).
        #[arg(long, short)]
        config: Option<PathBuf>,
    },
}

fn load(path: Option<PathBuf>) -> Result<Config, String> {
    let path = path.or_else(|| {
        let p = PathBuf::from("proxy.toml");
        p.exists().then_some(p)
    });
    Config::load(path.as_deref()).map_err(|e| e.to_string())
}

/// Stack of every runtime thread (workers and the blocking pool): 16 MiB. Statements are
/// bounded before anything recursive touches them ([`dbguru::sql::limits`]); the large
/// stack is a second line of defence against deep recursion.
const THREAD_STACK_BYTES: usize = 16 << 20;

fn main() -> ExitCode {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_stack_size(THREAD_STACK_BYTES)
        .build();
    match runtime {
        Ok(rt) => rt.block_on(run()),
        Err(e) => {
            eprintln!("dbguru: cannot start the async runtime: {e}");
            ExitCode::FAILURE
        }
    }
}

async fn run() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("DBGURU_LOG")
                .unwrap_or_else(|_| "info".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    let cli = Cli::parse();
    match cli.command {
        Cmd::Serve {
            config,
            listen,
            http_listen,
        } => {
            let cfg = match load(config) {
                Ok(c) => c,
                Err(e) => {
                    eprintln!("dbguru: {e}");
                    return ExitCode::from(2);
                }
            };
            let mut cfg = cfg;
            if let Some(l) = listen {
                cfg.server.listen = l;
            }
            if let Some(l) = http_listen {
                cfg.http.listen = Some(l);
            }
            match dbguru::server::start(cfg).await {
                Ok(server) => {
                    eprintln!("dbguru listening on {} — try: psql \"host={} port={} user=guru dbname=dbguru\" -c \"ASK 'how many customers are there?'\"",
                        server.local_addr(), server.local_addr().ip(), server.local_addr().port());
                    if let Some(h) = server.http_addr() {
                        eprintln!("dbguru HTTP API and chat page on http://{h}/ (OpenAPI: http://{h}/api/openapi.json)");
                    }
                    tokio::select! {
                        _ = tokio::signal::ctrl_c() => {}
                        _ = server.wait() => {}
                    }
                    ExitCode::SUCCESS
                }
                Err(e) => {
                    eprintln!("dbguru: {e}");
                    ExitCode::FAILURE
                }
            }
        }
        Cmd::Check { config } => {
            let cfg = match load(config) {
                Ok(c) => c,
                Err(e) => {
                    eprintln!("dbguru: {e}");
                    return ExitCode::from(2);
                }
            };
            let engine = match dbguru::engine::Engine::new(cfg).await {
                Ok(e) => e,
                Err(e) => {
                    eprintln!("dbguru: {e}");
                    return ExitCode::FAILURE;
                }
            };
            let mut ok = true;
            for c in engine.connections() {
                let started = Instant::now();
                let r = async {
                    c.backend.ping().await?;
                    c.backend.introspect().await
                }
                .await;
                let ms = started.elapsed().as_secs_f64() * 1000.0;
                match r {
                    Ok(s) => println!(
                        "ok    {:<16} {:<8} {:>4} tables  {:>8.1} ms",
                        c.cfg.name,
                        c.cfg.kind.name(),
                        s.tables.len(),
                        ms
                    ),
                    Err(e) => {
                        ok = false;
                        println!("FAIL  {:<16} {:<8} {e}", c.cfg.name, c.cfg.kind.name());
                    }
                }
            }
            // A read-only connection should use a read-only role: the database is the
            // last line of defence.
            for w in dbguru::server::writable_read_only(&engine).await {
                println!("WARN  {:<16} {}", w.connection, w.message());
            }
            if ok {
                ExitCode::SUCCESS
            } else {
                ExitCode::FAILURE
            }
        }
    }
}
