// The test vectors of docs/protocol.md §11 (and §1.2, §6, §7.1), reproduced byte for byte.

import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import {
  AccountCodec,
  HeaderCodec,
  Keypair,
  ReceiptCodec,
  TransactionCodec,
  codeHash,
  compactU32,
  contractAddress,
  decodeReceipt,
  decodeSignedTransaction,
  encodeSignedTransaction,
  fromHex,
  headerHash,
  merkleRoot,
  receiptHash,
  sha3,
  signTransaction,
  toHex,
  txSigningPayload,
  verifyTransaction,
  type Transaction,
} from "../../src/index.js";

const protocolMd = readFileSync(fileURLToPath(new URL("../../../../../docs/protocol.md", import.meta.url)), "utf8");
const hex = (s: string) => fromHex(`0x${s}`);
const inDoc = (s: string) => assert.ok(protocolMd.includes(s), `${s.slice(0, 20)}… appears in protocol.md`);

const SECRET = "0102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f20";
const PUBLIC = "79b5562e8fe654f94078b112e8a98ba7901f853ae695bed7e0e3910bad049664";
const CONTRACT = "3cabfe77f03e46ff49b564848ecbd2eac7a12ba91cc7d15f671cd4b449a40e5b";

test("§11 key: the seed 01..20 gives the documented public key", () => {
  const key = Keypair.fromSecret(SECRET);
  assert.equal(key.address, `0x${PUBLIC}`);
  inDoc(PUBLIC);
});

test("§7.1 SHA3-256 of the empty string", () => {
  assert.equal(toHex(sha3(new Uint8Array())), "0xa7ffc6f8bf1ed76651c14756a061d662f580ff4de43b49fa82d80a4b80f8434a");
});

test("§1.2 compact examples, and non-canonical forms refused", () => {
  const cases: [number, string][] = [
    [0, "00"], [1, "04"], [63, "fc"], [64, "0101"], [16383, "fdff"], [16384, "02000100"],
    [2 ** 30 - 1, "feffffff"], [2 ** 30, "0300000040"],
  ];
  for (const [n, h] of cases) {
    assert.equal(toHex(compactU32.enc(n)), `0x${h}`, `compact(${n})`);
    assert.equal(compactU32.dec(hex(h)), n);
  }
  for (const bad of ["0100", "02000000", "0300000000", "0700000000000000"]) {
    assert.throws(() => compactU32.dec(hex(bad)), /out of range decoding Compact<u32>/, bad);
  }
});

test("§11.1 contract address", () => {
  const ch = codeHash(hex("0061736d01000000"));
  assert.equal(toHex(ch), "0x76fcc948d12ff9ec24dcedd5e76c8fac29cfa916ecc2e1fd73e9d99cadb633ab");
  const addr = contractAddress(hex(PUBLIC), ch, hex("01020304"));
  assert.equal(toHex(addr), `0x${CONTRACT}`);
  inDoc(CONTRACT);
});

const callTx = (): Transaction => ({
  chain_id: 7n,
  sender: hex(PUBLIC),
  nonce: 3n,
  gas_limit: 1_000_000n,
  gas_price: 2n,
  action: { tag: "Call", value: { contract: hex(CONTRACT), method: "transfer", args: hex("deadbeef"), value: 5n } },
});

