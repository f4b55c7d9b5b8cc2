//! Verified state reads: the proofs of `state_getProof` checked against the state root of the
//! header they come with, with the header's hash recomputed from its fields. The tree is the
//! runtime's (runtime/src/state/tree.rs): jmt's sparse Merkle tree of 256 levels hashed with
//! SHA3-256 —
//!
//! - key hash `SHA3(key)` (the path, most significant bit first), value hash `SHA3(value)`;
//! - leaf `SHA3("JMT::LeafNode" ‖ key hash ‖ value hash)`;
//! - inner node `SHA3("JMT::IntrnalNode" ‖ left ‖ right)`;
//! - an empty subtree: the constant `"SPARSE_MERKLE_PLACEHOLDER_HASH__"`.
//!
//! A proof (SCALE `StateProof`) is the leaf where the key's path ends (`None`: an empty
//! subtree) and the siblings from that leaf's level up to the root's children. Verification is
//! jmt's `SparseMerkleProof::verify`, with the runtime's extra checks first.

import { type Codec, Struct, createCodec, createDecoder } from "scale-ts";
import { concat, equalBytes, fromHex, sha3, toBytes32, toHex, utf8, type Hex32 } from "./bytes.js";
import { ProofError } from "./errors.js";
import { type Account, AccountCodec, type Header, HeaderCodec, accountKey, limits, storageKey } from "./protocol.js";
import { boundedVector, decodeExact, fixedBytes, strictEnum, strictOption } from "./scale.js";
import type { HeaderInfo, ProofItem, StateProofInfo } from "./types.js";

/** The root of the empty state, and the hash of any empty subtree. */
export const EMPTY_ROOT = utf8("SPARSE_MERKLE_PLACEHOLDER_HASH__");
const LEAF_TAG = utf8("JMT::LeafNode");
const INTERNAL_TAG = utf8("JMT::IntrnalNode");

export interface ProofLeaf {
  key_hash: Uint8Array;
  value_hash: Uint8Array;
}

export type ProofSibling =
  | { tag: "Empty"; value: undefined }
  | { tag: "Internal"; value: { left: Uint8Array; right: Uint8Array } }
  | { tag: "Leaf"; value: ProofLeaf };

/** A proof of a key's value or absence against a state root. */
export interface StateProof {
  leaf: ProofLeaf | undefined;
  siblings: ProofSibling[];
}

const h32 = fixedBytes(32);
const LeafCodec: Codec<ProofLeaf> = Struct({ key_hash: h32, value_hash: h32 });
const emptyCodec: Codec<undefined> = createCodec(
  () => new Uint8Array(0),
  createDecoder(() => undefined),
);
const SiblingCodec = strictEnum<ProofSibling>("ProofSibling", [
  ["Empty", emptyCodec],
  ["Internal", Struct({ left: h32, right: h32 })],
  ["Leaf", LeafCodec],
]);
export const StateProofCodec: Codec<StateProof> = Struct({
  leaf: strictOption(LeafCodec),
  siblings: boundedVector(SiblingCodec, limits.TREE_DEPTH, "proof siblings"),
});

/** Decodes a SCALE `StateProof` (at most 256 siblings, no trailing bytes). */
export function decodeStateProof(bytes: Uint8Array): StateProof {
  return decodeExact(StateProofCodec, bytes, "state proof");
}

const leafHash = (leaf: ProofLeaf): Uint8Array => sha3(concat(LEAF_TAG, leaf.key_hash, leaf.value_hash));
const internalHash = (left: Uint8Array, right: Uint8Array): Uint8Array => sha3(concat(INTERNAL_TAG, left, right));

function siblingHash(s: ProofSibling): Uint8Array {
  switch (s.tag) {
    case "Empty":
      return EMPTY_ROOT;
    case "Internal":
      return internalHash(s.value.left, s.value.right);
    case "Leaf":
      return leafHash(s.value);
  }
}

/** Bit `i` of a 256-bit hash, most significant first. */
const bit = (h: Uint8Array, i: number): boolean => ((h[i >> 3]! >> (7 - (i & 7))) & 1) === 1;

function commonPrefixBits(a: Uint8Array, b: Uint8Array): number {
  for (let i = 0; i < 32; i++) {
    const diff = a[i]! ^ b[i]!;
    if (diff !== 0) return i * 8 + Math.clz32(diff) - 24;
  }
  return 256;
}

/** The root a proof leads to for `keyHash` (without the leaf/value checks). */
export function proofRoot(proof: StateProof, keyHash: Uint8Array): Uint8Array {
  let hash = proof.leaf ? leafHash(proof.leaf) : EMPTY_ROOT;
  const n = proof.siblings.length;
  for (let i = 0; i < n; i++) {
    // Sibling i is at depth n - i (the leaf's level first); the path bit there is n - 1 - i.
    const s = siblingHash(proof.siblings[i]!);
    hash = bit(keyHash, n - 1 - i) ? internalHash(s, hash) : internalHash(hash, s);
  }
  return hash;
}

/** Checks that `proof` shows `key` holding `value` (`null`: absent) under `root`; throws
 * `ProofError` saying what does not hold. */
