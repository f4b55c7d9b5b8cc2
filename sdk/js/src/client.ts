//! [`WeftClient`]: one WebSocket connection to a node; every JSON-RPC method typed; the chain
//! parameters a transaction needs; building, signing, submitting and awaiting transactions
//! (nonces tracked locally, gas estimated by an exact dry run plus a margin, waiting through
//! `tx_subscribeStatus`); contract handles and deployment; verified state reads.

import { InvalidInputError, hex32, toBytes, toBytes32, toHex, type BytesLike, type Hex32 } from "./bytes.js";
import { ProofError, QueryFailedError, RpcError, TimeoutError, TransportError, TxDroppedError, TxFailedError, WouldFailError } from "./errors.js";
import { Keypair, type Signer, signTransaction, DEV_ACCOUNTS } from "./keys.js";
import {
  type Action,
  type Transaction,
  codeHash,
  contractAddress,
  limits,
  toAmount,
  toU64,
} from "./protocol.js";
import { RpcConnection, Subscription, type TransportOptions } from "./rpc.js";
import {
  ErrorCodes,
  UNSUBSCRIBE,
  type AccountInfo,
  type BlockId,
  type BlockInfo,
  type Estimate,
  type EstimateAction,
  type EstimateRequest,
  type EventFilter,
  type EventInfo,
  type EventPage,
  type EvidenceInfo,
  type HeaderInfo,
  type Health,
  type NodeInfo,
  type NodeMetrics,
  type PeerInfo,
  type QueryRequest,
  type QueryResult,
  type ReceiptInfo,
  type RpcMethods,
  type RpcSubscriptions,
  type SnapshotId,
  type StateProofInfo,
  type SubmitResult,
  type TxInfo,
  type TxStatus,
} from "./types.js";
import { Abi, type AbiDocument } from "./abi.js";
import { Contract, type AnyContractShape, type ContractShape } from "./contract.js";
import { verifyStateProof, type VerifiedState } from "./proof.js";

/** The default node URL, that of `weft-node dev`. */
export const DEFAULT_URL = "ws://127.0.0.1:9944";
/** How long a send waits for its transaction by default (ms). */
export const DEFAULT_WAIT_TIMEOUT_MS = 60_000;
/** The most gas a transaction may use (sdk/types limits: MAX_TX_GAS). */
export const MAX_TX_GAS = 500_000_000;
/** How many nonces one send tries before giving up. */
export const MAX_NONCE_ATTEMPTS = 32;

/** The gas limit set for an estimate: 25% more than the dry run, plus 10 000, at most MAX_TX_GAS. */
export function gasWithMargin(estimated: number): number {
  return Math.min(estimated + Math.floor(estimated / 4) + 10_000, MAX_TX_GAS);
}

/** What a send waits for before it returns the receipt. */
export type WaitFor = "included" | "finalized";

/** How to build and send a transaction. Every field is optional. */
export interface TxOptions {
  /** Gas limit. Default: an exact dry run plus a margin; a failing dry run throws
   * `WouldFailError` and nothing is sent. With an explicit limit nothing is dry-run. */
  gasLimit?: number | bigint;
  /** Gas price. Default: the node's minimum. */
  gasPrice?: bigint | string | number;
  /** Nonce. Default: the next one. */
  nonce?: number | bigint;
  /** What to wait for. Default `"finalized"`. (`submitAction` sends without waiting.) */
  wait?: WaitFor;
  /** How long to wait (ms). Default 60 000. */
  timeoutMs?: number;
}

/** A signer, or the name of a dev account (`"alice"`). */
export type SignerLike = Signer | string;

/** A sent transaction: its hash and its receipt. */
export interface SendResult {
  hash: Hex32;
  receipt: ReceiptInfo;
}

export interface ClientOptions extends TransportOptions {}

/** The chain parameters a transaction needs, read once from `node_info`. */
export interface ChainParams {
  chainId: bigint;
  minGasPrice: bigint;
}

/** Resolves a signer argument: a Signer, or a dev account name. */
export function resolveSigner(signer: SignerLike): Signer {
  if (typeof signer === "string") return Keypair.dev(signer);
  return signer;
}

/** An address argument: `0x` hex, bytes, a dev account name, or anything with an `address`. */
export type AddressLike = BytesLike | { address: string };

