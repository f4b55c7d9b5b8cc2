//! The `weft:abi` custom section: finding it in a wasm module, and adding one (for tests and
//! tools that deploy hand-written modules).

use wasm_encoder::{CustomSection, Section};
use wasmparser::{Encoding, Parser, Payload};
use weft_types::abi::ABI_SECTION;

use crate::{Abi, AbiError};

/// The raw contents of the module's `weft:abi` section, `None` when it has none. Reads the
/// module's section headers only (function bodies are skipped, not validated).
pub fn abi_section(wasm: &[u8]) -> Result<Option<&[u8]>, AbiError> {
    let mut found = Vec::new();
    for payload in Parser::new(0).parse_all(wasm) {
        match payload.map_err(|e| AbiError::Wasm(e.to_string()))? {
            Payload::CustomSection(section) if section.name() == ABI_SECTION => found.push(section.data()),
            Payload::Version { encoding: Encoding::Component, .. } => {
                return Err(AbiError::Wasm("a component is not a contract module".into()));
            }
            _ => {}
        }
    }
    match found[..] {
        [] => Ok(None),
        [one] => Ok(Some(one)),
        _ => Err(AbiError::DuplicateSection(found.len())),
    }
}

impl Abi {
    /// The ABI carried by a contract module: `None` when it has no `weft:abi` section, an error
    /// when the module cannot be read or the section is not a valid ABI document.
    pub fn from_wasm(wasm: &[u8]) -> Result<Option<Abi>, AbiError> {
        let Some(data) = abi_section(wasm)? else { return Ok(None) };
        let json = std::str::from_utf8(data).map_err(|_| AbiError::NotUtf8)?;
        Abi::from_json(json).map(Some)
    }
}

/// `wasm` with a `weft:abi` custom section holding `json` appended at its end. The module is
/// not otherwise parsed or changed; custom sections may appear anywhere after the header.
pub fn with_abi_section(wasm: &[u8], json: &str) -> Vec<u8> {
    let mut out = wasm.to_vec();
    CustomSection { name: ABI_SECTION.into(), data: json.as_bytes().into() }.append_to(&mut out);
    out
}
