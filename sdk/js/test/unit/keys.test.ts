import { test } from "node:test";
import assert from "node:assert/strict";
import { DEV_ACCOUNTS, Keypair, InvalidInputError, parseHex32, toHex } from "../../src/index.js";

test("dev accounts: seed sha3_256('weft-dev:' ‖ name), as weft-node dev prints them", () => {
  // Printed by `weft-node dev` (weft_types::dev).
  assert.equal(Keypair.dev("alice").address, "0x439ef5710aed1a807310576cec0add104aa0958c8c417a30b0f83f1e73fcbe93");
  assert.equal(Keypair.dev("alice").secretHex(), "0xe8a4584980f376a00a4f399cd518e2c4a3553c5f7e95c16ed71409e0f3daeb34");
  assert.equal(Keypair.dev("bob").address, "0x62502ce5c4b210a6b764a40e9e5799b30cd92229fd68611862de9af51431599f");
  assert.equal(Keypair.dev("ferdie").address, "0x3a5674331480ae012b13b53089a019613cb314364edf19b1cc8a637c98461612");
  assert.equal(new Set(DEV_ACCOUNTS.map((n) => Keypair.dev(n).address)).size, 6);
  assert.throws(() => Keypair.dev("mallory"), InvalidInputError);
});

test("generate, export and import (key file and hex)", () => {
  const a = Keypair.generate();
  const b = Keypair.generate();
  assert.notEqual(a.address, b.address);
  const file = a.toKeyFile("deployer");
  assert.equal(file.name, "deployer");
  assert.match(file.note!, /UNENCRYPTED/);
  const back = Keypair.fromKeyFile(JSON.stringify(file));
  assert.equal(back.address, a.address);
  assert.equal(Keypair.fromSecret(a.secretHex().slice(2)).address, a.address);
  assert.throws(() => Keypair.fromKeyFile({ ...file, address: b.address }), /its secret key is/);
  assert.throws(() => Keypair.fromSecret("0x1234"), /32 bytes/);
  // The secret never shows in JSON.
  assert.ok(!JSON.stringify(a).includes(a.secretHex().slice(2)));
  const sig = a.signBytes(new Uint8Array([1, 2, 3]));
  assert.equal(sig.length, 64);
});

test("§9 text form of addresses: strict, errors in order", () => {
  assert.throws(() => parseHex32("79b5"), /expected a 0x-prefixed hex string/);
  assert.throws(() => parseHex32("0X" + "00".repeat(32)), /expected a 0x-prefixed hex string/);
  assert.throws(() => parseHex32("0x" + "0".repeat(63) + "g"), /invalid hex digit 'g' at position 65/);
  assert.throws(() => parseHex32("0x1234"), /expected 64 hex digits after 0x, found 4/);
  const upper = "0x" + "AB".repeat(32);
  assert.equal(toHex(parseHex32(upper)), upper.toLowerCase());
});
