//! The contract ABI (docs/abi.md): reads the weft:abi section, encodes JSON arguments to SCALE and decodes results, events and errors.
