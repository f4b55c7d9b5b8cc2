#!/usr/bin/env bash
# Every test of the project: the Rust workspace, then the TypeScript SDK and its example dApps
# (sdk/js/test.sh: npm ci, Chromium when missing, unit, integration and browser tests).
set -euo pipefail
cd "$(dirname "$0")"
cargo test --workspace
sdk/js/test.sh
