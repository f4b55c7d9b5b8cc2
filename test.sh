#!/usr/bin/env bash
# Every test of the project: the Rust workspace, then the TypeScript SDK and its example dApps
# (sdk/js/test.sh: npm ci, Chromium when missing, unit, integration and browser tests).
set -euo pipefail
cd "$(dirname "$0")"
cargo test --workspace
# The node binary the workspace tests just built; `cargo build -p weft-node` alone would resolve
# features differently and compile a second copy of most dependencies.
WEFT_NODE_BIN="${WEFT_NODE_BIN:-${CARGO_TARGET_DIR:-$PWD/target}/debug/weft-node}" sdk/js/test.sh
