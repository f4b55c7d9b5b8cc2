//! The JSON shapes of the Weft JSON-RPC API (sdk/rpc-api/src/types.rs) and a map of every
//! method to its parameters and result. Conventions: hashes, addresses and byte strings are
//! `0x` hex; amounts (`u128`) are decimal strings; heights, nonces and gas are numbers.

import type { Hex32, HexString } from "./bytes.js";
import type { AbiDocument } from "./abi.js";

/** A `u128` amount as a decimal string. */
export type AmountString = string;

/** A block by height, hash, or tag (`"head"`, `"latest"`, `"finalized"`). */
export type BlockId = number | Hex32 | "head" | "latest" | "finalized";

export interface NodeInfo {
  chain_id: number;
  version: string;
  peer_id: string | null;
  height: number;
  finalized_height: number;
  validator: boolean;
  dev: boolean;
  min_gas_price: AmountString;
}

export interface Health {
  healthy: boolean;
  height: number;
  finalized_height: number;
  peers: number;
  syncing: boolean;
  pending_txs: number;
}

export interface NodeMetrics {
  cpu_user_ms: number | null;
  cpu_system_ms: number | null;
  rss_bytes: number | null;
  rss_peak_bytes: number | null;
  threads: number | null;
  uptime_ms: number;
  pending_txs: number;
  pending_bytes: number;
  height: number;
  /** Gossiped transactions dropped: their peer sent over its budget. */
  gossip_txs_over_peer_limit: number;
  /** Gossiped transactions dropped: the admission queue was full. */
  gossip_txs_queue_full: number;
  /** Consensus gossip dropped: its peer sent more useless messages than its budget. */
  gossip_consensus_over_peer_limit: number;
  code_compiled: number;
  rpc_executions_busy: number;
}

export interface PeerInfo {
  peer_id: string;
  address: string;
}

/** A piece of evidence of equivocation the node has seen and kept (`node_evidence`). */
export interface EvidenceInfo {
  view: number;
  /** The validator that signed both messages. */
  offender: Hex32;
  conflict:
    | { type: "votes"; first: VoteInfo; second: VoteInfo }
    | { type: "proposals"; first: ProposalInfo; second: ProposalInfo };
  /** SCALE(Evidence): both messages with their signatures. */
  raw: HexString;
}

export interface BlockRefInfo {
  height: number;
  hash: Hex32;
}

export interface VoteInfo {
  kind: "notarize" | "finalize" | "nullify";
  view: number;
  /** Absent (null) for `nullify`. */
  block: BlockRefInfo | null;
}

export interface ProposalInfo {
  parent_view: number;
  block: BlockRefInfo;
}

export interface HeaderInfo {
  hash: Hex32;
  height: number;
  parent_hash: Hex32;
  timestamp_ms: number;
  proposer: Hex32;
  tx_root: Hex32;
  receipts_root: Hex32;
  state_root: Hex32;
  gas_used: number;
  tx_count: number;
}

export interface BlockInfo {
  header: HeaderInfo;
  tx_hashes: Hex32[];
  transactions?: TxInfo[];
}

export interface TxLocation {
  block_height: number;
  block_hash: Hex32;
  index: number;
}

export type ActionInfo =
  | { type: "transfer"; to: Hex32; amount: AmountString }
  | { type: "upload_code"; code_hash: Hex32; size: number }
  | { type: "instantiate"; code_hash: Hex32; args: HexString; value: AmountString; salt: HexString }
  | { type: "call"; contract: Hex32; method: string; args: HexString; value: AmountString }
  | { type: "upgrade"; contract: Hex32; code_hash: Hex32; args: HexString }
  | { type: "set_admin"; contract: Hex32; admin: Hex32 | null };

export interface TxInfo {
  hash: Hex32;
  chain_id: number;
  sender: Hex32;
  nonce: number;
  gas_limit: number;
  gas_price: AmountString;
  action: ActionInfo;
  signature: HexString;
  location: TxLocation | null;
}

export interface AccountInfo {
  address: Hex32;
  balance: AmountString;
  nonce: number;
  pending_nonce: number;
  code_hash: Hex32 | null;
  storage_bytes: number;
  deposit: AmountString;
  height: number;
}

export interface ProofItem {
  key: HexString;
  value: HexString | null;
  /** The SCALE-encoded `StateProof`. */
  proof: HexString;
}

export interface StateProofInfo {
  header: HeaderInfo;
  account: ProofItem;
  storage: ProofItem[];
}

