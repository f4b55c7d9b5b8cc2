// State proofs captured from a real `weft-node dev --with-examples` (test/fixtures), checked
// offline; and tampering of every part refused.

import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import {
  ProofError,
  StateProofCodec,
  accountKey,
  decodeStateProof,
  fromHex,
  headerInfoHash,
  toHex,
  verifyProof,
  verifyStateProof,
  type StateProofInfo,
} from "../../src/index.js";

const fixture = (name: string) =>
  JSON.parse(readFileSync(new URL(`../../../test/fixtures/${name}`, import.meta.url), "utf8")) as StateProofInfo;
const ALICE = "0x439ef5710aed1a807310576cec0add104aa0958c8c417a30b0f83f1e73fcbe93";
const TOKEN = "0xe10d44ad3baa42c083f0d0c1f3cf8d4b7765373f664aeb181a5af72b541e2e14";

test("a real account proof verifies against the header's state root", () => {
  const info = fixture("proof-alice.json");
  assert.equal(headerInfoHash(info.header), info.header.hash);
  const v = verifyStateProof(info, ALICE, []);
  assert.ok(v.account);
  assert.ok(v.account.balance > 0n);
  assert.ok(v.account.nonce >= 12n, "alice deployed the examples");
});

test("a contract with storage keys: present and absent keys verify", () => {
  const info = fixture("proof-token.json");
  const v = verifyStateProof(info, TOKEN, [fromHex("0x00"), fromHex("0x616263")]);
  assert.ok(v.account?.code_hash, "a contract account has a code hash");
  assert.equal(v.storage.length, 2);
  assert.equal(v.storage[1]!.value, null, "key 'abc' is absent");
});

test("tampering is refused: header field, value, sibling, leaf, wrong key, wrong trusted header", () => {
  const info = fixture("proof-alice.json");
  const clone = (): StateProofInfo => JSON.parse(JSON.stringify(info));

  const badHeader = clone();
  badHeader.header.gas_used += 1;
  assert.throws(() => verifyStateProof(badHeader, ALICE, []), /hash to/);

  const badValue = clone();
  const v = fromHex(badValue.account.value!);
  v[0]! ^= 1;
  badValue.account.value = toHex(v);
  assert.throws(() => verifyStateProof(badValue, ALICE, []), /value hash/);

  const proof = decodeStateProof(fromHex(info.account.proof));
  const i = proof.siblings.findIndex((s) => s.tag !== "Empty");
  assert.ok(i >= 0);
  const s = proof.siblings[i]!;
  const tampered = structuredClone(proof);
  if (s.tag === "Internal") (tampered.siblings[i] as typeof s).value.left[0]! ^= 1;
  else if (s.tag === "Leaf") (tampered.siblings[i] as typeof s).value.value_hash[0]! ^= 1;
  const root = fromHex(info.header.state_root);
  const key = accountKey(fromHex(ALICE));
  const value = fromHex(info.account.value!);
  verifyProof(proof, root, key, value);
  assert.throws(() => verifyProof(tampered, root, key, value), /does not lead to root/);
  const short = { ...proof, siblings: proof.siblings.slice(0, -1) };
  assert.throws(() => verifyProof(short, root, key, value), ProofError);
  assert.throws(() => verifyProof(proof, root, key, null), /present/);
  const wrongRoot = root.slice();
  wrongRoot[5]! ^= 1;
  assert.throws(() => verifyProof(proof, wrongRoot, key, value), /does not lead to root/);
  // The same proof for another key.
  assert.throws(() => verifyStateProof(info, TOKEN, []), /expected/);
  // Against a different trusted header.
  assert.throws(() => verifyStateProof(info, ALICE, [], { ...info.header, hash: `0x${"00".repeat(32)}` }), /trusted/);
  // Round trip of the encoding, and the sibling bound.
  assert.equal(toHex(StateProofCodec.enc(proof)), info.account.proof);
  const tooMany = StateProofCodec.enc({ leaf: undefined, siblings: Array(256).fill({ tag: "Empty", value: undefined }) });
  assert.equal(decodeStateProof(tooMany).siblings.length, 256);
  const bytes = Array.from(tooMany);
  bytes.splice(1, 2, 0x05, 0x04); // count 257
  bytes.push(0);
  assert.throws(() => decodeStateProof(new Uint8Array(bytes)), /more than 256/);
});
