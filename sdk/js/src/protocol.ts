//! The protocol's bytes (docs/protocol.md): SCALE codecs of transactions, headers, receipts,
//! accounts and state proofs; the signing payload; transaction, block and receipt hashes; the
//! Merkle root of §7.3; contract addresses (§7.4); the protocol limits.

import { type Codec, Struct, _void, createCodec, createDecoder, u64, u128 } from "scale-ts";
import { InvalidInputError, concat, sha3, toHex, utf8, type Hex32 } from "./bytes.js";
import {
  boundedBytes,
  boundedStr,
  boundedVector,
  decodeExact,
  fixedBytes,
  strictEnum,
  strictOption,
} from "./scale.js";

/** Protocol limits (sdk/types/src/limits.rs). */
export const limits = {
  MAX_TX_BYTES: 307_200,
  MAX_CODE_BYTES: 262_144,
  MAX_ARGS_BYTES: 65_536,
  MAX_SALT_BYTES: 32,
  MAX_METHOD_NAME_BYTES: 64,
  MAX_BLOCK_TXS: 10_000,
  MAX_BLOCK_BYTES: 8_388_608,
  MAX_RECEIPT_BYTES: 8_388_608,
  MAX_EVENTS_PER_TX: 256,
  MAX_EVENT_TOPICS: 4,
  MAX_EVENT_DATA_BYTES: 4_096,
  MAX_RETURN_DATA_BYTES: 65_536,
  /** Levels of the state tree, so the most siblings a state proof has. */
  TREE_DEPTH: 256,
} as const;

export const U64_MAX = (1n << 64n) - 1n;
export const U128_MAX = (1n << 128n) - 1n;

const hash32 = fixedBytes(32);
const signature64 = fixedBytes(64);

/** A method name: 1–64 bytes of `[A-Za-z_][A-Za-z0-9_]*` (§3.2). */
export function checkMethodName(name: string): string {
  if (typeof name !== "string" || !/^[A-Za-z_][A-Za-z0-9_]{0,63}$/.test(name)) {
    throw new InvalidInputError(
      `method name ${JSON.stringify(name)} must match [A-Za-z_][A-Za-z0-9_]* (1 to 64 bytes)`,
    );
  }
  return name;
}

const methodNameInner = boundedStr(limits.MAX_METHOD_NAME_BYTES, "method name");
const methodName: Codec<string> = createCodec(
  (s: string) => methodNameInner.enc(checkMethodName(s)),
  createDecoder((b) => checkMethodName(methodNameInner.dec(b))),
);

/** `Action` (§3.2). */
export type Action =
  | { tag: "Transfer"; value: { to: Uint8Array; amount: bigint } }
  | { tag: "UploadCode"; value: { code: Uint8Array } }
  | { tag: "Instantiate"; value: { code_hash: Uint8Array; args: Uint8Array; value: bigint; salt: Uint8Array } }
  | { tag: "Call"; value: { contract: Uint8Array; method: string; args: Uint8Array; value: bigint } }
  | { tag: "Upgrade"; value: { contract: Uint8Array; code_hash: Uint8Array; args: Uint8Array } }
  | { tag: "SetAdmin"; value: { contract: Uint8Array; admin: Uint8Array | undefined } };

export const ActionCodec: Codec<Action> = strictEnum<Action>("Action", [
  ["Transfer", Struct({ to: hash32, amount: u128 })],
  ["UploadCode", Struct({ code: boundedBytes(limits.MAX_CODE_BYTES, "code") })],
  [
    "Instantiate",
    Struct({
      code_hash: hash32,
      args: boundedBytes(limits.MAX_ARGS_BYTES, "args"),
      value: u128,
      salt: boundedBytes(limits.MAX_SALT_BYTES, "salt"),
    }),
  ],
  [
    "Call",
    Struct({ contract: hash32, method: methodName, args: boundedBytes(limits.MAX_ARGS_BYTES, "args"), value: u128 }),
  ],
  ["Upgrade", Struct({ contract: hash32, code_hash: hash32, args: boundedBytes(limits.MAX_ARGS_BYTES, "args") })],
  ["SetAdmin", Struct({ contract: hash32, admin: strictOption(hash32) })],
]);

/** `Transaction` (§3.1). */
export interface Transaction {
  chain_id: bigint;
  sender: Uint8Array;
  nonce: bigint;
  gas_limit: bigint;
  gas_price: bigint;
  action: Action;
}

export const TransactionCodec: Codec<Transaction> = Struct({
  chain_id: u64,
  sender: hash32,
  nonce: u64,
  gas_limit: u64,
  gas_price: u128,
  action: ActionCodec,
});

/** `SignedTransaction` (§3.3). */
export interface SignedTransaction {
  tx: Transaction;
  signature: Uint8Array;
}

export const SignedTransactionCodec: Codec<SignedTransaction> = Struct({
  tx: TransactionCodec,
  signature: signature64,
});

