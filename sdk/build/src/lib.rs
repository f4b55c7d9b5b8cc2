//! Builds contract crates to size-optimized wasm and checks them with the node's deploy-time validation.
//!
//! [`build_contract`] runs `cargo build --profile contract --target wasm32v1-none` for a contract
//! crate (a package of the workspace, by name, or any crate by its directory) into a separate
//! target directory (`<workspace>/target/contracts`, so it never waits on the lock of an outer
//! `cargo test`), finds the `.wasm` cargo produced, checks it exactly as a node checks an upload
//! (`weft_runtime::vm::prepare::prepare`) and reads its ABI. [`build_cached`] does the same once
//! per process and target, for tests that all need the same contract; cargo's own lock on the
//! target directory makes concurrent test processes safe.

mod error;

use std::{
    collections::BTreeMap,
    env,
    path::{Path, PathBuf},
    process::{Command, Stdio},
    sync::{Arc, Mutex, OnceLock},
};

use weft_abi::Abi;
use weft_types::{Hash, sha3_256};

pub use error::BuildError;

/// The target contracts are built for: WebAssembly 1.0 + mutable globals, what the runtime runs.
pub const WASM_TARGET: &str = "wasm32v1-none";
/// The cargo profile contracts are built with (size-optimized; defined in the root Cargo.toml).
pub const CONTRACT_PROFILE: &str = "contract";
/// Lines of cargo's error output kept in a [`BuildError`].
const STDERR_TAIL_LINES: usize = 40;

/// How to build.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BuildOptions {
    /// Cargo profile; [`CONTRACT_PROFILE`] by default.
    pub profile: String,
    /// Target directory; `<workspace root>/target/contracts` when `None`.
    pub target_dir: Option<PathBuf>,
    /// Extra arguments for `cargo build` (`--features`, `--offline`, `--locked`…).
    pub cargo_args: Vec<String>,
    /// Whether to show cargo's progress on stderr as it builds (the compiler's errors are in
    /// the [`BuildError`] either way).
    pub verbose: bool,
}

impl Default for BuildOptions {
    fn default() -> Self {
        Self {
            profile: CONTRACT_PROFILE.to_owned(),
            target_dir: None,
            cargo_args: Vec::new(),
            verbose: false,
        }
    }
}

/// A built and checked contract.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Built {
    /// What was built: the package name, or the crate's directory.
    pub name: String,
    /// The `.wasm` file cargo produced.
    pub wasm_path: PathBuf,
    /// Its bytes, exactly what an upload sends.
    pub wasm: Vec<u8>,
    /// Its size in bytes.
    pub size: usize,
    /// Its ABI, `None` if it has no `weft:abi` section.
    pub abi: Option<Abi>,
    /// `sha3_256(wasm)`: the code hash it will have on chain.
    pub code_hash: Hash,
    /// The methods a node will let callers call (exports the runtime accepts as methods).
    pub methods: Vec<String>,
    /// Whether it has a constructor (`init`).
    pub has_constructor: bool,
}

impl Built {
    /// A human summary: name, size in bytes and KiB, code hash, path, and the ABI's
    /// constructor, method signatures and events (or the exported methods without an ABI).
    pub fn summary(&self) -> String {
        let mut s = format!(
            "{}: {} bytes ({:.1} KiB), code hash {}\n  {}\n",
            self.name,
            self.size,
            self.size as f64 / 1024.0,
            self.code_hash,
            self.wasm_path.display()
        );
        match &self.abi {
            Some(abi) => {
                for line in abi.summary().lines() {
                    s.push_str("  ");
                    s.push_str(line);
                    s.push('\n');
                }
            }
            None => {
                s.push_str("  no weft:abi section (callable with raw input only)\n");
                s.push_str(&format!("  exported methods: {}\n", self.methods.join(", ")));
            }
        }
        s
    }
}

/// The workspace root above the current crate: walks up from `CARGO_MANIFEST_DIR` (set by cargo
/// for tests and build scripts) or else the current directory.
pub fn workspace_root() -> Result<PathBuf, BuildError> {
    let start = match env::var_os("CARGO_MANIFEST_DIR") {
        Some(dir) => PathBuf::from(dir),
        None => env::current_dir().map_err(|e| BuildError::Io { path: ".".into(), reason: e.to_string() })?,
    };
    workspace_root_from(&start)
}