export interface ErrorInfo {
  code: number;
  message: string;
}

export interface SubmitResult {
  hash: Hex32 | null;
  error: ErrorInfo | null;
}

/** A failed execution, decoded as far as the contract's ABI allows. */
export interface ExecErrorInfo {
  /** `out_of_gas`, `reverted`, `trap`, `insufficient_balance`, `limit`, … */
  kind: string;
  message: string;
  contract: Hex32 | null;
  /** For `reverted`: the panic message. */
  panic: string | null;
  /** For `reverted`: the typed error decoded through the ABI, e.g. `"AlreadyVoted"`. */
  error: unknown;
  revert_data: HexString | null;
  backtrace: string[] | null;
  /** The SCALE-encoded `ExecError`. */
  raw: HexString;
}

export interface EventInfo {
  contract: Hex32;
  topics: Hex32[];
  data: HexString;
  name: string | null;
  fields: Record<string, unknown> | null;
  block_height: number | null;
  tx_hash: Hex32 | null;
  index: number;
}

export interface ReceiptInfo {
  tx_hash: Hex32;
  location: TxLocation;
  success: boolean;
  error: ExecErrorInfo | null;
  gas_used: number;
  fee: AmountString;
  deposit_charged: AmountString;
  deposit_refunded: AmountString;
  events: EventInfo[];
  return_data: HexString;
  return_value: unknown;
  contract_address: Hex32 | null;
}

export type TxStatus =
  | { status: "pending" }
  | { status: "included"; location: TxLocation; success: boolean }
  | { status: "finalized"; location: TxLocation; success: boolean }
  | { status: "dropped"; reason: string }
  | { status: "unknown" };

/** Input of a query or estimate: JSON arguments through the ABI, or raw input. */
export interface CallInput {
  args?: unknown;
  input?: HexString;
}

export interface QueryRequest extends CallInput {
  contract: Hex32;
  method: string;
  caller?: Hex32 | null;
  gas_limit?: number | null;
}

export interface QueryResult {
  success: boolean;
  value: unknown;
  return_data: HexString;
  gas_used: number;
  events: EventInfo[];
  error: ExecErrorInfo | null;
  height: number;
}

export type EstimateAction =
  | { type: "transfer"; to: Hex32; amount: AmountString }
  | { type: "upload_code"; code: HexString }
  | ({ type: "instantiate"; code_hash: Hex32; value?: AmountString | null; salt?: HexString | null } & CallInput)
  | ({ type: "call"; contract: Hex32; method: string; value?: AmountString | null } & CallInput)
  | ({ type: "upgrade"; contract: Hex32; code_hash: Hex32 } & CallInput)
  | { type: "set_admin"; contract: Hex32; admin: Hex32 | null };

export interface EstimateRequest {
  from: Hex32;
  action: EstimateAction;
}

export interface Estimate {
  success: boolean;
  gas_used: number;
  storage_deposit: AmountString;
  storage_refund: AmountString;
  fee: AmountString;
  value: unknown;
  contract_address: Hex32 | null;
  error: ExecErrorInfo | null;
}

export interface EventFilter {
  contract?: Hex32 | null;
  /** Only events with this name (through the emitter's ABI). */
  event?: string | null;
  /** Topic filter by position; null matches anything. */
  topics?: (Hex32 | null)[] | null;
  from_block?: number | null;
  to_block?: number | null;
  cursor?: string | null;
  limit?: number | null;
}

export interface EventPage {
  events: EventInfo[];
  next_cursor: string | null;
}

export type SnapshotId = number;

