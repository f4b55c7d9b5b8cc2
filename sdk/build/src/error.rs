//! [`BuildError`]: why a contract crate could not be built or is not a deployable contract,
//! each with the hint a developer needs to fix it.

use std::path::PathBuf;

/// Why a contract could not be built, or the module built is not a deployable contract. Every
/// variant holds text only, so errors can be cached and shared across threads.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BuildError {
    /// `cargo` could not be started.
    #[error("cannot run `{cargo}`: {reason} (is the Rust toolchain installed and on PATH?)")]
    CargoMissing {
        /// The command tried.
        cargo: String,
        /// The OS error.
        reason: String,
    },
    /// The `wasm32v1-none` target is not installed for the toolchain.
    #[error(
        "the wasm32v1-none target is not installed: run `rustup target add wasm32v1-none`\n{stderr_tail}"
    )]
    TargetMissing {
        /// The end of cargo's error output.
        stderr_tail: String,
    },
    /// Cargo failed to build the crate.
    #[error("building `{what}` failed:\n{stderr_tail}")]
    Compile {
        /// The package or manifest built.
        what: String,
        /// The end of cargo's error output (the compiler's errors).
        stderr_tail: String,
    },
    /// The build succeeded but produced no `.wasm` (the crate is not `crate-type = ["cdylib"]`).
    #[error(
        "building `{what}` produced no .wasm file: a contract crate needs `[lib] crate-type = [\"cdylib\"]`"
    )]
    NoWasm {
        /// The package or manifest built.
        what: String,
    },
    /// A file could not be read or a directory found.
    #[error("{path}: {reason}")]
    Io {
        /// The path.
        path: PathBuf,
        /// What went wrong.
        reason: String,
    },
    /// No `Cargo.toml` with a `[workspace]` table above the starting directory.
    #[error("no Cargo workspace (a Cargo.toml with [workspace]) found above {0}")]
    NoWorkspace(PathBuf),
    /// The module fails the node's deploy-time validation; a node would refuse to upload it.
    #[error("the contract `{what}` would be refused at upload: {reason}")]
    Invalid {
        /// The package or manifest built.
        what: String,
        /// The validation error (the runtime's `CodeError`).
        reason: String,
    },
    /// The module's `weft:abi` section is not a valid ABI document.
    #[error("the contract `{what}` has an invalid weft:abi section: {reason}")]
    Abi {
        /// The package or manifest built.
        what: String,
        /// The ABI error.
        reason: String,
    },
}
