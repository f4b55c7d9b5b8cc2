//! In-process sandbox that runs real contract wasm on the real Weft runtime, for contract tests.