/** Every request/response method: its positional parameters and its result. */
export interface RpcMethods {
  node_info: { params: []; result: NodeInfo };
  node_health: { params: []; result: Health };
  node_metrics: { params: []; result: NodeMetrics };
  node_peers: { params: []; result: PeerInfo[] };
  node_evidence: { params: []; result: EvidenceInfo[] };
  chain_getHead: { params: []; result: HeaderInfo };
  chain_getFinalized: { params: []; result: HeaderInfo };
  chain_getBlock: { params: [id: BlockId, full?: boolean | null]; result: BlockInfo | null };
  state_getAccount: { params: [address: Hex32]; result: AccountInfo };
  state_getStorage: { params: [contract: Hex32, key: HexString]; result: HexString | null };
  state_hasCode: { params: [codeHash: Hex32]; result: boolean };
  state_getProof: { params: [address: Hex32, keys?: HexString[] | null]; result: StateProofInfo };
  tx_submit: { params: [tx: HexString]; result: Hex32 };
  tx_submitBatch: { params: [txs: HexString[]]; result: SubmitResult[] };
  tx_getReceipt: { params: [hash: Hex32]; result: ReceiptInfo | null };
  tx_get: { params: [hash: Hex32]; result: TxInfo | null };
  contract_query: { params: [request: QueryRequest]; result: QueryResult };
  contract_estimateGas: { params: [request: EstimateRequest]; result: Estimate };
  contract_getAbi: { params: [contract: Hex32]; result: AbiDocument | null };
  contract_getCode: { params: [contract: Hex32]; result: HexString };
  contract_getEvents: { params: [filter: EventFilter]; result: EventPage };
  dev_mine: { params: [count?: number | null]; result: HeaderInfo };
  dev_setBalance: { params: [address: Hex32, balance: AmountString]; result: AccountInfo };
  dev_increaseTime: { params: [ms: number]; result: number };
  dev_snapshot: { params: []; result: SnapshotId };
  dev_revert: { params: [id: SnapshotId]; result: HeaderInfo };
  "rpc.discover": { params: []; result: Record<string, unknown> };
}

/** Every subscription: its subscribe method, parameters, item and unsubscribe method. */
export interface RpcSubscriptions {
  chain_subscribeHeads: { params: []; item: HeaderInfo; unsubscribe: "chain_unsubscribeHeads" };
  chain_subscribeFinalized: { params: []; item: HeaderInfo; unsubscribe: "chain_unsubscribeFinalized" };
  tx_subscribeStatus: { params: [hash: Hex32]; item: TxStatus; unsubscribe: "tx_unsubscribeStatus" };
  contract_subscribeEvents: { params: [filter: EventFilter]; item: EventInfo; unsubscribe: "contract_unsubscribeEvents" };
}

export const UNSUBSCRIBE: { [K in keyof RpcSubscriptions]: RpcSubscriptions[K]["unsubscribe"] } = {
  chain_subscribeHeads: "chain_unsubscribeHeads",
  chain_subscribeFinalized: "chain_unsubscribeFinalized",
  tx_subscribeStatus: "tx_unsubscribeStatus",
  contract_subscribeEvents: "contract_unsubscribeEvents",
};

/** The names of every request/response method, for checks against `rpc.discover`. */
export const RPC_METHODS = [
  "node_info", "node_health", "node_metrics", "node_peers", "node_evidence", "chain_getHead",
  "chain_getFinalized", "chain_getBlock", "state_getAccount", "state_getStorage", "state_hasCode", "state_getProof", "tx_submit",
  "tx_submitBatch", "tx_getReceipt", "tx_get", "contract_query", "contract_estimateGas",
  "contract_getAbi", "contract_getCode", "contract_getEvents", "dev_mine", "dev_setBalance",
  "dev_increaseTime", "dev_snapshot", "dev_revert", "rpc.discover",
] as const satisfies readonly (keyof RpcMethods)[];

/** The names of every subscription method. */
export const RPC_SUBSCRIPTIONS = Object.keys(UNSUBSCRIBE) as (keyof RpcSubscriptions)[];

// Every key of RpcMethods is in RPC_METHODS (a compile-time check).
type MissingMethods = Exclude<keyof RpcMethods, (typeof RPC_METHODS)[number]>;
const everyMethodListed: [MissingMethods] extends [never] ? true : MissingMethods = true;
void everyMethodListed;

/** The stable application error codes (sdk/rpc-api/src/codes.rs). */
export const ErrorCodes = {
  TX_DECODE: 1000,
  TX_BAD_SIGNATURE: 1001,
  TX_WRONG_CHAIN: 1002,
  TX_NONCE_TOO_LOW: 1003,
  TX_NONCE_TOO_HIGH: 1004,
  TX_INSUFFICIENT_BALANCE: 1005,
  TX_BAD_GAS: 1006,
  TX_INVALID: 1007,
  TX_ALREADY_KNOWN: 1008,
  TX_POOL_FULL: 1009,
  TX_REPLACEMENT_UNDERPRICED: 1010,
  LIMIT_EXCEEDED: 1100,
  NOT_FOUND: 2000,
  NOT_A_CONTRACT: 2001,
  ABI_MISMATCH: 2002,
  DEV_ONLY: 3000,
  UNKNOWN_SNAPSHOT: 3001,
  NODE_ERROR: 4000,
  BUSY: 4001,
} as const;