test("§11.2 a Call transaction: encoding, payload, signature, signed bytes, hash", async () => {
  const tx = callTx();
  const enc = "070000000000000079b5562e8fe654f94078b112e8a98ba7901f853ae695bed7e0e3910bad049664030000000000000040420f000000000002000000000000000000000000000000033cabfe77f03e46ff49b564848ecbd2eac7a12ba91cc7d15f671cd4b449a40e5b207472616e7366657210deadbeef05000000000000000000000000000000";
  assert.equal(toHex(TransactionCodec.enc(tx)), `0x${enc}`);
  assert.equal(TransactionCodec.enc(tx).length, 135);
  const payload = `28776566743a74783a76310700000000000000${enc}`;
  assert.equal(toHex(txSigningPayload(tx)), `0x${payload}`);
  const sig = "46f0e902f78297fad3f7cc61116f1092ffa1769bde87852179ab8e39d8ec3228a6964984dd9b344387c6d5eb502b0484ee6958a15de4d5163a83ab3bd384890f";
  const signed = await signTransaction(Keypair.fromSecret(SECRET), tx);
  assert.equal(toHex(signed.signed.signature), `0x${sig}`);
  assert.equal(toHex(signed.bytes), `0x${enc}${sig}`);
  assert.equal(signed.bytes.length, 199);
  assert.equal(signed.hash, "0x26feb556b8cd4e6e804e0f61ec148ccd6cf35cadec90d07b2c69330a77436542");
  assert.ok(verifyTransaction(signed.signed));
  for (const s of [enc, payload, sig]) inDoc(s);
  // It decodes back to itself, strictly.
  const back = decodeSignedTransaction(signed.bytes);
  assert.deepEqual(toHex(encodeSignedTransaction(back)), toHex(signed.bytes));
  assert.throws(() => decodeSignedTransaction(new Uint8Array([...signed.bytes, 0])), /1 trailing bytes/);
  assert.throws(() => decodeSignedTransaction(signed.bytes.slice(0, 198)), /invalid transaction encoding/);
  const tampered = signed.bytes.slice();
  tampered[150]! ^= 1;
  assert.equal(verifyTransaction(decodeSignedTransaction(tampered)), false);
});

test("§11.3 a Transfer transaction", async () => {
  const tx: Transaction = {
    chain_id: 7n,
    sender: hex(PUBLIC),
    nonce: 4n,
    gas_limit: 21_000n,
    gas_price: 1n,
    action: { tag: "Transfer", value: { to: new Uint8Array(32).fill(0x42), amount: 10n ** 18n } },
  };
  const enc = "070000000000000079b5562e8fe654f94078b112e8a98ba7901f853ae695bed7e0e3910bad0496640400000000000000085200000000000001000000000000000000000000000000004242424242424242424242424242424242424242424242424242424242424242000064a7b3b6e00d0000000000000000";
  assert.equal(toHex(TransactionCodec.enc(tx)), `0x${enc}`);
  const signed = await signTransaction(Keypair.fromSecret(SECRET), tx);
  const sig = "c0beadadf3d712ae301c618c1f8cf3729b9882233ee92ffce7eae6ed6c324cef488a1421055f1edfb6eeb703b0746b1fd0e63dd64b0d395ea98e1d7032255f00";
  assert.equal(toHex(signed.signed.signature), `0x${sig}`);
  assert.equal(signed.bytes.length, 185);
  assert.equal(signed.hash, "0x13531f37ce6401ba44e8815d8e04e156f8ea0622e48daedc541aa552979d0d5a");
  inDoc(sig);
});

