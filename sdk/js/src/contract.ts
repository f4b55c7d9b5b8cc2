//! Contracts through their embedded ABI: `contract.query.<method>(args)` runs a read-only call,
//! `contract.tx.<method>(args, {from})` sends a transaction and waits for finality; return
//! values, events and errors come back decoded. Arguments are JSON as docs/abi.md describes
//! (an `address` argument also takes a dev account name or a Keypair); they are encoded here,
//! so the bytes signed are the bytes checked. A contract without an ABI takes raw `0x` input.

import { InvalidInputError, fromHex, toBytes32, toHex, type Hex32 } from "./bytes.js";
import { QueryFailedError, TxFailedError, WouldFailError } from "./errors.js";
import { Abi, AbiError, type AbiField, type AbiValue, type TypeRef } from "./abi.js";
import { checkMethodName, toAmount } from "./protocol.js";
import type { Subscription } from "./rpc.js";
import type { EventFilter, EventInfo, ExecErrorInfo, QueryResult, ReceiptInfo } from "./types.js";
import { DEV_ACCOUNTS, Keypair } from "./keys.js";
import type { AddressLike, SendResult, SignerLike, TxOptions, WeftClient } from "./client.js";
import { resolveAddress } from "./client.js";

/** A contract event, decoded through the ABI when possible. */
export interface ContractEvent<F = Record<string, AbiValue>> {
  /** The event's name (`null` when the emitter's ABI does not know it). */
  name: string | null;
  /** Its fields by name. */
  fields: F | null;
  contract: Hex32;
  blockHeight: number | null;
  txHash: Hex32 | null;
  index: number;
  /** The event as the node sent it. */
  raw: EventInfo;
}

/** What a contract transaction returned. */
export interface CallResult<R = AbiValue> extends SendResult {
  /** The return value, decoded through the ABI (`null` for unit). */
  value: R;
  /** The events it emitted, decoded. */
  events: ContractEvent[];
}

export interface QueryOptions {
  /** The caller the contract sees (default: the zero address). */
  caller?: AddressLike;
  /** Gas available. */
  gasLimit?: number;
}

export interface CallOptions extends TxOptions {
  /** Who signs: a Signer or a dev account name. */
  from: SignerLike;
  /** Native token sent along (payable methods only). */
  value?: bigint | string | number;
}

/** The shape of a contract for typed handles (what the bindings generator writes). */
export interface ContractShape {
  methods: Record<string, { args: unknown; returns: unknown }>;
  events: Record<string, unknown>;
}

/** The shape of an untyped handle: any method name, any arguments. */
export type AnyContractShape = {
  methods: Record<string, { args: any; returns: any }>;
  events: Record<string, any>;
};

export type QueryMethods<S extends ContractShape> = {
  [K in keyof S["methods"]]: (args?: S["methods"][K]["args"], options?: QueryOptions) => Promise<S["methods"][K]["returns"]>;
};
export type TxMethods<S extends ContractShape> = {
  [K in keyof S["methods"]]: (args: S["methods"][K]["args"], options: CallOptions) => Promise<CallResult<S["methods"][K]["returns"]>>;
};

/** A deployed contract and its ABI (`null` when its code carries none). */
export class Contract<S extends ContractShape = AnyContractShape> {
  /** Read-only calls by method name. */
  readonly query: QueryMethods<S>;
  /** Transactions by method name. */
  readonly tx: TxMethods<S>;

  constructor(
    readonly client: WeftClient,
    readonly address: Hex32,
    readonly abi: Abi | null,
  ) {
    const methods = (kind: "query" | "tx") =>
      new Proxy(
        {},
        {
          get: (_, name) => {
            if (typeof name !== "string" || name === "then") return undefined;
            if (kind === "query") return (args?: unknown, options?: QueryOptions) => this.queryMethod(name, args, options);
            return (args: unknown, options: CallOptions) => this.call(name, args, options);
          },
          has: (_, name) => typeof name === "string" && (!this.abi || !!this.abi.method(name)),
          ownKeys: () => (this.abi ? this.abi.methods.map((m) => m.name) : []),
          getOwnPropertyDescriptor: (_, name) =>
            typeof name === "string" && this.abi?.method(name)
              ? { enumerable: true, configurable: true, value: undefined }
              : undefined,
        },
      );
    this.query = methods("query") as QueryMethods<S>;
    this.tx = methods("tx") as TxMethods<S>;
  }

  /** The input bytes of `method` with JSON `args`. */
  encode(method: string, args: unknown): Uint8Array {
    checkMethodName(method);
    if (!this.abi) {
      if (args === null || args === undefined) return new Uint8Array(0);
      if (typeof args === "string" && args.startsWith("0x")) return fromHex(args, "input");
      throw new AbiError("the contract has no ABI, so its input must be raw: a 0x hex string or null");
    }
    const m = this.abi.method(method);
    if (!m) throw new AbiError(`the contract has no method \`${method}\``);
    return this.abi.encodeArgs(m.args, resolveAddressArgs(this.abi, m.args, args));
  }

