// The client against a real `weft-node dev --with-examples`: every RPC method, transactions
// to finality, subscriptions, contracts through their ABI with decoded events and errors,
// verified state proofs, and the dev controls.

import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import path from "node:path";
import {
  ErrorCodes,
  Keypair,
  QueryFailedError,
  RPC_METHODS,
  RPC_SUBSCRIPTIONS,
  RpcError,
  TxFailedError,
  WeftClient,
  WouldFailError,
  concat,
  findDeployment,
  findExampleContracts,
  fromHex,
  headerInfoHash,
  signTransaction,
  toBytes32,
  toHex,
  utf8,
  type Contract,
  type HeaderInfo,
} from "../../src/index.js";
import { REPO_ROOT, startDevNode, type DevNode } from "../helpers/node.js";

let node: DevNode;
let client: WeftClient;
let token: Contract;
let voting: Contract;

const alice = Keypair.dev("alice");
const bob = Keypair.dev("bob");

before(async () => {
  node = await startDevNode({ withExamples: true });
  client = await WeftClient.connect(node.wsUrl);
  token = await client.contract(node.examples.token!);
  voting = await client.contract(node.examples.voting!);
});

after(async () => {
  client?.close();
  await node?.stop();
});

/** Waits for the next item of a subscription matching `pred` (the subscription stays open). */
async function first<T>(sub: AsyncIterator<T>, pred: (x: T) => boolean = () => true): Promise<T> {
  for (;;) {
    const r = await sub.next();
    if (r.done) throw new Error("the subscription ended");
    if (pred(r.value)) return r.value;
  }
}

describe("node and chain", () => {
  test("node_info, health, peers, discover, head, finalized, block", async () => {
    const info = await client.nodeInfo();
    assert.equal(info.chain_id, 1337);
    assert.equal(info.dev, true);
    assert.equal(info.min_gas_price, "1");
    const health = await client.health();
    assert.equal(health.healthy, true);
    assert.ok(Array.isArray(await client.peers()));
    assert.deepEqual(await client.evidence(), [], "a dev chain has no evidence");
    const discover = await client.discover();
    const methods = (discover.methods as { name: string }[]).map((m) => m.name).sort();
    // Every method the node serves is typed here, and nothing else.
    assert.deepEqual(methods, [...RPC_METHODS, ...RPC_SUBSCRIPTIONS].sort());
    const metrics = await client.metrics();
    assert.ok(metrics.height >= info.height);
    const head = await client.head();
    const fin = await client.finalizedHead();
    assert.ok(head.height >= fin.height);
    assert.equal(headerInfoHash(head), head.hash, "the header's hash is recomputed from its fields");
    const block = await client.block(head.height, true);
    assert.equal(block?.header.hash, head.hash);
    assert.equal(block?.transactions?.length, head.tx_count);
    assert.equal((await client.block("finalized"))?.header.hash, fin.hash);
    assert.equal(await client.block(10_000_000), null);
  });

  test("the example contracts are found on chain as the node printed them", async () => {
    const found = await findExampleContracts(client);
    assert.deepEqual(found, node.examples);
    assert.equal(await findDeployment(client, "voting"), node.examples.voting);
    assert.equal(await findDeployment(client, "no-such-salt"), null);
    // The ABIs the unit tests and the dApps' generated bindings use are the contracts' own.
    for (const name of ["token", "voting", "supply-chain"]) {
      const fixture = JSON.parse(readFileSync(path.join(REPO_ROOT, `sdk/js/test/fixtures/abi-${name}.json`), "utf8"));
      assert.deepEqual(await client.abiDocument(node.examples[name]!), fixture, `test/fixtures/abi-${name}.json is stale`);
    }
  });
});

