import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { generateBindings, type AbiDocument } from "../../src/index.js";

const read = (p: string) => readFileSync(new URL(`../../../${p}`, import.meta.url), "utf8");

test("the example dApps' bindings are what weft-bindgen writes for their ABIs", () => {
  for (const [abi, bindings] of [
    ["test/fixtures/abi-voting.json", "examples/voting/src/voting-bindings.ts"],
    ["test/fixtures/abi-supply-chain.json", "examples/supply-chain/src/supply-chain-bindings.ts"],
  ] as const) {
    assert.equal(generateBindings(JSON.parse(read(abi)) as AbiDocument), read(bindings), bindings);
  }
});

test("types map to their JSON forms, inputs accept more", () => {
  const out = generateBindings(JSON.parse(read("test/fixtures/abi-token.json")) as AbiDocument, "Token");
  assert.match(out, /export interface TokenContract extends ContractShape/);
  assert.match(out, /balance_of: \{ args: \{ owner: string \| Uint8Array \| \{ address: string \} \}; returns: string \};/);
  assert.match(out, /export type TokenError = \{ InsufficientBalance: \{ have: string; need: string \} \} \| .*"NotOwner"/);
  assert.match(out, /Transfer: \{ from: `0x\$\{string\}`; to: `0x\$\{string\}`; amount: string \};/);
});