/** `Header` (§4.1). */
export interface Header {
  height: bigint;
  parent_hash: Uint8Array;
  timestamp_ms: bigint;
  proposer: Uint8Array;
  tx_root: Uint8Array;
  receipts_root: Uint8Array;
  state_root: Uint8Array;
  gas_used: bigint;
}

export const HeaderCodec: Codec<Header> = Struct({
  height: u64,
  parent_hash: hash32,
  timestamp_ms: u64,
  proposer: hash32,
  tx_root: hash32,
  receipts_root: hash32,
  state_root: hash32,
  gas_used: u64,
});

/** `Event` (§5.2). */
export interface Event {
  contract: Uint8Array;
  topics: Uint8Array[];
  data: Uint8Array;
}

export const EventCodec: Codec<Event> = Struct({
  contract: hash32,
  topics: boundedVector(hash32, limits.MAX_EVENT_TOPICS, "event topics", 32),
  data: boundedBytes(limits.MAX_EVENT_DATA_BYTES, "event data"),
});

const TRAP_KINDS = [
  "Unreachable",
  "MemoryOutOfBounds",
  "IntegerDivisionByZero",
  "IntegerOverflow",
  "BadConversionToInteger",
  "IndirectCall",
  "BadSignature",
  "StackLimit",
  "HostMemoryAccess",
  "Other",
] as const;
const LIMIT_KINDS = [
  "StorageKey",
  "StorageValue",
  "EventTopics",
  "EventData",
  "EventCount",
  "ReturnData",
  "CallDepth",
  "CallInput",
  "HostInput",
  "Memory",
] as const;

function unitEnum(name: string, names: readonly string[]): Codec<string> {
  const inner = strictEnum<{ tag: string; value: undefined }>(
    name,
    names.map((n) => [n, _void]),
  );
  return createCodec(
    (s: string) => inner.enc({ tag: s, value: undefined }),
    createDecoder((b) => inner.dec(b).tag),
  );
}

const bytesU = boundedBytes(0xffffffff);
const stringU = boundedStr();

/** `ExecError` (§5.4), as a tagged value. */
export type ExecError = { tag: string; value: unknown };

export const ExecErrorCodec: Codec<ExecError> = strictEnum<ExecError>("ExecError", [
  ["OutOfGas", _void],
  ["Reverted", Struct({ contract: hash32, data: bytesU })],
  ["Trap", Struct({ contract: hash32, kind: unitEnum("TrapKind", TRAP_KINDS) })],
  ["InsufficientBalance", Struct({ account: hash32, needed: u128, available: u128 })],
  ["InsufficientDeposit", Struct({ needed: u128, available: u128 })],
  ["CodeNotFound", hash32],
  ["ContractNotFound", hash32],
  ["ContractExists", hash32],
  ["MethodNotFound", Struct({ contract: hash32, method: stringU })],
  ["ReentrancyRefused", hash32],
  ["LimitExceeded", Struct({ limit: unitEnum("LimitKind", LIMIT_KINDS), value: u64, max: u64 })],
  ["InvalidCode", stringU],
  ["CodeExists", hash32],
  ["BalanceOverflow", hash32],
  ["NotAdmin", Struct({ contract: hash32, admin: strictOption(hash32) })],
  ["NoMigrate", hash32],
]);

/** `ExecStatus` (§5.3). */
export type ExecStatus = { tag: "Success"; value: undefined } | { tag: "Failed"; value: ExecError };

export const ExecStatusCodec: Codec<ExecStatus> = strictEnum<ExecStatus>("ExecStatus", [
  ["Success", _void],
  ["Failed", ExecErrorCodec],
]);

/** `Receipt` (§5.1). */
export interface Receipt {
  tx_hash: Uint8Array;
  status: ExecStatus;
  gas_used: bigint;
  fee: bigint;
  deposit_charged: bigint;
  deposit_refunded: bigint;
  events: Event[];
  return_data: Uint8Array;
  contract_address: Uint8Array | undefined;
}

export const ReceiptCodec: Codec<Receipt> = Struct({
  tx_hash: hash32,
  status: ExecStatusCodec,
  gas_used: u64,
  fee: u128,
  deposit_charged: u128,
  deposit_refunded: u128,
  events: boundedVector(EventCodec, limits.MAX_EVENTS_PER_TX, "receipt events", 33),
  return_data: boundedBytes(limits.MAX_RETURN_DATA_BYTES, "return data"),
  contract_address: strictOption(hash32),
});

/** `Account` (§6). */
export interface Account {
  balance: bigint;
  nonce: bigint;
  code_hash: Uint8Array | undefined;
  storage_bytes: bigint;
  deposit: bigint;
}

export const AccountCodec: Codec<Account> = Struct({
  balance: u128,
  nonce: u64,
  code_hash: strictOption(hash32),
  storage_bytes: u64,
  deposit: u128,
});


// ----- state keys (§6) -----

/** The state key of an account: `00 ‖ address`. */
export const accountKey = (address: Uint8Array): Uint8Array => concat(new Uint8Array([0]), address);
/** The state key of code: `01 ‖ code_hash`. */
export const codeKey = (codeHash: Uint8Array): Uint8Array => concat(new Uint8Array([1]), codeHash);
/** The state key of a contract's storage key: `02 ‖ contract ‖ key`. */
export const storageKey = (contract: Uint8Array, key: Uint8Array): Uint8Array =>
  concat(new Uint8Array([2]), contract, key);

