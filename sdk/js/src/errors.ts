//! The errors of the client, split by who is to blame: the node's JSON-RPC errors (with their
//! stable codes), transport failures and timeouts, transactions that would fail or did, and
//! proofs that do not verify.

import type { ExecErrorInfo, ReceiptInfo } from "./types.js";
import type { Hex32 } from "./bytes.js";

export { InvalidInputError } from "./bytes.js";
export { AbiError } from "./abi.js";
export { DecodeError } from "./scale.js";

/** The node answered with a JSON-RPC error. `code` is one of `ErrorCodes` or JSON-RPC's own. */
export class RpcError extends Error {
  override name = "RpcError";
  constructor(
    readonly method: string,
    readonly code: number,
    readonly rpcMessage: string,
    readonly data?: unknown,
  ) {
    super(`${method}: ${rpcMessage} (code ${code})`);
  }
}

/** The connection failed, closed, or the node sent something that is not JSON-RPC. */
export class TransportError extends Error {
  override name = "TransportError";
}

/** Waiting for something took longer than allowed. */
export class TimeoutError extends Error {
  override name = "TimeoutError";
}

/** How a contract call or transaction failed, decoded: the `ExecErrorInfo` and its typed error. */
abstract class ExecFailure extends Error {
  constructor(
    message: string,
    readonly error: ExecErrorInfo,
  ) {
    super(message);
  }
  /** The `kind` of the failure: `reverted`, `out_of_gas`, `trap`, … */
  get kind(): string {
    return this.error.kind;
  }
  /** The contract's typed error decoded through its ABI (e.g. `"AlreadyVoted"`), if any. */
  get contractError(): unknown {
    return this.error.error ?? undefined;
  }
  /** The name of the typed error's variant (`"AlreadyVoted"` or `"DeadlineInPast"`), if any. */
  get errorName(): string | undefined {
    const e = this.error.error;
    if (typeof e === "string") return e;
    if (e && typeof e === "object" && !Array.isArray(e)) return Object.keys(e)[0];
    return undefined;
  }
  /** The contract's panic message, if it panicked. */
  get panic(): string | undefined {
    return this.error.panic ?? undefined;
  }
}

/** A dry run (estimate) says the transaction would fail: it was not sent, no fee was paid. */
export class WouldFailError extends ExecFailure {
  override name = "WouldFailError";
  constructor(error: ExecErrorInfo) {
    super(`the transaction would fail: ${error.message}`, error);
  }
}

/** A read-only query failed. */
export class QueryFailedError extends ExecFailure {
  override name = "QueryFailedError";
  constructor(error: ExecErrorInfo) {
    super(`the query failed: ${error.message}`, error);
  }
}

/** The transaction was included but failed (it paid its fee). */
export class TxFailedError extends ExecFailure {
  override name = "TxFailedError";
  constructor(
    readonly txHash: Hex32,
    error: ExecErrorInfo,
    readonly receipt: ReceiptInfo,
  ) {
    super(`transaction ${txHash} failed: ${error.message}`, error);
  }
}

/** The node dropped the transaction from its mempool without including it. */
export class TxDroppedError extends Error {
  override name = "TxDroppedError";
  constructor(
    readonly txHash: Hex32,
    readonly reason: string,
  ) {
    super(`transaction ${txHash} was dropped: ${reason}`);
  }
}

/** A state proof does not prove what it claims. */
export class ProofError extends Error {
  override name = "ProofError";
}
