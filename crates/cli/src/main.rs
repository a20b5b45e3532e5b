//! The `konsent` binary: parses arguments and configuration, sets up logging, runs one command.
#![forbid(unsafe_code)]

mod args;
mod cmd;
mod config;
mod usage;

use std::process::ExitCode;

use clap::Parser;

/// jemalloc instead of glibc's allocator. An import allocates on one thread (rows, events,
/// sealed data) and frees on the ledger writer's, with many requests above 1 KB; glibc spent a
/// fifth of the import's CPU in `malloc`, `free` and `malloc_consolidate` there. With jemalloc
/// 100,000 rows take a quarter less CPU (BENCHMARKS.md, "Session 12"). It gives freed pages back
/// after a second (`dirty_decay_ms:1000,muzzy_decay_ms:0`, set at build time in
/// `.cargo/config.toml`; `_RJEM_MALLOC_CONF` overrides it at run time), which keeps an import's
/// peak memory near glibc's.
#[global_allocator]
static GLOBAL: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

fn main() -> ExitCode {
    quiet_broken_pipe();
    let cli = match args::Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            if let Some(line) = usage::german(&e) {
                eprintln!("Fehler: {line}.");
            }
            // clap's own message (English, with the usage line and tips), exit code 2; help and
            // the version go to stdout with exit code 0.
            e.exit()
        }
    };
    let cfg = match config::Config::load(&cli.data_dir) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("Fehler / error: {e:#}");
            return ExitCode::from(2);
        }
    };
    init_logging(&cfg, matches!(cli.command, args::Command::Serve { .. }));
    let rt = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("Fehler / error: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match rt.block_on(cmd::run(cli, cfg)) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("Fehler / error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

/// `konsent status | head -1` closes the pipe early: end quietly like other Unix tools (exit 141,
/// as after SIGPIPE) instead of a panic with a backtrace. Every other panic reports as before.
fn quiet_broken_pipe() {
    let default = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let payload = info.payload();
        let msg = payload
            .downcast_ref::<String>()
            .map(String::as_str)
            .or_else(|| payload.downcast_ref::<&str>().copied())
            .unwrap_or_default();
        if msg.starts_with("failed printing to stdout") && msg.contains("Broken pipe") {
            std::process::exit(141);
        }
        default(info)
    }));
}

/// Logs go to stderr. The server logs at the configured level; one-shot commands only warn, so
/// their own output stays readable. sqlx's statement logging is off: it could echo parameters.
fn init_logging(cfg: &config::Config, serving: bool) {
    use tracing_subscriber::EnvFilter;
    let level = if serving { cfg.log.level.as_str() } else { "warn" };
    let filter =
        EnvFilter::try_from_env("KONSENT_LOG").unwrap_or_else(|_| EnvFilter::new(format!("{level},sqlx=error")));
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr);
    if cfg.log.format == "json" {
        builder.json().init();
    } else {
        builder.init();
    }
}