/** Resolves an address argument. */
export function resolveAddress(who: AddressLike, what = "address"): Hex32 {
  if (typeof who === "object" && !(who instanceof Uint8Array)) return hex32(who.address, what);
  if (typeof who === "string" && (DEV_ACCOUNTS as readonly string[]).includes(who)) return Keypair.dev(who).address;
  return hex32(who, what);
}

function actionToEstimate(action: Action): EstimateAction {
  switch (action.tag) {
    case "Transfer":
      return { type: "transfer", to: toHex(action.value.to), amount: action.value.amount.toString() };
    case "UploadCode":
      return { type: "upload_code", code: toHex(action.value.code) };
    case "Instantiate":
      return {
        type: "instantiate",
        code_hash: toHex(action.value.code_hash),
        input: toHex(action.value.args),
        value: action.value.value.toString(),
        salt: toHex(action.value.salt),
      };
    case "Call":
      return {
        type: "call",
        contract: toHex(action.value.contract),
        method: action.value.method,
        input: toHex(action.value.args),
        value: action.value.value.toString(),
      };
    case "Upgrade":
      return {
        type: "upgrade",
        contract: toHex(action.value.contract),
        code_hash: toHex(action.value.code_hash),
        input: toHex(action.value.args),
      };
    case "SetAdmin":
      return {
        type: "set_admin",
        contract: toHex(action.value.contract),
        admin: action.value.admin ? toHex(action.value.admin) : null,
      };
  }
}

/** A connection to a Weft node. */
export class WeftClient {
  readonly rpc: RpcConnection;
  #params: Promise<ChainParams> | undefined;
  /** Per sender: the next nonce and the hash of the last transaction sent. */
  #nonces = new Map<string, { next: bigint; hash: Hex32 }>();
  /** Sends pick nonces one at a time. */
  #sendQueue: Promise<unknown> = Promise.resolve();

  private constructor(rpc: RpcConnection) {
    this.rpc = rpc;
  }

  /** Connects to the node at `url` (`ws://`, `http://` or `host:port`). */
  static async connect(url: string = DEFAULT_URL, options: ClientOptions = {}): Promise<WeftClient> {
    return new WeftClient(await RpcConnection.connect(url, options));
  }

  get url(): string {
    return this.rpc.url;
  }

  /** Closes the connection. */
  close(): void {
    this.rpc.close();
  }

  /** Any method of the API, typed by name. */
  request<M extends keyof RpcMethods>(method: M, ...params: RpcMethods[M]["params"]): Promise<RpcMethods[M]["result"]> {
    return this.rpc.request(method, params);
  }

  /** Any subscription of the API, typed by name. */
  subscribe<M extends keyof RpcSubscriptions>(
    method: M,
    ...params: RpcSubscriptions[M]["params"]
  ): Promise<Subscription<RpcSubscriptions[M]["item"]>> {
    return this.rpc.subscribe(method, params, UNSUBSCRIBE[method]);
  }

