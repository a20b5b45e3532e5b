//! The `konsent` binary: parses arguments and configuration, sets up logging, runs one command.
#![forbid(unsafe_code)]

mod args;
mod cmd;
mod config;

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let cli = args::Cli::parse();
    let cfg = match config::Config::load(&cli.data_dir) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("Fehler / error: {e:#}");
            return ExitCode::from(2);
        }
    };
    init_logging(&cfg);
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

fn init_logging(cfg: &config::Config) {
    use tracing_subscriber::EnvFilter;
    let filter = EnvFilter::try_from_env("KONSENT_LOG").unwrap_or_else(|_| EnvFilter::new(&cfg.log.level));
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr);
    if cfg.log.format == "json" {
        builder.json().init();
    } else {
        builder.init();
    }
}