// ----- hashes and signing (§7, §8) -----

/** The tag of transaction signatures. */
export const TX_SIGNING_TAG = "weft:tx:v1";

/** `compact(len(tag)) ‖ tag ‖ chain_id (u64 LE) ‖ body` (§8.1). */
export function signingPayload(tag: string, chainId: bigint, body: Uint8Array): Uint8Array {
  return concat(...[boundedStr().enc(tag), u64.enc(chainId), body]);
}

/** The bytes a transaction's signature signs. */
export function txSigningPayload(tx: Transaction): Uint8Array {
  return signingPayload(TX_SIGNING_TAG, tx.chain_id, TransactionCodec.enc(tx));
}

/** `SCALE(Transaction)`. */
export const encodeTransaction = (tx: Transaction): Uint8Array => TransactionCodec.enc(tx);
/** `SCALE(SignedTransaction)`: the bytes `tx_submit` takes. */
export const encodeSignedTransaction = (signed: SignedTransaction): Uint8Array => SignedTransactionCodec.enc(signed);
/** Decodes a signed transaction as the node does (size limit, strict, no trailing bytes). */
export const decodeSignedTransaction = (bytes: Uint8Array): SignedTransaction =>
  decodeExact(SignedTransactionCodec, bytes, "transaction", limits.MAX_TX_BYTES);
/** Decodes a receipt (§10.1). */
export const decodeReceipt = (bytes: Uint8Array): Receipt =>
  decodeExact(ReceiptCodec, bytes, "receipt", limits.MAX_RECEIPT_BYTES);

/** The transaction hash: SHA3-256 of the SCALE-encoded signed transaction (§7.2). */
export const txHash = (signed: SignedTransaction): Uint8Array => sha3(encodeSignedTransaction(signed));
/** The block hash: SHA3-256 of the SCALE-encoded header. */
export const headerHash = (header: Header): Uint8Array => sha3(HeaderCodec.enc(header));
/** The receipt hash. */
export const receiptHash = (receipt: Receipt): Uint8Array => sha3(ReceiptCodec.enc(receipt));

/** `merkle_root(leaves)` of §7.3. */
export function merkleRoot(leaves: Uint8Array[]): Uint8Array {
  if (leaves.length === 0) return sha3(new Uint8Array(0));
  let level = leaves.map((l) => sha3(concat(new Uint8Array([0]), l)));
  while (level.length > 1) {
    const next: Uint8Array[] = [];
    for (let i = 0; i + 1 < level.length; i += 2) {
      next.push(sha3(concat(new Uint8Array([1]), level[i]!, level[i + 1]!)));
    }
    if (level.length % 2 === 1) next.push(level[level.length - 1]!);
    level = next;
  }
  return level[0]!;
}

/** The address of a contract instantiated by `deployer` from `codeHash` with `salt` (§7.4). */
export function contractAddress(deployer: Uint8Array, codeHash: Uint8Array, salt: Uint8Array): Uint8Array {
  if (salt.length > limits.MAX_SALT_BYTES) {
    throw new InvalidInputError(`salt is longer than MAX_SALT_BYTES (${limits.MAX_SALT_BYTES})`);
  }
  return sha3(concat(...[boundedStr().enc("weft:contract:v1"), deployer, codeHash, boundedBytes(32).enc(salt)]));
}

/** The code hash of a wasm module. */
export const codeHash = (wasm: Uint8Array): Uint8Array => sha3(wasm);

/** The ed25519 seed of dev account `name`: `sha3_256("weft-dev:" ‖ name)`. */
export const devSeed = (name: string): Uint8Array => sha3(utf8(`weft-dev:${name}`));

/** `0x` hex of a hash. */
export const hashHex = (h: Uint8Array): Hex32 => toHex(h);

/** An amount (`u128`) from a bigint, a decimal string or a safe integer, range-checked. */
export function toAmount(value: bigint | string | number, what = "amount"): bigint {
  return toUint(value, 128, what);
}

/** A `u64` from a bigint, decimal string or safe integer, range-checked. */
export function toU64(value: bigint | string | number, what = "value"): bigint {
  return toUint(value, 64, what);
}

function toUint(value: bigint | string | number, bits: number, what: string): bigint {
  let v: bigint;
  if (typeof value === "bigint") v = value;
  else if (typeof value === "number") {
    if (!Number.isSafeInteger(value)) throw new InvalidInputError(`${what} ${value} is not a safe integer`);
    v = BigInt(value);
  } else if (typeof value === "string" && /^[0-9]+$/.test(value)) v = BigInt(value);
  else throw new InvalidInputError(`${what} must be a non-negative integer, got ${JSON.stringify(value)}`);
  if (v < 0n || v >= 1n << BigInt(bits)) {
    throw new InvalidInputError(`${what} ${v} is out of range for u${bits}`);
  }
  return v;
}