test("§11.4 receipts, Merkle roots, header and block hash", () => {
  const r1 = "26feb556b8cd4e6e804e0f61ec148ccd6cf35cadec90d07b2c69330a774365420020cb000000000000409601000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000043cabfe77f03e46ff49b564848ecbd2eac7a12ba91cc7d15f671cd4b449a40e5b04c96cb90d94eeefb2ab13db5c8e5e78463c9b2247df2e0c4c7b6a9de9ef4c11a604010000";
  const receipt1 = decodeReceipt(hex(r1));
  assert.equal(receipt1.status.tag, "Success");
  assert.equal(receipt1.gas_used, 52_000n);
  assert.equal(receipt1.fee, 104_000n);
  assert.equal(toHex(receipt1.events[0]!.topics[0]!), toHex(sha3("Transfer")));
  assert.equal(toHex(ReceiptCodec.enc(receipt1)), `0x${r1}`);
  assert.equal(toHex(receiptHash(receipt1)), "0x70120d16a58c9628202ca8ee9289e8f0d4d1e4fdedc05da48215cfcf55b20fe1");

  const r2 = "13531f37ce6401ba44e8815d8e04e156f8ea0622e48daedc541aa552979d0d5a010379b5562e8fe654f94078b112e8a98ba7901f853ae695bed7e0e3910bad049664000064a7b3b6e00d0000000000000000e70300000000000000000000000000000852000000000000085200000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000";
  const receipt2 = decodeReceipt(hex(r2));
  assert.equal(receipt2.status.tag, "Failed");
  const failure = receipt2.status.value as { tag: string; value: { needed: bigint; available: bigint } };
  assert.equal(failure.tag, "InsufficientBalance");
  assert.equal(failure.value.needed, 10n ** 18n);
  assert.equal(failure.value.available, 999n);
  assert.equal(toHex(receiptHash(receipt2)), "0xf312ebb18f1781ca5ffd79d86bd510d69d0ecfca93da901504bb4c85ff5238a9");
  for (const s of [r1, r2]) inDoc(s);

  const txRoot = merkleRoot([
    hex("26feb556b8cd4e6e804e0f61ec148ccd6cf35cadec90d07b2c69330a77436542"),
    hex("13531f37ce6401ba44e8815d8e04e156f8ea0622e48daedc541aa552979d0d5a"),
  ]);
  assert.equal(toHex(txRoot), "0xb8352814c9e613d66f50c8001b4980bd55bf84805ec9b514e07516f3b43c86da");
  const receiptsRoot = merkleRoot([receiptHash(receipt1), receiptHash(receipt2)]);
  assert.equal(toHex(receiptsRoot), "0x63863039d13fe39daace4211b5d31e38c8bbc2fd58317cb93c0783a26d155f2f");
  assert.equal(toHex(merkleRoot([])), toHex(sha3(new Uint8Array())));

  const header = {
    height: 1n,
    parent_hash: new Uint8Array(32),
    timestamp_ms: 1_700_000_000_000n,
    proposer: hex(PUBLIC),
    tx_root: txRoot,
    receipts_root: receiptsRoot,
    state_root: new Uint8Array(32).fill(0x11),
    gas_used: 73_000n,
  };
  const h = "010000000000000000000000000000000000000000000000000000000000000000000000000000000068e5cf8b01000079b5562e8fe654f94078b112e8a98ba7901f853ae695bed7e0e3910bad049664b8352814c9e613d66f50c8001b4980bd55bf84805ec9b514e07516f3b43c86da63863039d13fe39daace4211b5d31e38c8bbc2fd58317cb93c0783a26d155f2f1111111111111111111111111111111111111111111111111111111111111111281d010000000000";
  assert.equal(toHex(HeaderCodec.enc(header)), `0x${h}`);
  assert.equal(toHex(headerHash(header)), "0xf8d2c3630795b1a4a5a6ff75a101dcebae982df9333642586c093f0a33318c69");
  inDoc(h);
});

test("§6 account encoding", () => {
  const acc = {
    balance: 1000n,
    nonce: 5n,
    code_hash: hex("76fcc948d12ff9ec24dcedd5e76c8fac29cfa916ecc2e1fd73e9d99cadb633ab"),
    storage_bytes: 64n,
    deposit: 640n,
  };
  const expected = "e803000000000000000000000000000005000000000000000176fcc948d12ff9ec24dcedd5e76c8fac29cfa916ecc2e1fd73e9d99cadb633ab400000000000000080020000000000000000000000000000";
  assert.equal(toHex(AccountCodec.enc(acc)), `0x${expected}`);
  inDoc(expected);
});

test("strict decoding: bad Option byte, unknown variant, oversized method name", async () => {
  const signed = await signTransaction(Keypair.fromSecret(SECRET), callTx());
  const bad = signed.bytes.slice();
  bad[72] = 9; // action variant index
  assert.throws(() => decodeSignedTransaction(bad), /variant doesn't exist/);
  assert.throws(() => TransactionCodec.enc({ ...callTx(), action: { tag: "Call", value: { ...(callTx().action.value as any), method: "1bad" } } }), /must match/);
  assert.throws(() => decodeSignedTransaction(new Uint8Array(307_201)), /over the limit of 307200 bytes/);
});
