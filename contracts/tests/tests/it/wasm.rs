//! The built modules themselves: each passes the runtime's deploy-time validation, carries a
//! `weft:abi` section (surviving `strip` and LTO of the `contract` profile) that parses as
//! docs/abi.md says and describes exactly the module's exports; the token stays under 30 KiB.

use std::collections::BTreeSet;

use weft_abi::{Abi, abi_section};
use weft_runtime::vm::prepare::prepare;

use crate::support::{CONTRACTS, contract_wasm};

#[test]
fn every_contract_validates_and_carries_its_abi() {
    let mut sizes = Vec::new();
    for package in CONTRACTS {
        let wasm = contract_wasm(package);
        let prepared = prepare(&wasm).unwrap_or_else(|e| panic!("{package} refused: {e}"));
        let section = abi_section(&wasm).unwrap().unwrap_or_else(|| panic!("{package} has no weft:abi"));
        let json: serde_json::Value = serde_json::from_slice(section).unwrap();
        assert_eq!(json["weft_abi"], 1);
        assert_eq!(json["version"], env!("CARGO_PKG_VERSION"));
        assert_eq!(json["contract"], package.trim_start_matches("weft-example-").replace('-', "_"));
        let abi = Abi::from_wasm(&wasm).unwrap().unwrap();

        let exported: BTreeSet<&str> = prepared.methods.iter().map(String::as_str).collect();
        let described: BTreeSet<&str> = abi.methods.iter().map(|m| m.name.as_str()).collect();
        assert_eq!(exported, described, "{package}: exports and ABI methods differ");
        assert_eq!(prepared.has_constructor, abi.constructor.is_some(), "{package}");
        assert!(!prepared.reentrant, "{package} opted in to reentrancy");
        sizes.push((package, wasm.len(), section.len()));
    }
    for (package, size, abi) in &sizes {
        eprintln!("{package:28} {size:6} bytes (ABI {abi})");
    }
}

#[test]
fn the_token_is_small() {
    let wasm = contract_wasm(crate::token::TOKEN);
    assert!(wasm.len() < 30 * 1024, "token is {} bytes", wasm.len());
}

#[test]
fn read_only_methods_are_marked() {
    let abi = Abi::from_wasm(&contract_wasm(crate::token::TOKEN)).unwrap().unwrap();
    let mutates = |name: &str| abi.method(name).unwrap().mutates;
    for name in ["balance_of", "allowance", "total_supply", "owner"] {
        assert!(!mutates(name), "{name}");
    }
    for name in ["transfer", "approve", "transfer_from", "mint"] {
        assert!(mutates(name), "{name}");
    }
    let transfer = abi.method("transfer").unwrap();
    assert_eq!(transfer.docs.as_deref(), Some("Moves `amount` from the caller to `to`."));
    assert!(!transfer.payable);
}
