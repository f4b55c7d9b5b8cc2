//! The source-tree rules of ARCHITECTURE.md that `cargo tree` cannot see: each external protocol
//! is named only in its home module, and no node module outgrows one reader's sitting.

use std::path::{Path, PathBuf};

/// The workspace root.
fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// Every `.rs` file under `dir` (relative to the root), sorted.
fn rust_files(dir: &str) -> Vec<PathBuf> {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
        let Ok(entries) = std::fs::read_dir(dir) else { return };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                walk(&path, out);
            } else if path.extension().is_some_and(|e| e == "rs") {
                out.push(path);
            }
        }
    }
    let mut out = Vec::new();
    walk(&root().join(dir), &mut out);
    out.sort();
    out
}

/// The path of `file` relative to the root, with `/` separators.
fn relative(file: &Path) -> String {
    let root = root().canonicalize().unwrap_or_else(|_| root());
    let file = file.canonicalize().unwrap_or_else(|_| file.to_path_buf());
    file.strip_prefix(&root).unwrap_or(&file).to_string_lossy().replace('\\', "/")
}

/// Whether `line`'s code (comments dropped) names the crate `name` as a path.
fn names_crate(line: &str, name: &str) -> bool {
    let code = line.split("//").next().unwrap_or("");
    code.match_indices(&format!("{name}::"))
        .any(|(at, _)| code[..at].chars().next_back().is_none_or(|c| !(c.is_alphanumeric() || c == '_')))
}

/// Files under `dirs` naming `name`, outside `home` and `exceptions` (path prefixes).
fn misplaced(name: &str, dirs: &[&str], home: &[&str], exceptions: &[&str]) -> Vec<String> {
    let mut found = Vec::new();
    for dir in dirs {
        for file in rust_files(dir) {
            let path = relative(&file);
            if home.iter().chain(exceptions).any(|prefix| path.starts_with(prefix)) {
                continue;
            }
            let text = std::fs::read_to_string(&file).unwrap_or_default();
            if let Some((n, _)) = text.lines().enumerate().find(|(_, l)| names_crate(l, name)) {
                found.push(format!("{path}:{}", n + 1));
            }
        }
    }
    found
}

#[test]
fn each_external_protocol_has_one_home() {
    // (crate, the trees searched, its home, the justified exceptions).
    type Rule<'a> = (&'a str, &'a [&'a str], &'a [&'a str], &'a [&'a str]);
    let rules: [Rule; 5] = [
        ("wasmtime", &["runtime/src", "node/src"], &["runtime/src/vm/"], &[]),
        ("libp2p", &["node/src", "runtime/src"], &["node/src/net/"], &[]),
        ("redb", &["node/src", "runtime/src"], &["node/src/store/"], &[]),
        ("jsonrpsee", &["node/src", "runtime/src"], &["node/src/rpc/"], &[]),
        (
            "serde_json",
            &["node/src", "runtime/src"],
            &["node/src/rpc/"],
            &[
                // The genesis file is a JSON document: read and written in one place.
                "node/src/genesis.rs",
                // The command line takes example arguments as JSON.
                "node/src/main.rs",
            ],
        ),
    ];
    // The guard sees real uses: each crate is named in its home.
    for (name, _, home, _) in &rules {
        let homes: Vec<PathBuf> = home.iter().flat_map(|h| rust_files(h)).collect();
        assert!(
            homes.iter().any(|f| std::fs::read_to_string(f)
                .unwrap_or_default()
                .lines()
                .any(|l| names_crate(l, name))),
            "{name} is not named in its home {home:?}: the guard is looking in the wrong place"
        );
    }
    let mut wrong = Vec::new();
    for (name, dirs, home, exceptions) in rules {
        for place in misplaced(name, dirs, home, exceptions) {
            wrong.push(format!("{name} named in {place} (its home is {home:?})"));
        }
    }
    assert!(wrong.is_empty(), "external protocols outside their homes:\n{}", wrong.join("\n"));
}

/// Most lines of non-test code in one node module.
const MAX_NODE_MODULE_LINES: usize = 600;

