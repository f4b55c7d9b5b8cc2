#!/usr/bin/env bash
# Everything sdk/js needs and checks, on a fresh machine with Node >= 20 and Rust:
# npm ci (the SDK and both example dApps: one workspace, one lockfile), Debian's chromium when
# /usr/bin/chromium is missing, the weft-node binary, typecheck, unit tests, integration tests
# against a real `weft-node dev`, the dApps' production builds, and their end-to-end tests in
# headless Chromium (screenshots in sdk/js/e2e/screenshots/).
#
# Environment: WEFT_NODE_BIN (default <repo>/target/debug/weft-node, built here when unset),
# CHROMIUM_BIN (default /usr/bin/chromium).
set -euo pipefail
cd "$(dirname "$0")"
SDK=$(pwd)
REPO=$(cd ../.. && pwd)
START=$(date +%s)
step() { echo "== sdk/js: $* (+$(($(date +%s) - START))s)"; }

step "npm ci"
npm ci --no-audit --no-fund --loglevel=error

if [ -z "${CHROMIUM_BIN:-}" ] && [ ! -x /usr/bin/chromium ]; then
  step "apt-get install chromium"
  SUDO=""
  if [ "$(id -u)" -ne 0 ]; then SUDO=sudo; fi
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium >/dev/null
fi

if [ -z "${WEFT_NODE_BIN:-}" ]; then
  step "cargo build -p weft-node"
  (cd "$REPO" && cargo build -q -p weft-node)
fi

step "build the SDK"
npx tsc -p tsconfig.json

step "typecheck (SDK, tests, dApps)"
npx tsc -p tsconfig.test.json --noEmit
for app in examples/*/; do (cd "$app" && npx tsc --noEmit); done

step "build the dApps"
for app in examples/*/; do (cd "$app" && npx vite build --logLevel warn); done

step "compile the tests"
rm -rf build
npx tsc -p tsconfig.test.json

PASS=0
FAIL=0
run_tests() {
  local name=$1
  shift
  step "$name tests"
  local log
  log=$(mktemp)
  local rc=0
  node --test --test-concurrency=1 "$@" 2>&1 | tee "$log" || rc=$?
  local passed failed
  passed=$(sed -n 's/^# pass \([0-9]*\)$/\1/p' "$log" | tail -1)
  failed=$(sed -n 's/^# fail \([0-9]*\)$/\1/p' "$log" | tail -1)
  PASS=$((PASS + ${passed:-0}))
  FAIL=$((FAIL + ${failed:-0}))
  rm -f "$log"
  if [ "$rc" -ne 0 ]; then
    if [ "$FAIL" -eq 0 ]; then FAIL=1; fi # the runner itself failed
    echo "sdk/js: $PASS passed, $FAIL failed"
    exit "$rc"
  fi
}
run_tests unit build/test/unit/*.test.js
run_tests integration build/test/integration/*.test.js
run_tests e2e build/test/e2e/*.test.js

step "done; screenshots in $SDK/e2e/screenshots"
echo "sdk/js: $PASS passed, $FAIL failed"
