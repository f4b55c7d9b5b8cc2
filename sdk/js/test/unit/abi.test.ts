import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { Abi, AbiError, fromHex, sha3, toHex, wasmCustomSection, type AbiDocument } from "../../src/index.js";

const fixture = (name: string) =>
  JSON.parse(readFileSync(new URL(`../../../test/fixtures/${name}`, import.meta.url), "utf8")) as AbiDocument;
const voting = new Abi(fixture("abi-voting.json"));
const token = new Abi(fixture("abi-token.json"));
const supply = new Abi(fixture("abi-supply-chain.json"));
const ALICE = "0x439ef5710aed1a807310576cec0add104aa0958c8c417a30b0f83f1e73fcbe93";

test("arguments by name, in order, and bare; JSON forms of docs/abi.md", () => {
  const byName = token.encodeCall("transfer", { to: ALICE, amount: "250" });
  const inOrder = token.encodeCall("transfer", [ALICE, 250]);
  assert.equal(toHex(byName), toHex(inOrder));
  assert.equal(toHex(byName), `${ALICE}fa000000000000000000000000000000`);
  assert.equal(toHex(token.encodeCall("balance_of", ALICE)), ALICE);
  assert.equal(toHex(token.encodeCall("balance_of", { owner: ALICE })), ALICE);
  assert.equal(token.encodeCall("total_supply", null).length, 0);
  assert.equal(token.encodeCall("total_supply", {}).length, 0);
  // u128 from a bigint and the largest value.
  const max = (1n << 128n) - 1n;
  assert.equal(toHex(token.encodeCall("transfer", { to: ALICE, amount: max })).slice(-32), "f".repeat(32));
});

test("structured arguments: string, vec, u64, option", () => {
  const bytes = voting.encodeCall("create", {
    description: "Lunch?",
    choices: ["pizza", "sushi"],
    deadline: 1000,
    token: null,
  });
  // "Lunch?" = 6 bytes → 18; vec of 2 → 08, "pizza" 5 → 14, "sushi" → 14; 1000 LE u64; None → 00.
  assert.equal(
    toHex(bytes),
    "0x184c756e63683f" + "08" + "1470697a7a61" + "147375736869" + "e803000000000000" + "00",
  );
  const withToken = voting.encodeCall("create", ["x", ["a", "b"], "7", ALICE]);
  assert.equal(toHex(withToken).slice(-66), `01${ALICE.slice(2)}`);
});

test("enums and structs: supply-chain Role and checkpoint Status", () => {
  const reg = supply.encodeCall("register_party", { account: ALICE, name: "Farm", role: "Producer" });
  assert.equal(toHex(reg), `${ALICE}104661726d00`);
  const cp = supply.encodeCall("checkpoint", { id: 1, location: "Depot", status: "Stored", note: "" });
  assert.equal(toHex(cp), "0x0100000000000000" + "144465706f74" + "03" + "00");
});

test("errors name the argument, the path, and what was wrong", () => {
  assert.throws(() => token.encodeCall("transfer", { to: ALICE }), /missing argument `amount`/);
  assert.throws(() => token.encodeCall("transfer", { to: ALICE, amount: 1, x: 2 }), /unknown argument `x`/);
  assert.throws(() => token.encodeCall("transfer", { to: "0x12", amount: 1 }), /argument `to`: address must be 0x followed by 64 hex digits/);
  assert.throws(() => token.encodeCall("transfer", { to: ALICE, amount: -1 }), /-1 is out of range for u128/);
  assert.throws(() => token.encodeCall("transfer", { to: ALICE, amount: 1.5 }), /not an integer/);
  assert.throws(() => voting.encodeCall("create", { description: "d", choices: ["a", 3], deadline: 1, token: null }), /argument `choices` at `\[1\]`: expected a string, got 3/);
  assert.throws(() => supply.encodeCall("register_party", { account: ALICE, name: "F", role: "Pilot" }), /unknown variant `Pilot` of enum `Role`/);
  assert.throws(() => token.encodeCall("nope", {}), AbiError);
});