  /** Chain id and minimum gas price, read on first use and cached. */
  chainParams(): Promise<ChainParams> {
    this.#params ??= this.nodeInfo().then((info) => ({
      chainId: BigInt(info.chain_id),
      minGasPrice: BigInt(info.min_gas_price),
    }));
    this.#params.catch(() => (this.#params = undefined));
    return this.#params;
  }

  // ----- node -----
  nodeInfo(): Promise<NodeInfo> {
    return this.request("node_info");
  }
  health(): Promise<Health> {
    return this.request("node_health");
  }
  /** The node process's resource use and its pools. */
  metrics(): Promise<NodeMetrics> {
    return this.request("node_metrics");
  }
  peers(): Promise<PeerInfo[]> {
    return this.request("node_peers");
  }
  /** Evidence of equivocation the node has seen and kept, lowest view first. */
  evidence(): Promise<EvidenceInfo[]> {
    return this.request("node_evidence");
  }

  // ----- chain -----
  /** The newest block's header. */
  head(): Promise<HeaderInfo> {
    return this.request("chain_getHead");
  }
  /** The newest finalized block's header. */
  finalizedHead(): Promise<HeaderInfo> {
    return this.request("chain_getFinalized");
  }
  /** A block by height, hash or tag (`null` when unknown); with `full`, its transactions. */
  block(id: BlockId, full = false): Promise<BlockInfo | null> {
    return this.request("chain_getBlock", id, full);
  }
  /** Every new block's header. */
  subscribeHeads(): Promise<Subscription<HeaderInfo>> {
    return this.subscribe("chain_subscribeHeads");
  }
  /** Every newly finalized block's header. */
  subscribeFinalized(): Promise<Subscription<HeaderInfo>> {
    return this.subscribe("chain_subscribeFinalized");
  }

  // ----- state -----
  /** An account at the head (balance 0 and nonce 0 when never seen). */
  account(address: AddressLike): Promise<AccountInfo> {
    return this.request("state_getAccount", resolveAddress(address));
  }
  /** The native balance of `address`. */
  async balance(address: AddressLike): Promise<bigint> {
    return BigInt((await this.account(address)).balance);
  }
  /** A contract's raw storage value at the head; `null` when absent. */
  async storage(contract: AddressLike, key: BytesLike): Promise<Uint8Array | null> {
    const v = await this.request("state_getStorage", resolveAddress(contract, "contract"), toHex(toBytes(key, "storage key")));
    return v === null ? null : toBytes(v);
  }
  /** Merkle proofs of an account and some of its storage keys against the finalized root. */
  proof(address: AddressLike, keys: BytesLike[] = []): Promise<StateProofInfo> {
    return this.request("state_getProof", resolveAddress(address), keys.map((k) => toHex(toBytes(k, "storage key"))));
  }

  /**
   * An account and some of its storage keys, proven against the state root of a finalized
   * header: the proofs are checked here (SHA3 Jellyfish Merkle tree), the header's hash is
   * recomputed from its fields, and the header must be the node's finalized chain at its height
   * (or, with `trusted`, exactly that header).
   */
  async verifiedState(address: AddressLike, keys: BytesLike[] = [], trusted?: HeaderInfo): Promise<VerifiedState> {
    const addr = resolveAddress(address);
    const keyBytes = keys.map((k) => toBytes(k, "storage key"));
    const info = await this.proof(addr, keyBytes);
    const verified = verifyStateProof(info, addr, keyBytes, trusted);
    if (!trusted) {
      const finalized = await this.finalizedHead();
      if (verified.header.height > finalized.height) {
        throw new ProofError(
          `the proofs are against block ${verified.header.height}, above the finalized height ${finalized.height}`,
        );
      }
      const block = await this.block(verified.header.height);
      if (!block || block.header.hash !== verified.header.hash) {
        throw new ProofError(
          `the proofs' header ${verified.header.hash} is not the chain's block at height ${verified.header.height}`,
        );
      }
    }
    return verified;
  }

  // ----- transactions -----
  /** Submits SCALE-encoded signed transaction bytes; returns the hash. */
  submit(tx: BytesLike): Promise<Hex32> {
    return this.request("tx_submit", toHex(toBytes(tx, "transaction")));
  }
  /** Submits several transactions; one result each. */
  submitBatch(txs: BytesLike[]): Promise<SubmitResult[]> {
    return this.request("tx_submitBatch", txs.map((t) => toHex(toBytes(t, "transaction"))));
  }
  /** The receipt of an included transaction; `null` when not (yet) included. */
  receipt(hash: BytesLike): Promise<ReceiptInfo | null> {
    return this.request("tx_getReceipt", hex32(hash, "transaction hash"));
  }
  /** A transaction, included or pending; `null` when unknown. */
  transaction(hash: BytesLike): Promise<TxInfo | null> {
    return this.request("tx_get", hex32(hash, "transaction hash"));
  }
  /** A transaction's status now and on every change; the stream ends after a final status
   * (`finalized` or `dropped`), as the node's subscription does. `unknown` is not final: a
   * subscription may be opened before the transaction is submitted. */
  subscribeTxStatus(hash: BytesLike): Promise<Subscription<TxStatus>> {
    return this.rpc.subscribe<TxStatus>(
      "tx_subscribeStatus",
      [hex32(hash, "transaction hash")],
      UNSUBSCRIBE.tx_subscribeStatus,
      (s) => s.status === "finalized" || s.status === "dropped",
    );
  }

  // ----- contracts (raw) -----
  /** `contract_query`: a read-only call at the head. */
  queryRaw(request: QueryRequest): Promise<QueryResult> {
    return this.request("contract_query", request);
  }
  /** `contract_estimateGas`: an exact dry run at the head. */
  estimate(request: EstimateRequest): Promise<Estimate> {
    return this.request("contract_estimateGas", request);
  }
  /** A contract's ABI document; `null` when its code carries none. */
  abiDocument(contract: AddressLike): Promise<AbiDocument | null> {
    return this.request("contract_getAbi", resolveAddress(contract, "contract"));
  }
  /** A contract's wasm code. */
  async code(contract: AddressLike): Promise<Uint8Array> {
    return toBytes(await this.request("contract_getCode", resolveAddress(contract, "contract")));
  }
  /** Past events matching a filter, a page at a time. */
  events(filter: EventFilter = {}): Promise<EventPage> {
    return this.request("contract_getEvents", filter);
  }
  /** Every past event matching a filter, following the pages. */
  async allEvents(filter: EventFilter = {}, maxPages = 1000): Promise<EventInfo[]> {
    const out: EventInfo[] = [];
    let cursor: string | null | undefined = filter.cursor;
    for (let page = 0; page < maxPages; page++) {
      const res: EventPage = await this.events({ ...filter, cursor });
      out.push(...res.events);
      if (!res.next_cursor) return out;
      cursor = res.next_cursor;
    }
    throw new InvalidInputError(`more than ${maxPages} pages of events: narrow the filter`);
  }
  /** Events matching a filter as their blocks are committed. */
  subscribeEvents(filter: EventFilter = {}): Promise<Subscription<EventInfo>> {
    return this.subscribe("contract_subscribeEvents", filter);
  }

  // ----- dev -----
  /** Dev only: produces `count` blocks now; returns the new head. */
  devMine(count = 1): Promise<HeaderInfo> {
    return this.request("dev_mine", count);
  }
  /** Dev only: sets an account's balance (in a new block). */
  devSetBalance(address: AddressLike, balance: bigint | string | number): Promise<AccountInfo> {
    return this.request("dev_setBalance", resolveAddress(address), toAmount(balance, "balance").toString());
  }
  /** Dev only: moves the clock of the next blocks forward; returns the total offset (ms). */
  devIncreaseTime(ms: number): Promise<number> {
    return this.request("dev_increaseTime", ms);
  }
  /** Dev only: remembers the current chain. */
  devSnapshot(): Promise<SnapshotId> {
    return this.request("dev_snapshot");
  }
  /** Dev only: returns the chain to a snapshot; forgets this client's nonces. */
  async devRevert(id: SnapshotId): Promise<HeaderInfo> {
    const head = await this.request("dev_revert", id);
    this.#nonces.clear();
    return head;
  }
  /** The OpenRPC document of the API. */
  discover(): Promise<Record<string, unknown>> {
    return this.request("rpc.discover");
  }

  // ----- building and sending -----

  /** The nonce the next transaction of `sender` should carry. */
  async nextNonce(sender: AddressLike): Promise<bigint> {
    const addr = resolveAddress(sender);
    const chain = BigInt((await this.account(addr)).pending_nonce);
    const last = this.#nonces.get(addr);
    if (last && last.next > chain && (await this.transaction(last.hash)) !== null) return last.next;
    return chain;
  }

  /** Builds the unsigned transaction of `action` from `signer` (gas estimated unless given). */
  async prepare(signer: SignerLike, action: Action, options: TxOptions = {}): Promise<Transaction> {
    const s = resolveSigner(signer);
    const params = await this.chainParams();
    let gasLimit: bigint;
    if (options.gasLimit !== undefined) gasLimit = toU64(options.gasLimit, "gas limit");
    else {
      const estimate = await this.estimate({ from: s.address, action: actionToEstimate(action) });
      if (!estimate.success) {
        if (!estimate.error) throw new TransportError("the node's failed estimate carries no error");
        throw new WouldFailError(estimate.error);
      }
      gasLimit = BigInt(gasWithMargin(estimate.gas_used));
    }
    return {
      chain_id: params.chainId,
      sender: s.publicKey,
      nonce: options.nonce !== undefined ? toU64(options.nonce, "nonce") : 0n,
      gas_limit: gasLimit,
      gas_price: options.gasPrice !== undefined ? toAmount(options.gasPrice, "gas price") : params.minGasPrice,
      action,
    };
  }

  /** Builds, signs and submits a transaction without waiting; returns its hash. A nonce the
   * node refuses as taken, too low or too high is moved on and the send retried. */
  async submitAction(signer: SignerLike, action: Action, options: TxOptions = {}): Promise<Hex32> {
    const s = resolveSigner(signer);
    const tx = await this.prepare(s, action, options);
    if (options.nonce !== undefined) {
      const signed = await signTransaction(s, tx);
      await this.submit(signed.bytes);
      this.#recordNonce(s.address, tx.nonce, signed.hash);
      return signed.hash;
    }
    // One send at a time per client, so that concurrent sends take distinct nonces.
    const turn = this.#sendQueue.then(async () => {
      let nonce = await this.nextNonce(s.address);
      for (let attempt = 1; ; attempt++) {
        const signed = await signTransaction(s, { ...tx, nonce });
        try {
          await this.submit(signed.bytes);
          this.#recordNonce(s.address, nonce, signed.hash);
          return signed.hash;
        } catch (e) {
          if (!(e instanceof RpcError) || attempt >= MAX_NONCE_ATTEMPTS) throw e;
          if (e.code === ErrorCodes.TX_REPLACEMENT_UNDERPRICED) nonce += 1n;
          else if (e.code === ErrorCodes.TX_NONCE_TOO_LOW) {
            const chain = BigInt((await this.account(s.address)).nonce);
            nonce = chain > nonce + 1n ? chain : nonce + 1n;
          } else if (e.code === ErrorCodes.TX_NONCE_TOO_HIGH) {
            const chain = BigInt((await this.account(s.address)).nonce);
            if (chain >= nonce) throw e;
            nonce = chain;
          } else throw e;
        }
      }
    });
    this.#sendQueue = turn.catch(() => {});
    return turn;
  }

  #recordNonce(address: Hex32, nonce: bigint, hash: Hex32): void {
    const current = this.#nonces.get(address);
    if (!current || current.next <= nonce + 1n) this.#nonces.set(address, { next: nonce + 1n, hash });
  }

  /** Builds, signs, submits and waits (default: finality); returns hash and receipt. A
   * transaction included but failed throws `TxFailedError` with the decoded error. */
  async send(signer: SignerLike, action: Action, options: TxOptions = {}): Promise<SendResult> {
    const hash = await this.submitAction(signer, action, options);
    const receipt = await this.waitFor(hash, options.wait ?? "finalized", options.timeoutMs ?? DEFAULT_WAIT_TIMEOUT_MS);
    return { hash, receipt };
  }

  /** Sends `amount` of the native token to `to`. */
  transfer(from: SignerLike, to: AddressLike, amount: bigint | string | number, options: TxOptions = {}): Promise<SendResult> {
    const action: Action = {
      tag: "Transfer",
      value: { to: toBytes32(resolveAddress(to, "recipient")), amount: toAmount(amount) },
    };
    return this.send(from, action, options);
  }

  /** Replaces `contract`'s code with uploaded code `codeHash` (its admin only), running the new
   * code's `migrate` with `args` (raw input bytes) when it has one. */
  upgrade(from: SignerLike, contract: AddressLike, codeHash: BytesLike, args: BytesLike = new Uint8Array(), options: TxOptions = {}): Promise<SendResult> {
    const action: Action = {
      tag: "Upgrade",
      value: {
        contract: toBytes32(resolveAddress(contract, "contract")),
        code_hash: toBytes32(hex32(codeHash, "code hash")),
        args: toBytes(args, "migrate args"),
      },
    };
    return this.send(from, action, options);
  }

  /** Makes `admin` the one who may upgrade `contract` (its admin only); `null` makes it
   * immutable for good. */
  setAdmin(from: SignerLike, contract: AddressLike, admin: AddressLike | null, options: TxOptions = {}): Promise<SendResult> {
    const action: Action = {
      tag: "SetAdmin",
      value: {
        contract: toBytes32(resolveAddress(contract, "contract")),
        admin: admin === null ? undefined : toBytes32(resolveAddress(admin, "admin")),
      },
    };
    return this.send(from, action, options);
  }

  /** Waits until `hash` is included (or finalized) and returns its receipt; throws
   * `TxFailedError`, `TxDroppedError` or `TimeoutError`. */
  async waitFor(hash: BytesLike, wait: "included" | "finalized" = "finalized", timeoutMs = DEFAULT_WAIT_TIMEOUT_MS): Promise<ReceiptInfo> {
    const h = hex32(hash, "transaction hash");
    const statuses = await this.subscribeTxStatus(h);
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new TimeoutError(`transaction ${h} was not ${wait} within ${timeoutMs / 1000}s`)),
        timeoutMs,
      );
    });
    try {
      await Promise.race([this.#awaitStatus(h, statuses, wait), timeout]);
    } finally {
      clearTimeout(timer);
      void statuses.unsubscribe();
    }
    const receipt = await this.receipt(h);
    if (!receipt) throw new TransportError(`transaction ${h} is included but has no receipt`);
    if (!receipt.success) {
      if (!receipt.error) throw new TransportError(`the failed receipt of ${h} carries no error`);
      throw new TxFailedError(h, receipt.error, receipt);
    }
    return receipt;
  }

  async #awaitStatus(hash: Hex32, statuses: Subscription<TxStatus>, wait: "included" | "finalized"): Promise<void> {
    let last: TxStatus | undefined;
    for await (const status of statuses) {
      if (status.status === "finalized") return;
      if (status.status === "included" && wait === "included") return;
      if (status.status === "dropped") throw new TxDroppedError(hash, status.reason);
      last = status;
    }
    throw new TransportError(`the node closed the status subscription of ${hash} (last status: ${JSON.stringify(last)})`);
  }

  // ----- contracts through the ABI -----

  /** A handle on the contract at `address`, with its ABI fetched from the node. */
  async contract<S extends ContractShape = AnyContractShape>(address: AddressLike): Promise<Contract<S>> {
    const addr = resolveAddress(address, "contract");
    const doc = await this.abiDocument(addr);
    return new Contract<S>(this, addr, doc ? new Abi(doc) : null);
  }

  /** Uploads `wasm` unless the chain already has it; returns its code hash. */
  async upload(signer: SignerLike, wasm: Uint8Array, options: TxOptions = {}): Promise<{ codeHash: Hex32; receipt: ReceiptInfo | null }> {
    const hash = toHex(codeHash(wasm));
    if (wasm.length > limits.MAX_CODE_BYTES) {
      throw new InvalidInputError(`the code is ${wasm.length} bytes, over MAX_CODE_BYTES (${limits.MAX_CODE_BYTES})`);
    }
    // Uploading stored code would succeed too (uploads are idempotent), at the price of a
    // transaction: asked first instead.
    if (await this.request("state_hasCode", hash)) return { codeHash: hash, receipt: null };
    const { receipt } = await this.send(signer, { tag: "UploadCode", value: { code: wasm } }, { ...options, wait: "included" });
    return { codeHash: hash, receipt };
  }

  /** Deploys `wasm` with constructor `args` (JSON through its embedded ABI, or raw `0x` input
   * when it has none); waits for finality. Default salt: the instantiate's nonce (8 bytes LE). */
  async deploy(
    signer: SignerLike,
    wasm: Uint8Array,
    args: unknown = null,
    options: TxOptions & { salt?: BytesLike; value?: bigint | string | number } = {},
  ): Promise<{ address: Hex32; codeHash: Hex32; receipt: ReceiptInfo; contract: Contract }> {
    const s = resolveSigner(signer);
    const abi = Abi.fromWasm(wasm);
    let input: Uint8Array;
    if (abi) input = abi.encodeConstructor(args);
    else if (args === null || args === undefined) input = new Uint8Array(0);
    else if (typeof args === "string") input = toBytes(args, "constructor input");
    else throw new InvalidInputError("the code has no ABI, so its constructor input must be raw 0x hex or null");
    const { codeHash: ch } = await this.upload(s, wasm, { ...options, nonce: undefined, gasLimit: undefined });
    let salt: Uint8Array;
    const txOptions = { ...options };
    if (options.salt !== undefined) salt = toBytes(options.salt, "salt");
    else {
      const nonce = options.nonce !== undefined ? toU64(options.nonce) : await this.nextNonce(s.address);
      txOptions.nonce = nonce;
      salt = new Uint8Array(8);
      new DataView(salt.buffer).setBigUint64(0, nonce, true);
    }
    const expected = toHex(contractAddress(s.publicKey, toBytes32(ch), salt));
    const action: Action = {
      tag: "Instantiate",
      value: { code_hash: toBytes32(ch), args: input, value: toAmount(options.value ?? 0n), salt },
    };
    const { receipt } = await this.send(s, action, txOptions);
    const address = receipt.contract_address ?? expected;
    if (address !== expected) {
      throw new TransportError(`the node reports contract address ${address}, but the derivation gives ${expected}`);
    }
    return { address, codeHash: ch, receipt, contract: new Contract(this, address, abi) };
  }

  /** @internal A query, with failure as `QueryFailedError`. */
  async _query(request: QueryRequest): Promise<QueryResult> {
    const result = await this.queryRaw(request);
    if (!result.success) {
      if (!result.error) throw new TransportError("the node's failed query carries no error");
      throw new QueryFailedError(result.error);
    }
    return result;
  }
}

