//! `weft new`: a new contract crate from a template. Two templates:
//!
//! - `counter` (default): a small contract of the same shape as the examples — a constructor, a
//!   read-only method, a state-changing method with a typed error, an event — with a sandbox
//!   test;
//! - `token`: the token example itself: `contracts/token`'s `src/lib.rs` compiled into this
//!   binary and written unchanged (so it is always the source the workspace builds and tests),
//!   with a sandbox test (`templates/token_test.rs`).
//!
//! Either is a crate of its own, with a manifest written by [`manifest`] (`[workspace]`, the
//! `contract` profile) and the examples' `build.rs` (linking a 64 KiB stack), depending on the
//! SDK by path when the SDK sources this CLI was built from are present (relative when the crate
//! is inside that repository), else by version.

use std::path::{Path, PathBuf};

use weft_client::ClientError;

/// The repository this CLI was built from.
const REPO_DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../..");

/// `build.rs` of every template: the example contracts' own.
const BUILD_RS: &str = include_str!("../../../contracts/token/build.rs");

/// The token template: the example's files, and the sandbox test of the crate written from it.
mod token {
    /// Read only by the test that the template's dependencies are the example's.
    #[cfg(test)]
    pub const CARGO_TOML: &str = include_str!("../../../contracts/token/Cargo.toml");
    pub const LIB_RS: &str = include_str!("../../../contracts/token/src/lib.rs");
    pub const TEST_RS: &str = include_str!("../templates/token_test.rs");
}

/// Which template `weft new` writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum Template {
    /// A small counter with a typed error and an event.
    #[default]
    Counter,
    /// The fungible token example, `contracts/token`.
    Token,
}

/// Creates `<parent>/<name>` from `template`; returns its path. Refuses an existing directory
/// and a name that is not a valid crate name.
pub fn create(parent: &Path, name: &str, template: Template) -> Result<PathBuf, ClientError> {
    check_crate_name(name)?;
    let dir = parent.join(name);
    if dir.exists() {
        return Err(ClientError::InvalidInput(format!("{} already exists", dir.display())));
    }
    let io = |e: std::io::Error| ClientError::InvalidInput(format!("cannot write {}: {e}", dir.display()));
    std::fs::create_dir_all(dir.join("src")).map_err(io)?;
    std::fs::create_dir_all(dir.join("tests")).map_err(io)?;
    let contract_dep = sdk_dep(&dir, "contract", "weft-contract");
    let testing_dep = sdk_dep(&dir, "testing", "weft-testing");
    let files: Vec<(&str, String)> = match template {
        Template::Counter => vec![
            ("Cargo.toml", manifest(name, "A Weft contract.", &contract_dep, &testing_dep)),
            ("src/lib.rs", lib_rs(name)),
            ("tests/counter.rs", counter_test()),
        ],
        Template::Token => vec![
            ("Cargo.toml", manifest(name, "A Weft contract: a fungible token.", &contract_dep, &testing_dep)),
            ("src/lib.rs", token::LIB_RS.to_string()),
            ("tests/token.rs", token::TEST_RS.to_string()),
        ],
    };
    for (file, text) in files {
        std::fs::write(dir.join(file), text).map_err(io)?;
    }
    std::fs::write(dir.join("build.rs"), BUILD_RS).map_err(io)?;
    std::fs::write(dir.join(".gitignore"), "/target\n").map_err(io)?;
    Ok(dir)
}

/// Crate names: ASCII letters, digits, `-` and `_`, starting with a letter.
fn check_crate_name(name: &str) -> Result<(), ClientError> {
    let ok = name.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        && name.len() <= 64;
    if ok {
        Ok(())
    } else {
        Err(ClientError::InvalidInput(format!(
            "`{name}` is not a valid crate name (letters, digits, `-`, `_`, starting with a letter)"
        )))
    }
}

