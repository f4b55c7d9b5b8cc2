#!/usr/bin/env bash
# Benchmarks a local 4-validator network: writes one with `weft-node testnet` on free loopback
# ports, starts the four validators, runs `weft bench` against node 0 twice — one transaction at
# a time (finality latency at low load) and a sustained load (throughput) — prints both JSON
# reports and stops the validators (also on Ctrl-C or failure).
#
# Usage: scripts/bench-testnet.sh [--txs N] [--low N] [--workload transfer|token] [--keep DIR]
#   --txs N       transactions of the sustained run (default 30000)
#   --low N       transactions of the low-load run, sent one at a time (default 200)
#   --workload W  workload of the sustained run (default transfer)
#   --window N    unfinalized transactions at most in the sustained run (default 8000)
# Needs the release binaries: cargo build --release -p weft-node -p weft-cli
set -euo pipefail

TXS=30000
LOW=200
WORKLOAD=transfer
WINDOW=8000
while [ $# -gt 0 ]; do
  case "$1" in
    --txs) TXS="$2"; shift 2 ;;
    --low) LOW="$2"; shift 2 ;;
    --workload) WORKLOAD="$2"; shift 2 ;;
    --window) WINDOW="$2"; shift 2 ;;
    *) echo "unknown argument: $1" >&2; exit 2 ;;
  esac
done

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
NODE="$ROOT/target/release/weft-node"
WEFT="$ROOT/target/release/weft"
for bin in "$NODE" "$WEFT"; do
  [ -x "$bin" ] || { echo "$bin is missing: cargo build --release -p weft-node -p weft-cli" >&2; exit 1; }
done

# Eight consecutive free ports (4 RPC + 4 p2p), tried at random bases.
port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
BASE=""
for _ in $(seq 1 50); do
  candidate=$(( 20000 + RANDOM % 40000 ))
  ok=1
  for i in $(seq 0 7); do port_free $((candidate + i)) || { ok=0; break; }; done
  if [ "$ok" = 1 ]; then BASE=$candidate; break; fi
done
[ -n "$BASE" ] || { echo "no 8 free consecutive ports found" >&2; exit 1; }

DIR="$(mktemp -d /tmp/weft-bench-net.XXXXXX)"
PIDS=()
cleanup() {
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
  rm -rf "$DIR"
}
trap cleanup EXIT INT TERM

"$NODE" testnet --validators 4 --out "$DIR" --base-port "$BASE" >"$DIR/testnet.log"
for i in 0 1 2 3; do
  RUST_LOG=warn "$NODE" run --config "$DIR/node$i/node.toml" >"$DIR/node$i.log" 2>&1 &
  PIDS+=("$!")
done
RPC="ws://127.0.0.1:$BASE"

# Ready when node 0 has finalized a few blocks (the mesh has formed).
for _ in $(seq 1 120); do
  h=$("$WEFT" --rpc "$RPC" --json status 2>/dev/null | sed -n 's/.*"finalized_height": *\([0-9]*\).*/\1/p' | head -1 || true)
  if [ -n "${h:-}" ] && [ "$h" -ge 3 ]; then break; fi
  sleep 0.5
done
[ -n "${h:-}" ] && [ "$h" -ge 3 ] || { echo "the network did not start finalizing; logs in $DIR" >&2; tail -5 "$DIR"/node*.log >&2; exit 1; }
echo "4 validators on 127.0.0.1:$BASE..$((BASE + 7)), finalizing (height $h)" >&2

echo "== low load: $LOW transactions, one at a time ==" >&2
"$WEFT" --rpc "$RPC" --json bench --workload transfer --txs "$LOW" --accounts 1 --connections 1 --batch 1 --window 1
echo "== sustained: $TXS $WORKLOAD transactions ==" >&2
"$WEFT" --rpc "$RPC" --json bench --workload "$WORKLOAD" --txs "$TXS" --accounts 1000 --connections 4 --batch 500 --window "$WINDOW"
