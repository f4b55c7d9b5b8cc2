//! The `weft` binary: parses the command line and hands it to `weft_cli::run_main`.

fn main() -> std::process::ExitCode {
    weft_cli::run_main()
}