/// The dependency on `sdk/<dir>` for a crate created in `crate_dir`: a relative path inside the
/// repository this CLI was built from, an absolute one elsewhere, a version without the sources.
fn sdk_dep(crate_dir: &Path, dir: &str, package: &str) -> String {
    let Some(repo) = std::fs::canonicalize(REPO_DIR).ok().filter(|r| r.join("sdk").join(dir).is_dir()) else {
        let _ = package;
        return "\"0.1\"".to_string();
    };
    let sdk = repo.join("sdk").join(dir);
    let parent = crate_dir.parent().and_then(|p| std::fs::canonicalize(p).ok());
    let path = match parent {
        Some(parent) if parent.starts_with(&repo) => {
            let depth = parent.strip_prefix(&repo).map(|rest| rest.components().count()).unwrap_or(0) + 1;
            let mut rel = PathBuf::new();
            for _ in 0..depth {
                rel.push("..");
            }
            rel.join("sdk").join(dir)
        }
        _ => sdk,
    };
    format!("{{ path = {:?} }}", path.display().to_string())
}

fn header() -> &'static str {
    "# A Weft contract, created by `weft new`.\n\
     #\n\
     #   weft build            # size-optimized wasm, checked as a node checks an upload\n\
     #   cargo test            # the sandbox tests (the chain's runtime, in-process)\n\
     #   weft deploy target/contracts/wasm32v1-none/contract/<name>.wasm --args '…'\n"
}

/// The manifest of every template: a standalone crate (a workspace of its own) depending on
/// exactly what the examples depend on (`weft-contract`, `parity-scale-codec`; the sandbox and
/// `serde_json` for tests), with the `contract` profile.
fn manifest(name: &str, description: &str, contract_dep: &str, testing_dep: &str) -> String {
    format!(
        r#"{header}[package]
name = "{name}"
description = "{description}"
version = "0.1.0"
edition = "2024"
rust-version = "1.95"
publish = false

[lib]
# A contract is a wasm module: a C-ABI dynamic library for `wasm32v1-none`.
crate-type = ["cdylib"]

[dependencies]
weft-contract = {contract_dep}
parity-scale-codec = {{ version = "3.7.5", default-features = false, features = ["derive"] }}

[dev-dependencies]
# The sandbox: a chain on the real runtime, in the test process.
weft-testing = {testing_dep}
serde_json = "1"

# A workspace of its own, not a member of an enclosing workspace.
[workspace]

[lints.rust]
unsafe_code = "deny"
missing_docs = "warn"

# Size-optimized contract builds: every call pays gas per byte of code.
[profile.contract]
inherits = "release"
opt-level = "z"
lto = "fat"
codegen-units = 1
panic = "abort"
debug = false
strip = "symbols"
"#,
        header = header()
    )
}

fn counter_test() -> String {
    r#"//! Sandbox tests: the contract built to wasm and run on the real runtime, called through its ABI.
#![allow(missing_docs, clippy::unwrap_used)]

use serde_json::json;
use weft_testing::{Sandbox, contract_wasm};

#[test]
fn bumps_up_to_the_limit() {
    let mut sb = Sandbox::new();
    let alice = sb.account("alice");
    let counter = sb.deploy(alice, &contract_wasm(env!("CARGO_MANIFEST_DIR")), json!({"limit": 2})).unwrap();

    let out = sb.call(alice, counter, "bump", json!({})).unwrap();
    assert_eq!(out.events[0].name, "Bumped");
    sb.call(alice, counter, "bump", json!({})).unwrap();
    assert_eq!(sb.query(counter, "get", json!({})).unwrap(), json!(2));

    let err = sb.call(alice, counter, "bump", json!({})).unwrap_err();
    assert!(err.error_value().unwrap().get("AtLimit").is_some());
}
"#
    .to_string()
}

/// `my-counter` → `MyCounter`.
fn type_name(name: &str) -> String {
    name.split(['-', '_'])
        .filter(|p| !p.is_empty())
        .map(|p| {
            let mut c = p.chars();
            c.next().map(|f| f.to_ascii_uppercase().to_string() + c.as_str()).unwrap_or_default()
        })
        .collect()
}