export function verifyProof(proof: StateProof, root: Uint8Array, key: Uint8Array, value: Uint8Array | null): void {
  if (proof.siblings.length > limits.TREE_DEPTH) {
    throw new ProofError(`the proof has ${proof.siblings.length} siblings, more than the tree's 256 levels`);
  }
  const keyHash = sha3(key);
  const leaf = proof.leaf;
  if (value !== null) {
    if (!leaf) throw new ProofError("the proof shows the key absent, but a value was expected");
    if (!equalBytes(leaf.key_hash, keyHash)) {
      if (commonPrefixBits(leaf.key_hash, keyHash) >= proof.siblings.length) {
        throw new ProofError("the proof shows the key absent, but a value was expected");
      }
      throw new ProofError(`the proof is for key hash ${toHex(leaf.key_hash)}, not ${toHex(keyHash)}`);
    }
    const valueHash = sha3(value);
    if (!equalBytes(leaf.value_hash, valueHash)) {
      throw new ProofError(`the proof's value hash is ${toHex(leaf.value_hash)}, not the value's hash ${toHex(valueHash)}`);
    }
  } else if (leaf) {
    if (equalBytes(leaf.key_hash, keyHash)) throw new ProofError("the proof shows the key present, but its absence was expected");
    if (commonPrefixBits(leaf.key_hash, keyHash) < proof.siblings.length) {
      throw new ProofError("the proof's leaf is not on the key's path, so it cannot show the key absent");
    }
  }
  const actual = proofRoot(proof, keyHash);
  if (!equalBytes(actual, root)) {
    throw new ProofError(`the proof does not lead to root ${toHex(root)} (it leads to ${toHex(actual)})`);
  }
}

/** The protocol header of a header as JSON. */
export function headerOf(info: HeaderInfo): Header {
  return {
    height: BigInt(info.height),
    parent_hash: toBytes32(info.parent_hash, "parent_hash"),
    timestamp_ms: BigInt(info.timestamp_ms),
    proposer: toBytes32(info.proposer, "proposer"),
    tx_root: toBytes32(info.tx_root, "tx_root"),
    receipts_root: toBytes32(info.receipts_root, "receipts_root"),
    state_root: toBytes32(info.state_root, "state_root"),
    gas_used: BigInt(info.gas_used),
  };
}

/** The block hash of a header as JSON, recomputed from its fields. */
export function headerInfoHash(info: HeaderInfo): Hex32 {
  return toHex(sha3(HeaderCodec.enc(headerOf(info))));
}

/** Account and storage values proven against a header's state root. */
export interface VerifiedState {
  header: HeaderInfo;
  /** The account; `null` when proven absent. */
  account: Account | null;
  /** Each requested storage key and its value (`null`: proven absent), in the order asked. */
  storage: { key: Uint8Array; value: Uint8Array | null }[];
}

function verifyItem(item: ProofItem, expectedKey: Uint8Array, root: Uint8Array): Uint8Array | null {
  if (!equalBytes(fromHex(item.key, "proof key"), expectedKey)) {
    throw new ProofError(`a proof is for state key ${item.key}, expected ${toHex(expectedKey)}`);
  }
  let proof: StateProof;
  try {
    proof = decodeStateProof(fromHex(item.proof, "proof"));
  } catch (e) {
    throw new ProofError(`undecodable proof of key ${toHex(expectedKey)}: ${(e as Error).message}`);
  }
  const value = item.value === null ? null : fromHex(item.value, "proof value");
  try {
    verifyProof(proof, root, expectedKey, value);
  } catch (e) {
    throw new ProofError(`key ${toHex(expectedKey)}: ${(e as Error).message}`);
  }
  return value;
}

/**
 * Checks the answer to `state_getProof(address, keys)`: the header hashes to its `hash` (and,
 * with `trusted`, is that header), each item is for the expected state key, and each proof
 * shows the item's value (or absence) under the header's `state_root`.
 */
export function verifyStateProof(
  info: StateProofInfo,
  address: Hex32,
  keys: Uint8Array[],
  trusted?: HeaderInfo,
): VerifiedState {
  const computed = headerInfoHash(info.header);
  if (computed !== info.header.hash.toLowerCase()) {
    throw new ProofError(`the header's fields hash to ${computed}, not to its claimed hash ${info.header.hash}`);
  }
  if (trusted && trusted.hash.toLowerCase() !== computed) {
    throw new ProofError(
      `the proofs are against block ${info.header.height} (${info.header.hash}), not the trusted block ${trusted.height} (${trusted.hash})`,
    );
  }
  const root = toBytes32(info.header.state_root, "state_root");
  const addr = toBytes32(address);
  const accountBytes = verifyItem(info.account, accountKey(addr), root);
  let account: Account | null = null;
  if (accountBytes) {
    try {
      account = decodeExact(AccountCodec, accountBytes, "account", 1024);
    } catch (e) {
      throw new ProofError(`the proven account does not decode: ${(e as Error).message}`);
    }
  }
  if (info.storage.length !== keys.length) {
    throw new ProofError(`asked for ${keys.length} storage keys, got ${info.storage.length} proofs`);
  }
  const storage = keys.map((key, i) => ({ key, value: verifyItem(info.storage[i]!, storageKey(addr, key), root) }));
  return { header: info.header, account, storage };
}
