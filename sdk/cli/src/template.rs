//! `weft new`: a new contract crate from a template (a counter with a constructor, a read-only
//! method, a state-changing method with a typed error, and an event), the same shape as the
//! example contracts in `contracts/`.
//!
//! Inside a workspace that declares `weft-contract` (this repository), the crate takes its
//! dependencies from the workspace (add it to the members); anywhere else it is a standalone
//! crate with its own `[workspace]` and `contract` profile, depending on the SDK by path when
//! the SDK sources this CLI was built from are present, else by version.

use std::path::{Path, PathBuf};

use weft_client::ClientError;

/// The SDK's source directory at build time of this CLI.
const SDK_DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../contract");

/// Creates `<parent>/<name>` with a Cargo.toml, src/lib.rs and .gitignore; returns its path.
/// Refuses an existing directory and a name that is not a valid crate name.
pub fn create(parent: &Path, name: &str) -> Result<PathBuf, ClientError> {
    check_crate_name(name)?;
    let dir = parent.join(name);
    if dir.exists() {
        return Err(ClientError::InvalidInput(format!("{} already exists", dir.display())));
    }
    let in_workspace = enclosing_weft_workspace(parent);
    let manifest = if in_workspace.is_some() { workspace_manifest(name) } else { standalone_manifest(name) };
    let io = |e: std::io::Error| ClientError::InvalidInput(format!("cannot write {}: {e}", dir.display()));
    std::fs::create_dir_all(dir.join("src")).map_err(io)?;
    std::fs::write(dir.join("Cargo.toml"), manifest).map_err(io)?;
    std::fs::write(dir.join("src/lib.rs"), lib_rs(name)).map_err(io)?;
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

/// The nearest ancestor workspace manifest that declares `weft-contract`.
fn enclosing_weft_workspace(start: &Path) -> Option<PathBuf> {
    let start = std::fs::canonicalize(start).ok()?;
    start.ancestors().map(|d| d.join("Cargo.toml")).find(|m| {
        std::fs::read_to_string(m).is_ok_and(|t| t.contains("[workspace]") && t.contains("weft-contract"))
    })
}

fn type_name(name: &str) -> String {
    name.split(['-', '_'])
        .filter(|p| !p.is_empty())
        .map(|p| {
            let mut c = p.chars();
            c.next().map(|f| f.to_ascii_uppercase().to_string() + c.as_str()).unwrap_or_default()
        })
        .collect()
}

fn workspace_manifest(name: &str) -> String {
    format!(
        r#"[package]
name = "{name}"
description = "A Weft contract."
version.workspace = true
edition.workspace = true
rust-version.workspace = true
license.workspace = true

[lib]
crate-type = ["cdylib", "rlib"]

[dependencies]
weft-contract.workspace = true
parity-scale-codec.workspace = true

[lints]
workspace = true
"#
    )
}

fn standalone_manifest(name: &str) -> String {
    let sdk = std::fs::canonicalize(SDK_DIR).ok().filter(|p| p.join("Cargo.toml").is_file());
    let dep = match sdk {
        Some(path) => format!("{{ path = {:?} }}", path.display().to_string()),
        None => "\"0.1\"".to_string(),
    };
    format!(
        r#"[package]
name = "{name}"
description = "A Weft contract."
version = "0.1.0"
edition = "2024"

[lib]
crate-type = ["cdylib", "rlib"]

[dependencies]
weft-contract = {dep}
parity-scale-codec = {{ version = "3.7.5", default-features = false, features = ["derive", "max-encoded-len"] }}

# A crate of its own, not a member of an enclosing workspace.
[workspace]

[profile.release]
panic = "abort"

# Size-optimized: `weft build` (cargo build --profile contract --target wasm32v1-none).
[profile.contract]
inherits = "release"
opt-level = "z"
lto = "fat"
codegen-units = 1
panic = "abort"
debug = false
strip = "symbols"
"#
    )
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
    fn creates_a_standalone_crate() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = create(dir.path(), "my-counter").expect("create");
        let manifest = std::fs::read_to_string(path.join("Cargo.toml")).expect("manifest");
        assert!(manifest.contains("name = \"my-counter\""));
        assert!(manifest.contains("[workspace]"));
        assert!(manifest.contains("[profile.contract]"));
        let lib = std::fs::read_to_string(path.join("src/lib.rs")).expect("lib");
        assert!(lib.contains("pub struct MyCounter"));
        assert!(lib.contains("MyCounterError::AtLimit"));
        assert!(create(dir.path(), "my-counter").is_err(), "an existing directory is refused");
        assert!(create(dir.path(), "9lives").is_err());
        assert!(create(dir.path(), "a/b").is_err());
    }

    #[test]
    fn inside_a_weft_workspace_uses_workspace_dependencies() {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::write(
            dir.path().join("Cargo.toml"),
            "[workspace]\n[workspace.dependencies]\nweft-contract = { path = \"x\" }\n",
        )
        .expect("write");
        std::fs::create_dir(dir.path().join("contracts")).expect("mkdir");
        let path = create(&dir.path().join("contracts"), "counter").expect("create");
        let manifest = std::fs::read_to_string(path.join("Cargo.toml")).expect("manifest");
        assert!(manifest.contains("weft-contract.workspace = true"));
        assert!(!manifest.contains("[profile.contract]"));
    }
}