describe("transactions", () => {
  test("a transfer to a new key, finalized, with its receipt and status stream", async () => {
    const fresh = Keypair.generate();
    const heads = await client.subscribeHeads();
    const finalized = await client.subscribeFinalized();
    const { hash, receipt } = await client.transfer("alice", fresh.address, 1_000_000n);
    assert.equal(receipt.success, true);
    assert.equal(receipt.tx_hash, hash);
    assert.equal(await client.balance(fresh), 1_000_000n);
    const tx = await client.transaction(hash);
    assert.deepEqual(tx?.action, { type: "transfer", to: fresh.address, amount: "1000000" });
    assert.equal(tx?.sender, alice.address);
    const h: HeaderInfo = await first(heads, (x) => x.height >= receipt.location.block_height);
    const f: HeaderInfo = await first(finalized, (x) => x.height >= receipt.location.block_height);
    assert.ok(h.height >= receipt.location.block_height && f.height >= receipt.location.block_height);
    await heads.unsubscribe();
    await finalized.unsubscribe();
    // The status stream of a finalized transaction says so at once, and ends.
    const seen = [];
    for await (const s of await client.subscribeTxStatus(hash)) seen.push(s.status);
    assert.deepEqual(seen, ["finalized"]);
    // A live one: pending or included, then finalized, then the end.
    const next = await client.submitAction("alice", { tag: "Transfer", value: { to: bob.publicKey, amount: 1n } });
    const live = [];
    for await (const s of await client.subscribeTxStatus(next)) live.push(s.status);
    assert.equal(live.at(-1), "finalized");
    assert.ok(live.every((s) => ["pending", "included", "finalized"].includes(s)), live.join());
    // The new key can spend.
    const back = await client.transfer(fresh, bob.address, 1000n);
    assert.equal(back.receipt.success, true);
  });

  test("concurrent sends from one account take distinct nonces", async () => {
    const to = Keypair.generate();
    const results = await Promise.all([1, 2, 3, 4].map((n) => client.transfer("alice", to, n)));
    assert.equal(new Set(results.map((r) => r.hash)).size, 4);
    assert.equal(await client.balance(to), 10n);
  });

  test("node errors carry the stable codes: bad signature, wrong chain, batch results", async () => {
    const params = await client.chainParams();
    const nonce = await client.nextNonce(alice);
    const tx = {
      chain_id: params.chainId,
      sender: alice.publicKey,
      nonce,
      gas_limit: 100_000n,
      gas_price: params.minGasPrice,
      action: { tag: "Transfer" as const, value: { to: bob.publicKey, amount: 1n } },
    };
    const signed = await signTransaction(alice, tx);
    const forged = signed.bytes.slice();
    forged[forged.length - 1]! ^= 1;
    await assert.rejects(client.submit(forged), (e: unknown) => e instanceof RpcError && e.code === ErrorCodes.TX_BAD_SIGNATURE);
    const other = await signTransaction(alice, { ...tx, chain_id: 99n });
    await assert.rejects(client.submit(other.bytes), (e: unknown) => e instanceof RpcError && e.code === ErrorCodes.TX_WRONG_CHAIN);
    const results = await client.submitBatch([signed.bytes, fromHex("0x00")]);
    assert.equal(results[0]!.hash, signed.hash);
    assert.equal(results[1]!.error?.code, ErrorCodes.TX_DECODE);
    const receipt = await client.waitFor(signed.hash);
    assert.equal(receipt.success, true);
  });
});

