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

/// Builds the contract crate in `dir` (a workspace member or a standalone crate).
pub fn build_dir(dir: &Path, opts: &BuildOptions) -> Result<Built, BuildError> {
    let target = dir
        .to_str()
        .ok_or_else(|| BuildError::Io { path: dir.into(), reason: "path is not UTF-8".into() })?;
    if !dir.join("Cargo.toml").is_file() {
        return Err(BuildError::Io { path: dir.join("Cargo.toml"), reason: "no such file".into() });
    }
    build_contract(target, opts)
}

/// Builds `target` (a package of the current workspace by name, or a crate directory: any
/// string naming a directory with a `Cargo.toml`) to wasm, checks it with the node's
/// deploy-time validation and reads its ABI. [`Built::name`] is the package's name.
///
/// When the `wasm32v1-none` target is missing and `rustup` is at hand, it is installed
/// (`rustup target add wasm32v1-none`) and the build retried once, so that a fresh machine with
/// only Rust needs no extra step.
pub fn build_contract(target: &str, opts: &BuildOptions) -> Result<Built, BuildError> {
    match build_once(target, opts) {
        Err(BuildError::TargetMissing { stderr_tail }) => {
            let installed = Command::new("rustup")
                .args(["target", "add", WASM_TARGET])
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status()
                .is_ok_and(|s| s.success());
            if !installed {
                return Err(BuildError::TargetMissing { stderr_tail });
            }
            build_once(target, opts)
        }
        other => other,
    }
}

/// Cargo's rustflags for the wasm target only (host build scripts and proc macros keep theirs).
const STACK_RUSTFLAGS_VAR: &str = "CARGO_TARGET_WASM32V1_NONE_RUSTFLAGS";

fn build_once(target: &str, opts: &BuildOptions) -> Result<Built, BuildError> {
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
    // rustc gives wasm a 1 MiB stack by default, the whole of a contract's memory
    // (`MAX_MEMORY_PAGES`); 64 KiB is what the example contracts use (their build scripts say
    // so too). A contract's own setting of this variable wins.
    if env::var_os(STACK_RUSTFLAGS_VAR).is_none() {
        cmd.env(STACK_RUSTFLAGS_VAR, "-C link-arg=-zstack-size=65536");
    }
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
    let artifact = pick(artifacts(&stdout), target, dir.as_deref())
        .ok_or_else(|| BuildError::NoWasm { what: target.to_owned() })?;
    let wasm = std::fs::read(&artifact.wasm)
        .map_err(|e| BuildError::Io { path: artifact.wasm.clone(), reason: e.to_string() })?;
    check_wasm(&artifact.package, artifact.wasm, wasm)
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

/// A `.wasm` cargo reported building.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Artifact {
    package: String,
    manifest: PathBuf,
    wasm: PathBuf,
}

/// The package name in a cargo package id: `path+file:///w/token#weft-example-token@0.1.0`,
/// `path+file:///w/weft-example-token#0.1.0` (name omitted when it is the directory's) or the
/// older `weft-example-token 0.1.0 (path+file:///…)`.
fn package_name(id: &str) -> String {
    match id.split_once('#') {
        Some((url, rest)) => match rest.split_once('@') {
            Some((name, _)) => name.to_owned(),
            None => url.rsplit('/').next().unwrap_or(url).to_owned(),
        },
        None => id.split_whitespace().next().unwrap_or(id).to_owned(),
    }
}

/// The `.wasm` files among cargo's `compiler-artifact` messages.
fn artifacts(stdout: &str) -> Vec<Artifact> {
    let mut found = Vec::new();
    for line in stdout.lines() {
        let Ok(msg) = serde_json::from_str::<serde_json::Value>(line) else { continue };
        if msg["reason"] != "compiler-artifact" {
            continue;
        }
        let package = package_name(msg["package_id"].as_str().unwrap_or_default());
        let manifest = PathBuf::from(msg["manifest_path"].as_str().unwrap_or_default());
        let files = msg["filenames"].as_array().into_iter().flatten().filter_map(|f| f.as_str());
        for f in files.filter(|f| f.ends_with(".wasm")) {
            found.push(Artifact {
                package: package.clone(),
                manifest: manifest.clone(),
                wasm: PathBuf::from(f),
            });
        }
    }
    found
}

/// The artifact of the crate asked for: the package `name`, or the crate at `dir`.
fn pick(found: Vec<Artifact>, name: &str, dir: Option<&Path>) -> Option<Artifact> {
    let wanted = |a: &Artifact| match dir {
        Some(dir) => a.manifest == dir.join("Cargo.toml"),
        None => a.package == name,
    };
    match found.iter().position(wanted) {
        Some(i) => found.into_iter().nth(i),
        None => found.into_iter().last(),
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
    fn package_names_from_ids() {
        assert_eq!(package_name("path+file:///w/token#weft-example-token@0.1.0"), "weft-example-token");
        assert_eq!(package_name("path+file:///w/fixture-ok#0.1.0"), "fixture-ok");
        assert_eq!(package_name("weft-example-token 0.1.0 (path+file:///w/token)"), "weft-example-token");
    }

    #[test]
    fn the_package_artifact_is_chosen() {
        let msgs = [
            r#"{"reason":"compiler-artifact","package_id":"path+file:///w/a#dep@0.1.0","manifest_path":"/w/a/Cargo.toml","filenames":["/t/dep.wasm"]}"#,
            r#"{"reason":"compiler-artifact","package_id":"path+file:///w/b#my-contract@0.1.0","manifest_path":"/w/b/Cargo.toml","filenames":["/t/my_contract.wasm"]}"#,
            r#"{"reason":"compiler-artifact","package_id":"x","filenames":["/t/libx.rlib"]}"#,
            r#"{"reason":"build-finished","success":true}"#,
            "not json",
        ]
        .join("\n");
        let found = artifacts(&msgs);
        assert_eq!(found.len(), 2);
        let by_name = pick(found.clone(), "my-contract", None).unwrap();
        assert_eq!(
            (by_name.package.as_str(), by_name.wasm),
            ("my-contract", PathBuf::from("/t/my_contract.wasm"))
        );
        let by_dir = pick(found.clone(), "/w/a", Some(Path::new("/w/a"))).unwrap();
        assert_eq!(by_dir.wasm, PathBuf::from("/t/dep.wasm"));
        assert_eq!(pick(found, "zzz", None).unwrap().package, "my-contract", "the last one otherwise");
        assert_eq!(pick(artifacts(r#"{"reason":"build-finished"}"#), "a", None), None);
    }
}