test("decoding return values, structs, options, enums", () => {
  const tally = voting.decodeValue("Tally", fromHex("0x08" + "02" + "00".repeat(15) + "01" + "00".repeat(15) + "03000000" + "01" + "0100"));
  assert.deepEqual(tally, { counts: ["2", "1"], voters: 3, closed: true, winner: 0 });
  assert.equal(voting.decodeReturn("count", fromHex("0x0500000000000000")), 5);
  assert.equal(voting.decodeReturn("proposal", fromHex("0x00")), null);
  assert.deepEqual(voting.decodeValue("VotingError", fromHex("0x05")), "AlreadyVoted");
  assert.deepEqual(voting.decodeValue("VotingError", fromHex("0x03" + "0a00000000000000")), { Closed: { deadline: 10 } });
  // Strictness: trailing bytes, bad option byte, bad enum index, truncated.
  assert.throws(() => voting.decodeReturn("count", fromHex("0x050000000000000000")), /trailing/);
  assert.throws(() => voting.decodeReturn("proposal", fromHex("0x02")), /Option/);
  assert.throws(() => voting.decodeValue("VotingError", fromHex("0x09")), /does not exist/);
  assert.throws(() => voting.decodeReturn("count", fromHex("0x0500")), AbiError);
  // Round trip through the codec of a type.
  const proposal = { creator: ALICE, description: "d", choices: ["a", "b"], deadline: 9, token: null };
  assert.deepEqual(voting.decodeValue("Proposal", voting.encodeValue("Proposal", proposal)), proposal);
});

test("revert data: typed error, panic, raw", () => {
  assert.deepEqual(voting.decodeRevert("VotingError", fromHex("0x0105")), { kind: "error", error: "AlreadyVoted" });
  assert.deepEqual(voting.decodeRevert("VotingError", fromHex("0x00626f6f6d")), { kind: "panic", message: "boom" });
  assert.equal(voting.decodeRevert("VotingError", fromHex("0x0163")).kind, "raw");
});

test("events: topics (verbatim, padded) and data", () => {
  const topics = [
    toHex(sha3("Voted")),
    "0x" + "07" + "00".repeat(31), // id: u64 padded
    ALICE, // voter
  ];
  const data = "0x01" + "01" + "00".repeat(15); // choice 1, weight 1
  const ev = voting.decodeEvent({ topics, data });
  assert.deepEqual(ev, { name: "Voted", fields: { id: 7, voter: ALICE, choice: 1, weight: "1" } });
  assert.equal(voting.decodeEvent({ topics: [toHex(sha3("Nope"))], data: "0x" }), null);
  assert.equal(voting.decodeEvent({ topics: topics.slice(0, 2), data }), null, "wrong topic count");
  // A hashed indexed field (an enum) reads as {hash}.
  const cp = supply.decodeEvent({
    topics: [toHex(sha3("CheckpointRecorded")), "0x" + "01" + "00".repeat(31), toHex(sha3(fromHex("0x03")))],
    data: "0x02000000",
  });
  assert.deepEqual(cp, { name: "CheckpointRecorded", fields: { id: 1, index: 2, status: { hash: toHex(sha3(fromHex("0x03"))) } } });
});

test("the ABI section of a wasm module", () => {
  const json = new TextEncoder().encode(JSON.stringify(fixture("abi-token.json")));
  const name = new TextEncoder().encode("weft:abi");
  const leb = (n: number) => {
    const out: number[] = [];
    do {
      let b = n & 0x7f;
      n >>>= 7;
      if (n) b |= 0x80;
      out.push(b);
    } while (n);
    return out;
  };
  const body = [...leb(name.length), ...name, ...json];
  const wasm = new Uint8Array([0, 0x61, 0x73, 0x6d, 1, 0, 0, 0, 0, ...leb(body.length), ...body]);
  const abi = Abi.fromWasm(wasm);
  assert.equal(abi?.contractName, "token");
  assert.equal(Abi.fromWasm(fromHex("0x0061736d01000000")), null);
  assert.throws(() => wasmCustomSection(fromHex("0x00"), "x"), /not a wasm module/);
});