describe("contracts through the ABI", () => {
  test("token: query, transfer with a decoded event, our encoding is the node's", async () => {
    const before = BigInt((await token.query.balance_of!({ owner: "bob" })) as string);
    const result = await token.tx.transfer!({ to: bob, amount: "250" }, { from: "alice" });
    assert.equal(result.receipt.success, true);
    assert.equal(result.value, null);
    const ev = result.events.find((e) => e.name === "Transfer");
    assert.deepEqual(ev?.fields, { from: alice.address, to: bob.address, amount: "250" });
    assert.equal(BigInt((await token.query.balance_of!(bob.address)) as string), before + 250n);
    // The node encoding JSON args gives the same answer as our bytes.
    const viaNode = await client.queryRaw({ contract: token.address, method: "balance_of", args: { owner: bob.address } });
    const viaUs = await token.queryFull("balance_of", { owner: bob.address });
    assert.equal(viaNode.return_data, viaUs.return_data);
  });

  test("decoded errors: dry-run refusal, failed transaction, failed query", async () => {
    const huge = (10n ** 30n).toString();
    await assert.rejects(token.tx.transfer!({ to: "alice", amount: huge }, { from: "charlie" }), (e: unknown) => {
      assert.ok(e instanceof WouldFailError, String(e));
      assert.equal(e.kind, "reverted");
      assert.equal(e.errorName, "InsufficientBalance");
      return true;
    });
    await assert.rejects(token.tx.transfer!({ to: "alice", amount: huge }, { from: "charlie", gasLimit: 2_000_000 }), (e: unknown) => {
      assert.ok(e instanceof TxFailedError, String(e));
      assert.equal(e.errorName, "InsufficientBalance");
      assert.deepEqual(e.contractError, { InsufficientBalance: { have: "0", need: huge } });
      assert.equal(e.receipt.success, false);
      return true;
    });
    await assert.rejects(voting.query.tally!({ id: 424242 }), (e: unknown) => {
      assert.ok(e instanceof QueryFailedError);
      assert.equal(e.errorName, "NoSuchProposal");
      return true;
    });
  });

  test("voting: create, vote from two accounts, tally, events live and past", async () => {
    const head = await client.head();
    const events = await voting.subscribeEvents("Voted");
    const created = await voting.tx.create!(
      { description: "Which chain?", choices: ["weft", "other"], deadline: head.height + 1000, token: null },
      { from: "alice" },
    );
    const id = created.value as number;
    assert.equal(created.events[0]?.name, "ProposalCreated");
    await voting.tx.vote!({ id, choice: 0 }, { from: "bob" });
    await voting.tx.vote!({ id, choice: 1 }, { from: "charlie" });
    const live = [await first(events), await first(events)];
    await events.unsubscribe();
    assert.deepEqual(live.map((e) => [e.name, e.fields?.id, e.fields?.voter]), [
      ["Voted", id, bob.address],
      ["Voted", id, Keypair.dev("charlie").address],
    ]);
    assert.deepEqual(await voting.query.tally!({ id }), { counts: ["1", "1"], voters: 2, closed: false, winner: null });
    assert.equal(await voting.query.has_voted!({ id, voter: "bob" }), true);
    await assert.rejects(voting.tx.vote!({ id, choice: 0 }, { from: "bob" }), (e: unknown) => e instanceof WouldFailError && e.errorName === "AlreadyVoted");
    const past = await voting.pastEvents("Voted");
    assert.ok(past.filter((e) => e.fields?.id === id).length === 2);
  });

  test("deploy a contract from its wasm, with constructor arguments through its embedded ABI", async () => {
    const wasm = new Uint8Array(readFileSync(path.join(REPO_ROOT, "target/contracts/wasm32v1-none/contract/weft_example_token.wasm")));
    const deployed = await client.deploy("dave", wasm, { supply: "777" });
    assert.equal(await deployed.contract.query.total_supply!(), "777");
    assert.equal(await deployed.contract.query.balance_of!({ owner: "dave" }), "777");
    assert.equal(toHex(await client.code(deployed.address)), toHex(wasm));
  });
});

describe("state", () => {
  test("verified account and storage against the finalized header", async () => {
    const acc = await client.account(alice);
    const verified = await client.verifiedState(alice);
    assert.equal(verified.account?.balance, BigInt(acc.balance));
    assert.equal(verified.account?.nonce, BigInt(acc.nonce));
    // Token storage: prefix 1 is total_supply, prefix 2 ‖ address a balance.
    const balanceKey = concat(new Uint8Array([2]), toBytes32(bob.address));
    const state = await client.verifiedState(token.address, [new Uint8Array([1]), balanceKey, utf8("absent")]);
    assert.ok(state.account?.code_hash);
    assert.equal(toHex(state.storage[0]!.value!), "0x0010a5d4e8000000" + "0000000000000000", "supply 10^12");
    const bobBalance = BigInt((await token.query.balance_of!("bob")) as string);
    const le = state.storage[1]!.value!;
    assert.equal(le.reduceRight((acc, b) => (acc << 8n) | BigInt(b), 0n), bobBalance);
    assert.equal(state.storage[2]!.value, null);
    const raw = await client.storage(token.address, balanceKey);
    assert.equal(toHex(raw!), toHex(le));
    // A never-seen account is proven absent.
    const nobody = await client.verifiedState(Keypair.generate());
    assert.equal(nobody.account, null);
  });
});

describe("dev controls", () => {
  test("snapshot, revert, set balance, increase time, mine", async () => {
    const who = Keypair.generate();
    const snap = await client.devSnapshot();
    await client.devSetBalance(who, 5000n);
    assert.equal(await client.balance(who), 5000n);
    await client.transfer("alice", who, 1n);
    const head = await client.devRevert(snap);
    assert.equal(await client.balance(who), 0n);
    const mined = await client.devMine(2);
    assert.equal(mined.height, head.height + 2);
    const offset = await client.devIncreaseTime(60_000);
    assert.ok(offset >= 60_000);
    // Sends work after a revert (the client forgot its nonces).
    const r = await client.transfer("alice", who, 7n);
    assert.equal(r.receipt.success, true);
    await assert.rejects(client.devRevert(987654), (e: unknown) => e instanceof RpcError && e.code === ErrorCodes.UNKNOWN_SNAPSHOT);
  });
});