fn lib_rs(name: &str) -> String {
    let ty = type_name(name);
    format!(
        r#"//! The `{name}` contract: a counter anyone can bump, up to a limit set at deployment.
#![cfg_attr(target_arch = "wasm32", no_std)]

use weft_contract::prelude::*;

/// Why a bump was refused.
#[derive(Encode, Decode, AbiType)]
pub enum {ty}Error {{
    /// The counter is at its limit.
    AtLimit {{ limit: u64 }},
}}

/// Emitted on every bump.
#[derive(Event)]
pub struct Bumped {{
    /// Who bumped.
    #[indexed]
    pub by: Address,
    /// The new value.
    pub value: u64,
}}

/// The contract's state.
#[storage]
pub struct {ty} {{
    value: Item<u64>,
    limit: Item<u64>,
}}

#[contract(events = [Bumped])]
impl {ty} {{
    /// Starts at 0; the counter never goes past `limit`.
    #[init]
    pub fn new(&mut self, limit: u64) {{
        self.limit.set(&limit);
    }}

    /// The current value.
    pub fn get(&self) -> u64 {{
        self.value.get_or_default()
    }}

    /// Adds one and returns the new value.
    pub fn bump(&mut self) -> Result<u64, {ty}Error> {{
        let limit = self.limit.get_or_default();
        let value = self.get();
        if value >= limit {{
            return Err({ty}Error::AtLimit {{ limit }});
        }}
        let value = value + 1;
        self.value.set(&value);
        self.env().emit(Bumped {{ by: self.env().caller(), value }});
        Ok(value)
    }}
}}
"#
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn creates_a_counter_crate() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = create(dir.path(), "my-counter", Template::Counter).expect("create");
        let manifest = std::fs::read_to_string(path.join("Cargo.toml")).expect("manifest");
        assert!(manifest.contains("name = \"my-counter\""));
        assert!(manifest.contains("[workspace]"));
        assert!(manifest.contains("[profile.contract]"));
        assert!(manifest.contains("weft-contract = { path = "), "{manifest}");
        let lib = std::fs::read_to_string(path.join("src/lib.rs")).expect("lib");
        assert!(lib.contains("pub struct MyCounter"));
        assert!(lib.contains("MyCounterError::AtLimit"));
        assert!(path.join("build.rs").is_file());
        assert!(path.join("tests/counter.rs").is_file());
        assert!(
            create(dir.path(), "my-counter", Template::Counter).is_err(),
            "an existing directory is refused"
        );
        assert!(create(dir.path(), "9lives", Template::Counter).is_err());
        assert!(create(dir.path(), "a/b", Template::Counter).is_err());
    }

    #[test]
    fn the_token_template_is_the_token_example() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = create(dir.path(), "coin", Template::Token).expect("create");
        let manifest = std::fs::read_to_string(path.join("Cargo.toml")).expect("manifest");
        assert!(manifest.contains("name = \"coin\""));
        assert!(!manifest.contains("workspace = true"), "a standalone crate: {manifest}");
        assert!(manifest.contains("\n[workspace]\n"), "{manifest}");
        assert!(manifest.starts_with("# A Weft contract, created by `weft new`."));
        let example = std::fs::read_to_string(Path::new(REPO_DIR).join("contracts/token/src/lib.rs"));
        let lib = std::fs::read_to_string(path.join("src/lib.rs")).expect("lib");
        assert_eq!(lib, example.expect("the example"));
        assert_eq!(std::fs::read_to_string(path.join("build.rs")).expect("build.rs"), BUILD_RS);
        assert_eq!(std::fs::read_to_string(path.join("tests/token.rs")).expect("test"), token::TEST_RS);
    }

    /// The written manifest depends on what the example depends on, so the example's source
    /// builds in the new crate; a new dependency of the example fails here until `manifest`
    /// has it too.
    #[test]
    fn the_token_template_has_the_examples_dependencies() {
        let section = |toml: &str, name: &str| -> Vec<String> {
            toml.split("\n[")
                .find(|s| s.starts_with(name))
                .map(|s| {
                    s.lines()
                        .skip(1)
                        .filter(|l| !l.starts_with('#') && l.contains('='))
                        .filter_map(|l| l.split(['=', '.']).next())
                        .map(|n| n.trim().to_string())
                        .collect()
                })
                .unwrap_or_default()
        };
        let written = manifest("coin", "", "\"0.1\"", "\"0.1\"");
        assert_eq!(section(token::CARGO_TOML, "dependencies]"), ["weft-contract", "parity-scale-codec"]);
        assert_eq!(section(&written, "dependencies]"), ["weft-contract", "parity-scale-codec"]);
        assert!(!token::CARGO_TOML.contains("[dev-dependencies]"), "the example has no tests of its own");
    }

    #[test]
    fn paths_inside_the_repository_are_relative() {
        let repo = std::fs::canonicalize(REPO_DIR).expect("repo");
        let dep = sdk_dep(&repo.join("contracts").join("x"), "contract", "weft-contract");
        assert_eq!(dep, "{ path = \"../../sdk/contract\" }");
    }
}
