//! Dev-chain helpers: finding contracts by who deployed them and with which salt, as
//! `weft-node dev --with-examples` does (alice deploys each example with its name as the salt),
//! by reading the chain's first blocks; so a page needs no addresses pasted in.

import { InvalidInputError, toHex, utf8, type Hex32 } from "./bytes.js";
import type { AddressLike, WeftClient } from "./client.js";
import { resolveAddress } from "./client.js";

/** The example contracts `weft-node dev --with-examples` deploys, in order. */
export const EXAMPLE_CONTRACTS = ["token", "nft", "voting", "supply-chain", "ip-registry", "escrow"] as const;
export type ExampleName = (typeof EXAMPLE_CONTRACTS)[number];

export interface FindDeploymentOptions {
  /** The deployer (default: the dev account alice). */
  deployer?: AddressLike;
  /** How many blocks from genesis to read at most (default 200). */
  maxBlocks?: number;
}

/**
 * The address of the contract instantiated by `deployer` with `salt` (bytes, or a string taken
 * as its UTF-8 bytes), found by reading the chain from block 1: the last successful such
 * instantiation wins. `null` when none is found in the first `maxBlocks` blocks.
 */
export async function findDeployment(
  client: WeftClient,
  salt: Uint8Array | string,
  options: FindDeploymentOptions = {},
): Promise<Hex32 | null> {
  const deployer = resolveAddress(options.deployer ?? "alice", "deployer");
  const saltHex = toHex(typeof salt === "string" ? utf8(salt) : salt);
  const maxBlocks = options.maxBlocks ?? 200;
  if (!Number.isInteger(maxBlocks) || maxBlocks < 1 || maxBlocks > 100_000) {
    throw new InvalidInputError(`maxBlocks must be an integer from 1 to 100000, got ${maxBlocks}`);
  }
  const head = await client.head();
  let found: Hex32 | null = null;
  for (let h = 1; h <= Math.min(head.height, maxBlocks); h++) {
    const block = await client.block(h, true);
    for (const tx of block?.transactions ?? []) {
      if (tx.sender !== deployer || tx.action.type !== "instantiate" || tx.action.salt !== saltHex) continue;
      const receipt = await client.receipt(tx.hash);
      if (receipt?.success && receipt.contract_address) found = receipt.contract_address;
    }
  }
  return found;
}

/** The addresses of the example contracts a `--with-examples` dev node deployed (those found). */
export async function findExampleContracts(
  client: WeftClient,
  options: FindDeploymentOptions = {},
): Promise<Partial<Record<ExampleName, Hex32>>> {
  const deployer = resolveAddress(options.deployer ?? "alice", "deployer");
  const wanted = new Map<string, ExampleName>(EXAMPLE_CONTRACTS.map((n) => [toHex(utf8(n)), n]));
  const maxBlocks = options.maxBlocks ?? 200;
  const head = await client.head();
  const out: Partial<Record<ExampleName, Hex32>> = {};
  for (let h = 1; h <= Math.min(head.height, maxBlocks); h++) {
    const block = await client.block(h, true);
    for (const tx of block?.transactions ?? []) {
      if (tx.sender !== deployer || tx.action.type !== "instantiate") continue;
      const name = wanted.get(tx.action.salt);
      if (!name) continue;
      const receipt = await client.receipt(tx.hash);
      if (receipt?.success && receipt.contract_address) out[name] = receipt.contract_address;
    }
    if (Object.keys(out).length === EXAMPLE_CONTRACTS.length) break;
  }
  return out;
}