/// The nearest directory at or above `start` whose `Cargo.toml` has a `[workspace]` table.
pub fn workspace_root_from(start: &Path) -> Result<PathBuf, BuildError> {
    let start =
        start.canonicalize().map_err(|e| BuildError::Io { path: start.into(), reason: e.to_string() })?;
    start
        .ancestors()
        .find(|dir| {
            std::fs::read_to_string(dir.join("Cargo.toml"))
                .is_ok_and(|toml| toml.lines().any(|l| l.trim() == "[workspace]"))
        })
        .map(Path::to_path_buf)
        .ok_or(BuildError::NoWorkspace(start))
}

/// What to build: a package of the current workspace by name (`weft-example-token`), or a
/// crate by its directory (any string naming an existing directory with a `Cargo.toml`).
fn resolve(target: &str) -> Result<(Option<PathBuf>, PathBuf), BuildError> {
    let path = Path::new(target);
    if path.join("Cargo.toml").is_file() {
        let dir =
            path.canonicalize().map_err(|e| BuildError::Io { path: path.into(), reason: e.to_string() })?;
        let root = workspace_root_from(&dir).unwrap_or_else(|_| dir.clone());
        Ok((Some(dir), root))
    } else {
        Ok((None, workspace_root()?))
    }
}

/// Builds `target` (a workspace package name, or a crate directory) to wasm, checks it with the
/// node's deploy-time validation and reads its ABI.
pub fn build_contract(target: &str, opts: &BuildOptions) -> Result<Built, BuildError> {
    let (dir, root) = resolve(target)?;
    let target_dir = opts.target_dir.clone().unwrap_or_else(|| root.join("target").join("contracts"));
    let cargo = env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
    let mut cmd = Command::new(&cargo);
    cmd.arg("build")
        .args([
            "--profile",
            &opts.profile,
            "--target",
            WASM_TARGET,
            "--message-format=json-render-diagnostics",
        ])
        .arg("--target-dir")
        .arg(&target_dir);
    match &dir {
        Some(dir) => cmd.arg("--manifest-path").arg(dir.join("Cargo.toml")),
        None => cmd.arg("--manifest-path").arg(root.join("Cargo.toml")).args(["-p", target]),
    };
    cmd.args(&opts.cargo_args).current_dir(&root);
    // Settings of an outer cargo invocation that must not leak into the wasm build: host
    // rustflags (coverage, sanitizers) and a wrapper meant for the host crates.
    for var in ["CARGO_ENCODED_RUSTFLAGS", "CARGO_BUILD_RUSTFLAGS", "CARGO_TARGET_DIR", "CARGO_BUILD_TARGET"]
    {
        cmd.env_remove(var);
    }
    cmd.stdout(Stdio::piped()).stderr(if opts.verbose { Stdio::inherit() } else { Stdio::piped() });
    let out =
        cmd.output().map_err(|e| BuildError::CargoMissing { cargo: cargo.clone(), reason: e.to_string() })?;
    let stderr = String::from_utf8_lossy(&out.stderr);
    if !out.status.success() {
        return Err(classify_failure(target, &stderr));
    }
    let stdout = String::from_utf8_lossy(&out.stdout);
    let wasm_path =
        find_wasm(&stdout, target).ok_or_else(|| BuildError::NoWasm { what: target.to_owned() })?;
    let wasm = std::fs::read(&wasm_path)
        .map_err(|e| BuildError::Io { path: wasm_path.clone(), reason: e.to_string() })?;
    check_wasm(target, wasm_path, wasm)
}

/// Checks an already built module as a node would at upload, and reads its ABI.
pub fn check_wasm(name: &str, wasm_path: PathBuf, wasm: Vec<u8>) -> Result<Built, BuildError> {
    let prepared = weft_runtime::vm::prepare::prepare(&wasm)
        .map_err(|e| BuildError::Invalid { what: name.to_owned(), reason: e.to_string() })?;
    let abi = Abi::from_wasm(&wasm)
        .map_err(|e| BuildError::Abi { what: name.to_owned(), reason: e.to_string() })?;
    Ok(Built {
        name: name.to_owned(),
        wasm_path,
        size: wasm.len(),
        code_hash: sha3_256(&wasm),
        abi,
        methods: prepared.methods,
        has_constructor: prepared.has_constructor,
        wasm,
    })
}

