//! Building, checking and summarizing contracts; the errors a developer sees.

use std::sync::Arc;

use weft_build::{
    BuildError, BuildOptions, build_cached, build_contract, build_dir, check_wasm, workspace_root,
    workspace_root_from,
};
use weft_types::sha3_256;

use crate::fixture::{ABI, Fixture, bad_import_source, broken_source, ok_source};

#[test]
fn builds_checks_and_reads_the_abi_of_a_crate_directory() {
    let f = Fixture::new("fixture-ok", &ok_source(), true);
    let built = build_contract(&f.arg(), &BuildOptions::default()).unwrap();
    assert_eq!(
        built.wasm_path,
        f.canonical().join("target/contracts/wasm32v1-none/contract/fixture_ok.wasm")
    );
    assert_eq!(built.wasm, std::fs::read(&built.wasm_path).unwrap());
    assert_eq!(built.size, built.wasm.len());
    assert_eq!(built.code_hash, sha3_256(&built.wasm));
    assert_eq!(built.methods, vec!["ping".to_owned()]);
    assert!(!built.has_constructor);
    let abi = built.abi.as_ref().unwrap();
    assert_eq!(abi, &weft_abi::Abi::from_json(ABI).unwrap());
    let summary = built.summary();
    assert_eq!(built.name, "fixture-ok", "the package's name");
    assert!(summary.starts_with(&format!("fixture-ok: {} bytes (", built.size)), "{summary}");
    assert!(summary.contains(" KiB), code hash 0x"), "{summary}");
    assert!(summary.contains("ping() -> bytes [read-only]"), "{summary}");
    // A second build is a no-op for cargo and gives the same module.
    let again = build_dir(f.path(), &BuildOptions::default()).unwrap();
    assert_eq!(again.code_hash, built.code_hash);
    // The module is what the runtime accepts.
    weft_runtime::vm::prepare::prepare(&built.wasm).unwrap();
}

#[test]
fn a_module_the_node_would_refuse_is_an_error() {
    let f = Fixture::new("fixture-bad-import", &bad_import_source(), true);
    let err = build_contract(&f.arg(), &BuildOptions::default()).unwrap_err();
    let BuildError::Invalid { ref reason, .. } = err else { panic!("expected Invalid, got {err:?}") };
    assert!(reason.contains("is not a Weft host function"), "{reason}");
    assert!(err.to_string().contains("would be refused at upload"), "{err}");
    // check_wasm says the same about the bytes directly.
    let err = check_wasm("bytes", "x.wasm".into(), b"\0asm\x01\0\0\0garbage".to_vec()).unwrap_err();
    assert!(matches!(err, BuildError::Invalid { .. }), "{err:?}");
}

#[test]
fn compile_errors_carry_the_compiler_output() {
    let f = Fixture::new("fixture-broken", &broken_source(), true);
    let err = build_contract(&f.arg(), &BuildOptions::default()).unwrap_err();
    let BuildError::Compile { ref stderr_tail, .. } = err else { panic!("expected Compile, got {err:?}") };
    assert!(stderr_tail.contains("mismatched types"), "{stderr_tail}");
    assert!(err.to_string().starts_with("building `"), "{err}");
}

#[test]
fn a_crate_that_is_not_a_cdylib_produces_no_wasm() {
    let f = Fixture::new("fixture-rlib", &ok_source(), false);
    let err = build_contract(&f.arg(), &BuildOptions::default()).unwrap_err();
    assert!(matches!(err, BuildError::NoWasm { .. }), "{err:?}");
    assert!(err.to_string().contains("crate-type = [\"cdylib\"]"), "{err}");
}

#[test]
fn options_choose_the_target_dir_and_pass_cargo_args() {
    let f = Fixture::new("fixture-opts", &ok_source(), true);
    let target = tempfile::tempdir().unwrap();
    let opts = BuildOptions {
        target_dir: Some(target.path().into()),
        cargo_args: vec!["--offline".into()],
        ..Default::default()
    };
    let built = build_contract(&f.arg(), &opts).unwrap();
    assert!(built.wasm_path.starts_with(target.path()), "{}", built.wasm_path.display());
    let bad = BuildOptions { cargo_args: vec!["--no-such-flag".into()], ..Default::default() };
    assert!(matches!(build_contract(&f.arg(), &bad), Err(BuildError::Compile { .. })));
}

#[test]
fn a_workspace_member_builds_by_directory_too() {
    let dir = workspace_root().unwrap().join("contracts/token");
    let built = build_dir(&dir, &BuildOptions::default()).unwrap();
    assert_eq!(built.name, "weft-example-token");
    assert_eq!(
        built.wasm_path,
        workspace_root().unwrap().join("target/contracts/wasm32v1-none/contract/weft_example_token.wasm")
    );
    let err = build_dir(&dir.join("src"), &BuildOptions::default()).unwrap_err();
    assert!(matches!(err, BuildError::Io { .. }), "{err:?}");
}

#[test]
fn workspace_roots_are_found() {
    let root = workspace_root().unwrap();
    assert!(root.join("sdk/build/Cargo.toml").is_file(), "{}", root.display());
    assert_eq!(workspace_root_from(&root.join("sdk/build/src")).unwrap(), root);
    let f = Fixture::new("fixture-root", &ok_source(), true);
    std::fs::create_dir(f.path().join("src/deep")).unwrap();
    assert_eq!(workspace_root_from(&f.path().join("src/deep")).unwrap(), f.canonical());
    let lonely = tempfile::tempdir().unwrap();
    assert!(matches!(workspace_root_from(lonely.path()), Err(BuildError::NoWorkspace(_))));
    assert!(matches!(workspace_root_from(&lonely.path().join("missing")), Err(BuildError::Io { .. })));
}

#[test]
fn the_example_token_builds_once_per_process() {
    let built = build_cached("weft-example-token").unwrap();
    assert!(built.wasm_path.ends_with("target/contracts/wasm32v1-none/contract/weft_example_token.wasm"));
    let abi = built.abi.as_ref().expect("the SDK writes an ABI");
    assert!(abi.method("transfer").is_some(), "{}", built.summary());
    assert!(built.has_constructor);
    assert_eq!(built.name, "weft-example-token");
    let again = build_cached("weft-example-token").unwrap();
    assert!(Arc::ptr_eq(&built, &again), "cached");
    // An unknown package is a cargo error, cached as well.
    let err = build_cached("weft-no-such-contract").unwrap_err();
    assert!(
        matches!(err, BuildError::Compile { ref stderr_tail, .. } if stderr_tail.contains("weft-no-such-contract"))
    );
    assert_eq!(build_cached("weft-no-such-contract").unwrap_err(), err);
}