#[test]
fn node_modules_stay_readable() {
    let mut long = Vec::new();
    let files = rust_files("node/src");
    assert!(files.len() > 10, "the guard must see the node's sources");
    for file in files {
        let text = std::fs::read_to_string(&file).unwrap_or_default();
        // Unit tests sit at the end of a file, after `#[cfg(test)]`.
        let code = text.lines().take_while(|l| !l.starts_with("#[cfg(test)]")).count();
        if code > MAX_NODE_MODULE_LINES {
            long.push(format!("{}: {code} lines", relative(&file)));
        }
    }
    assert!(
        long.is_empty(),
        "node modules over {MAX_NODE_MODULE_LINES} lines of non-test code:\n{}",
        long.join("\n")
    );
}

#[test]
fn the_guard_reads_paths_not_words() {
    assert!(names_crate("use redb::{Database};", "redb"));
    assert!(names_crate("    let x = wasmtime::Store::new();", "wasmtime"));
    assert!(!names_crate("// redb::Database is only in store", "redb"));
    assert!(!names_crate("use weft_redb::X;", "redb"));
    assert!(!names_crate("the redb file", "redb"));
}

/// Whether `text` names the top-level module `crate::module`: as a path in code, or inside a
/// `use crate::{…}` list (over several lines).
fn names_module(text: &str, module: &str) -> bool {
    let code: String = text.lines().map(|l| l.split("//").next().unwrap_or("")).collect::<Vec<_>>().join(" ");
    if code.contains(&format!("crate::{module}::")) || code.contains(&format!("crate::{module};")) {
        return true;
    }
    code.split("use crate::{").skip(1).any(|rest| {
        let list: String =
            rest.split(';').next().unwrap_or("").chars().filter(|c| !c.is_whitespace()).collect();
        // Top-level entries of the list: `module`, `module::…` or `module::{…}`.
        let mut depth = 0;
        let mut entry = String::new();
        let mut entries = Vec::new();
        for c in list.chars() {
            match c {
                '{' => depth += 1,
                '}' if depth == 0 => break,
                '}' => depth -= 1,
                ',' if depth == 0 => {
                    entries.push(std::mem::take(&mut entry));
                    continue;
                }
                _ => {}
            }
            entry.push(c);
        }
        entries.push(entry);
        entries.iter().any(|e| e == module || e.starts_with(&format!("{module}::")))
    })
}

#[test]
fn lower_layers_never_import_higher_ones() {
    // (files under, a top-level module they must not name, why).
    let rules = [
        ("runtime/src/vm/", "exec", "vm reaches execution only through its Host trait"),
        ("node/src/rpc/", "validator", "RPC reads the node's handles, never the validator's parts"),
        ("node/src/dev/control.rs", "rpc", "the dev commands sit below the RPC that serves them"),
        ("node/src/store/", "validator", "the store knows no consensus driver"),
        ("node/src/consensus/", "net", "the consensus core does no I/O"),
        ("node/src/consensus/", "store", "the consensus core does no I/O"),
    ];
    let mut wrong = Vec::new();
    for (dir, module, why) in rules {
        let files = if dir.ends_with(".rs") { vec![root().join(dir)] } else { rust_files(dir) };
        assert!(!files.is_empty() && files.iter().all(|f| f.exists()), "{dir}: nothing to check");
        for file in files {
            if names_module(&std::fs::read_to_string(&file).unwrap_or_default(), module) {
                wrong.push(format!("{} names crate::{module} ({why})", relative(&file)));
            }
        }
    }
    assert!(wrong.is_empty(), "imports against the layering:\n{}", wrong.join("\n"));
    // The guard sees real imports.
    assert!(names_module("use crate::{\n    chain::Chain,\n    dev::control::X,\n};", "dev"));
    assert!(names_module("use crate::{a::{b, c}, exec};", "exec"));
    assert!(names_module("let x = crate::exec::run();", "exec"));
    assert!(!names_module("use crate::{executor::X, a::exec};", "exec"));
    assert!(!names_module("// use crate::exec::X;", "exec"));
}