/// Turns cargo's failure output into the most helpful error.
fn classify_failure(target: &str, stderr: &str) -> BuildError {
    let tail = tail(stderr, STDERR_TAIL_LINES);
    if stderr.contains("target may not be installed")
        || (stderr.contains("can't find crate for `core`") && stderr.contains(WASM_TARGET))
    {
        BuildError::TargetMissing { stderr_tail: tail }
    } else {
        BuildError::Compile { what: target.to_owned(), stderr_tail: tail }
    }
}

fn tail(text: &str, lines: usize) -> String {
    let all: Vec<&str> = text.lines().collect();
    all[all.len().saturating_sub(lines)..].join("\n")
}

/// The `.wasm` among cargo's `compiler-artifact` messages: the one of `target` if several.
fn find_wasm(stdout: &str, target: &str) -> Option<PathBuf> {
    let mut found: Vec<(String, PathBuf)> = Vec::new();
    for line in stdout.lines() {
        let Ok(msg) = serde_json::from_str::<serde_json::Value>(line) else { continue };
        if msg["reason"] != "compiler-artifact" {
            continue;
        }
        let package = msg["package_id"].as_str().unwrap_or_default().to_owned();
        let files = msg["filenames"].as_array().into_iter().flatten().filter_map(|f| f.as_str());
        for f in files.filter(|f| f.ends_with(".wasm")) {
            found.push((package.clone(), PathBuf::from(f)));
        }
    }
    match &found[..] {
        [(_, one)] => Some(one.clone()),
        many => many
            .iter()
            .find(|(pkg, _)| pkg.contains(&format!("#{target}@")) || pkg.ends_with(&format!("/{target}")))
            .or(many.last())
            .map(|(_, p)| p.clone()),
    }
}

type CacheEntry = Arc<Mutex<Option<Result<Arc<Built>, BuildError>>>>;

/// [`build_contract`] with the default options, once per process and target: concurrent
/// callers for the same target wait for one build, and later ones get the same result
/// (success or error).
pub fn build_cached(target: &str) -> Result<Arc<Built>, BuildError> {
    static CACHE: OnceLock<Mutex<BTreeMap<String, CacheEntry>>> = OnceLock::new();
    let entry = {
        let mut map = CACHE.get_or_init(Default::default).lock().unwrap_or_else(|p| p.into_inner());
        map.entry(target.to_owned()).or_default().clone()
    };
    let mut slot = entry.lock().unwrap_or_else(|p| p.into_inner());
    if let Some(done) = &*slot {
        return done.clone();
    }
    let result = build_contract(target, &BuildOptions::default()).map(Arc::new);
    *slot = Some(result.clone());
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failures_are_classified() {
        let missing = "error[E0463]: can't find crate for `core`\n  = note: the `wasm32v1-none` target may not be installed";
        assert!(matches!(classify_failure("x", missing), BuildError::TargetMissing { .. }));
        assert!(
            classify_failure("x", missing).to_string().contains("rustup target add wasm32v1-none"),
            "the error says how to fix it"
        );
        let other = "error[E0425]: cannot find value `y` in this scope";
        assert!(matches!(classify_failure("x", other), BuildError::Compile { .. }));
    }

    #[test]
    fn tail_keeps_the_last_lines() {
        assert_eq!(tail("a\nb\nc", 2), "b\nc");
        assert_eq!(tail("a", 5), "a");
        assert_eq!(tail("", 5), "");
    }

    #[test]
    fn the_package_artifact_is_chosen() {
        let msgs = [
            r#"{"reason":"compiler-artifact","package_id":"path+file:///w/a#dep@0.1.0","filenames":["/t/dep.wasm"]}"#,
            r#"{"reason":"compiler-artifact","package_id":"path+file:///w/b#my-contract@0.1.0","filenames":["/t/my_contract.wasm"]}"#,
            r#"{"reason":"compiler-artifact","package_id":"x","filenames":["/t/libx.rlib"]}"#,
            r#"{"reason":"build-finished","success":true}"#,
            "not json",
        ]
        .join("\n");
        assert_eq!(find_wasm(&msgs, "my-contract"), Some(PathBuf::from("/t/my_contract.wasm")));
        assert_eq!(
            find_wasm(&msgs[..msgs.find('\n').unwrap_or(0)], "zzz"),
            Some(PathBuf::from("/t/dep.wasm"))
        );
        assert_eq!(find_wasm(r#"{"reason":"build-finished"}"#, "a"), None);
    }
}
