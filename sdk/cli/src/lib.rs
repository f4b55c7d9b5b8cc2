//! The weft developer CLI. The binary (`src/main.rs`) only calls [`run_main`]; the commands live
//! in `commands`, the parsing in [`args`], the printing and error explanations in [`output`], the
//! contract template in [`template`]. The logic stays in `weft-client`.

pub mod args;
pub mod bench;
mod commands;
pub mod output;
pub mod template;

use std::process::ExitCode;

use clap::Parser as _;

pub use commands::{parse_amount, parse_args_json, parse_block_id};

/// Parses the process's arguments, runs the command on a fresh tokio runtime, prints its
/// result (human text or, with `--json`, one JSON object) and returns the exit code: 0 on
/// success, 1 on any failure (2 for a command line clap refuses).
pub fn run_main() -> ExitCode {
    let cli = args::Cli::parse();
    let json = cli.global.json;
    let rpc = cli.global.rpc.clone();
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(commands::run(cli)) {
        Ok(report) => {
            report.print(json);
            ExitCode::SUCCESS
        }
        Err(err) => {
            output::print_error(&err, json, &rpc);
            ExitCode::FAILURE
        }
    }
}
