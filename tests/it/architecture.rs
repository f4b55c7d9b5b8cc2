//! Mechanical checks of the dependency rules in ARCHITECTURE.md.

use std::process::Command;

/// The normal (non-dev) dependency tree of `package`, one crate name per line.
fn dependency_names(package: &str) -> anyhow::Result<Vec<String>> {
    let out = Command::new(env!("CARGO"))
        .args([
            "tree",
            "--offline",
            "-p",
            package,
            "-e",
            "normal,build",
            "--prefix",
            "none",
            "--format",
            "{p}",
        ])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()?;
    anyhow::ensure!(out.status.success(), "cargo tree failed: {}", String::from_utf8_lossy(&out.stderr));
    Ok(String::from_utf8(out.stdout)?
        .lines()
        .filter_map(|l| l.split_whitespace().next().map(str::to_owned))
        .collect())
}

#[test]
fn the_runtime_never_sees_io_crates() -> anyhow::Result<()> {
    let deps = dependency_names("weft-runtime")?;
    assert!(deps.iter().any(|d| d == "wasmtime"), "the guard must see the real tree: {deps:?}");
    // The same query does see an I/O crate where there is one.
    assert!(dependency_names("weft-node")?.iter().any(|d| d == "redb"));
    for forbidden in ["tokio", "libp2p", "jsonrpsee", "redb", "hyper", "mio"] {
        assert!(!deps.iter().any(|d| d == forbidden), "weft-runtime depends on {forbidden}");
    }
    Ok(())
}

#[test]
fn protocol_types_stay_small() -> anyhow::Result<()> {
    let deps = dependency_names("weft-types")?;
    for forbidden in ["wasmtime", "tokio", "redb", "jmt", "weft-runtime"] {
        assert!(!deps.iter().any(|d| d == forbidden), "weft-types depends on {forbidden}");
    }
    Ok(())
}
