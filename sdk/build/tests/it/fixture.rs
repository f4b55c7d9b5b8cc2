//! Fixture contract crates written to a temporary directory: standalone (their own
//! `[workspace]` and `contract` profile), no dependencies, so they build in about a second.

use std::path::{Path, PathBuf};

use tempfile::TempDir;

pub const ABI: &str = r#"{"weft_abi":1,"contract":"fixture","version":"0.1.0","constructor":null,"methods":[{"name":"ping","args":[],"returns":"bytes","error":null,"mutates":false,"payable":false}],"events":[],"types":{}}"#;

fn manifest(name: &str, cdylib: bool) -> String {
    format!(
        r#"[package]
name = "{name}"
version = "0.1.0"
edition = "2024"

{lib}
[workspace]

[profile.contract]
inherits = "release"
opt-level = "z"
lto = true
codegen-units = 1
panic = "abort"
strip = "symbols"
"#,
        lib = if cdylib { "[lib]\ncrate-type = [\"cdylib\"]\n" } else { "" }
    )
}

const PRELUDE: &str = r#"#![no_std]
#[panic_handler]
fn panic(_: &core::panic::PanicInfo) -> ! {
    core::arch::wasm32::unreachable()
}
"#;

/// A valid contract with one method, `ping`, and an ABI section.
pub fn ok_source() -> String {
    format!(
        r##"{PRELUDE}
#[link(wasm_import_module = "weft")]
unsafe extern "C" {{
    fn set_return(ptr: *const u8, len: usize);
}}

#[unsafe(no_mangle)]
pub extern "C" fn ping() {{
    let v = [1u8, 2];
    unsafe {{ set_return(v.as_ptr(), v.len()) }}
}}

#[unsafe(link_section = "weft:abi")]
#[used]
static ABI: [u8; {len}] = *br#"{ABI}"#;
"##,
        len = ABI.len()
    )
}

/// Compiles, but imports a function the node does not provide.
pub fn bad_import_source() -> String {
    format!(
        r#"{PRELUDE}
unsafe extern "C" {{
    fn not_a_host_function();
}}

#[unsafe(no_mangle)]
pub extern "C" fn go() {{
    unsafe {{ not_a_host_function() }}
}}
"#
    )
}

/// Does not compile.
pub fn broken_source() -> String {
    format!("{PRELUDE}\npub fn f() -> u32 {{ \"not a number\" }}\n")
}

pub struct Fixture {
    pub dir: TempDir,
}

impl Fixture {
    pub fn new(name: &str, source: &str, cdylib: bool) -> Self {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("src")).unwrap();
        std::fs::write(dir.path().join("Cargo.toml"), manifest(name, cdylib)).unwrap();
        std::fs::write(dir.path().join("src/lib.rs"), source).unwrap();
        Self { dir }
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    pub fn arg(&self) -> String {
        self.path().to_str().unwrap().to_owned()
    }

    pub fn canonical(&self) -> PathBuf {
        self.path().canonicalize().unwrap()
    }
}