  #decodeReturn(method: string, nodeValue: unknown, data: string): AbiValue {
    if (nodeValue !== null && nodeValue !== undefined) return nodeValue as AbiValue;
    if (!this.abi) return data;
    try {
      return this.abi.decodeReturn(method, fromHex(data));
    } catch {
      return data;
    }
  }

  /** Fills in the typed error or panic message when the node did not decode them. */
  #decodeError(method: string, error: ExecErrorInfo): ExecErrorInfo {
    if (error.kind !== "reverted" || !error.revert_data || error.error != null || error.panic != null) return error;
    if (error.contract && error.contract !== this.address) return error;
    const m = this.abi?.method(method);
    const revert = this.abi ? this.abi.decodeRevert(m?.error ?? null, fromHex(error.revert_data)) : null;
    if (revert?.kind === "error") return { ...error, error: revert.error };
    if (revert?.kind === "panic") return { ...error, panic: revert.message };
    return error;
  }

  /** An event as a `ContractEvent`, decoded through this ABI when the node did not. */
  decodeEvent(info: EventInfo): ContractEvent {
    let name = info.name;
    let fields = info.fields as Record<string, AbiValue> | null;
    if (name === null && this.abi && info.contract === this.address) {
      const decoded = this.abi.decodeEvent({ topics: info.topics, data: info.data });
      if (decoded) {
        name = decoded.name;
        fields = decoded.fields;
      }
    }
    return {
      name,
      fields,
      contract: info.contract,
      blockHeight: info.block_height,
      txHash: info.tx_hash,
      index: info.index,
      raw: info,
    };
  }

  /** Runs `method` read-only at the head; returns its decoded value. A failing call throws
   * `QueryFailedError` (with `.errorName`, `.contractError`, `.panic`). */
  async queryMethod(method: string, args?: unknown, options: QueryOptions = {}): Promise<AbiValue> {
    const result = await this.queryFull(method, args, options);
    if (!result.success) {
      throw new QueryFailedError(this.#decodeError(method, result.error!));
    }
    return this.#decodeReturn(method, result.value, result.return_data);
  }

  /** Runs `method` read-only; returns the whole result, failed or not. */
  async queryFull(method: string, args?: unknown, options: QueryOptions = {}): Promise<QueryResult> {
    const input = this.encode(method, args);
    const result = await this.client.queryRaw({
      contract: this.address,
      method,
      input: toHex(input),
      caller: options.caller !== undefined ? resolveAddress(options.caller, "caller") : null,
      gas_limit: options.gasLimit ?? null,
    });
    if (!result.success && !result.error) throw new AbiError("the node's failed query carries no error");
    return result;
  }

  /** Calls `method` in a transaction, waits (default: finality) and returns the decoded
   * value and events. Failure: `WouldFailError` (dry run; nothing sent) or `TxFailedError`. */
  async call(method: string, args: unknown, options: CallOptions): Promise<CallResult> {
    if (!options || options.from === undefined) {
      throw new InvalidInputError(`${method}: say who signs, e.g. { from: "alice" } or { from: keypair }`);
    }
    const input = this.encode(method, args);
    const action = {
      tag: "Call" as const,
      value: { contract: toBytes32(this.address), method, args: input, value: toAmount(options.value ?? 0n) },
    };
    let sent: SendResult;
    try {
      sent = await this.client.send(options.from, action, options);
    } catch (e) {
      if (e instanceof TxFailedError) throw new TxFailedError(e.txHash, this.#decodeError(method, e.error), e.receipt);
      if (e instanceof WouldFailError) throw new WouldFailError(this.#decodeError(method, e.error));
      throw e;
    }
    const receipt: ReceiptInfo = sent.receipt;
    return {
      ...sent,
      value: this.#decodeReturn(method, receipt.return_value, receipt.return_data),
      events: receipt.events.map((e) => this.decodeEvent(e)),
    };
  }

  /** The filter for this contract's events, optionally of one event name. */
  eventFilter(event?: string, extra: Omit<EventFilter, "contract" | "event"> = {}): EventFilter {
    if (event !== undefined && this.abi && !this.abi.event(event)) {
      throw new AbiError(`the contract has no event \`${event}\``);
    }
    return { ...extra, contract: this.address, event: event ?? null };
  }

  /** Past events of this contract (all pages), decoded. */
  async pastEvents(event?: string, extra: Omit<EventFilter, "contract" | "event"> = {}): Promise<ContractEvent[]> {
    const events = await this.client.allEvents(this.eventFilter(event, extra));
    return events.map((e) => this.decodeEvent(e));
  }

  /** This contract's events (optionally one name) as their blocks are committed, decoded. */
  async subscribeEvents(event?: string): Promise<Subscription<ContractEvent>> {
    const sub = await this.client.subscribeEvents(this.eventFilter(event));
    return sub.map((e) => this.decodeEvent(e));
  }
}

/** Lets `address` arguments (top-level) be a dev account name or anything with an address. */
function resolveAddressArgs(abi: Abi, args: AbiField[], json: unknown): unknown {
  const fix = (ty: TypeRef, v: unknown): unknown => {
    if (ty !== "address") return v;
    if (typeof v === "string" && (DEV_ACCOUNTS as readonly string[]).includes(v)) return Keypair.dev(v).address;
    if (v instanceof Uint8Array) return toHex(v);
    if (v && typeof v === "object" && "address" in v) return (v as { address: string }).address;
    return v;
  };
  void abi;
  if (json && typeof json === "object" && !Array.isArray(json) && !(json instanceof Uint8Array)) {
    const map = { ...(json as Record<string, unknown>) };
    const byName = args.length !== 1 || args[0]!.name in map;
    if (byName) {
      for (const a of args) if (a.name in map) map[a.name] = fix(a.type, map[a.name]);
      return map;
    }
    if (args.length === 1) return fix(args[0]!.type, json);
    return map;
  }
  if (Array.isArray(json) && json.length === args.length && !(args.length === 1 && args[0]!.type !== "address")) {
    return json.map((v, i) => fix(args[i]!.type, v));
  }
  if (args.length === 1) return fix(args[0]!.type, json);
  return json;
}

