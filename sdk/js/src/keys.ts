//! Keys: an ed25519 [`Keypair`] (the RFC 8032 seed and its public key, which is the account's
//! address), generated from the platform's secure randomness, derived for the dev accounts, or
//! imported from hex or a key file; and transaction signing.
//!
//! Key files (`toKeyFile`/`fromKeyFile`) are the Rust client's JSON format and are NOT
//! encrypted: whoever reads one controls the account. Use them for development.

import { ed25519 } from "@noble/curves/ed25519.js";
import { InvalidInputError, toBytes, toHex, type Hex32, type HexString } from "./bytes.js";
import {
  type SignedTransaction,
  type Transaction,
  devSeed,
  txSigningPayload,
  encodeSignedTransaction,
  txHash,
} from "./protocol.js";
import { equalBytes } from "./bytes.js";

/** The six well-known dev accounts (docs/protocol.md, "Development accounts"). */
export const DEV_ACCOUNTS = ["alice", "bob", "charlie", "dave", "eve", "ferdie"] as const;
export type DevAccountName = (typeof DEV_ACCOUNTS)[number];

/** The note every key file carries. */
export const KEY_FILE_NOTE = "UNENCRYPTED: anyone who can read this file controls the account";

/** The JSON of a key file (the Rust client's and CLI's `~/.weft/keys/<name>.json`). */
export interface KeyFile {
  name: string;
  address: Hex32;
  secret_key: HexString;
  note?: string | null;
}

/** Anything that signs transactions for one address. */
export interface Signer {
  readonly address: Hex32;
  readonly publicKey: Uint8Array;
  signBytes(message: Uint8Array): Uint8Array | Promise<Uint8Array>;
}

/** An ed25519 key pair. The secret is the 32-byte RFC 8032 seed. */
export class Keypair implements Signer {
  readonly publicKey: Uint8Array;
  readonly address: Hex32;
  readonly #secret: Uint8Array;
  readonly name: string | undefined;

  private constructor(secret: Uint8Array, name?: string) {
    if (secret.length !== 32) {
      throw new InvalidInputError(`a secret key is 32 bytes (64 hex digits), got ${secret.length} bytes`);
    }
    this.#secret = Uint8Array.from(secret);
    this.publicKey = ed25519.getPublicKey(this.#secret);
    this.address = toHex(this.publicKey);
    this.name = name;
  }

  /** A new random key from the platform's secure randomness (`crypto.getRandomValues`). */
  static generate(): Keypair {
    return new Keypair(ed25519.utils.randomSecretKey());
  }

  /** A key from its 32-byte secret (bytes, or 64 hex digits with or without `0x`). */
  static fromSecret(secret: Uint8Array | string, name?: string): Keypair {
    if (typeof secret === "string") {
      const text = secret.trim();
      secret = toBytes(text.startsWith("0x") ? text : `0x${text}`, "secret key");
    }
    return new Keypair(secret, name);
  }

  /** The dev account `name` (`alice` … `ferdie`); its seed is `sha3_256("weft-dev:" ‖ name)`. */
  static dev(name: DevAccountName | string): Keypair {
    if (!(DEV_ACCOUNTS as readonly string[]).includes(name)) {
      throw new InvalidInputError(`${JSON.stringify(name)} is not a dev account (${DEV_ACCOUNTS.join(", ")})`);
    }
    return new Keypair(devSeed(name), name);
  }

  /** A key from a key file's JSON (text or parsed); checks that the address matches. */
  static fromKeyFile(file: KeyFile | string): Keypair {
    const json = typeof file === "string" ? (JSON.parse(file) as KeyFile) : file;
    if (!json || typeof json.secret_key !== "string") {
      throw new InvalidInputError("a key file needs a secret_key (0x hex)");
    }
    const key = Keypair.fromSecret(json.secret_key, json.name);
    if (json.address && json.address.toLowerCase() !== key.address) {
      throw new InvalidInputError(
        `the key file says address ${json.address}, but its secret key is ${key.address}'s`,
      );
    }
    return key;
  }

  /** The secret key as `0x` hex. Handle with care. */
  secretHex(): HexString {
    return toHex(this.#secret);
  }

  /** The secret key bytes (a copy). Handle with care. */
  secretBytes(): Uint8Array {
    return Uint8Array.from(this.#secret);
  }

  /** The key file JSON of this key (unencrypted). */
  toKeyFile(name = this.name ?? "key"): KeyFile {
    return { name, address: this.address, secret_key: this.secretHex(), note: KEY_FILE_NOTE };
  }

  /** Signs `message` (pure Ed25519, RFC 8032). */
  signBytes(message: Uint8Array): Uint8Array {
    return ed25519.sign(message, this.#secret);
  }

  /** Never prints the secret. */
  toJSON(): { address: Hex32; name?: string } {
    return this.name ? { address: this.address, name: this.name } : { address: this.address };
  }
}

/** A signed transaction with its encoding and hash. */
export interface SignedTx {
  signed: SignedTransaction;
  /** `SCALE(SignedTransaction)`: what `tx_submit` takes. */
  bytes: Uint8Array;
  /** Its hash, `0x` hex. */
  hash: Hex32;
}

/** Signs `tx` with `signer`; the transaction's sender must be the signer's address. */
export async function signTransaction(signer: Signer, tx: Transaction): Promise<SignedTx> {
  if (!equalBytes(tx.sender, signer.publicKey)) {
    throw new InvalidInputError(`the transaction's sender is ${toHex(tx.sender)}, but the key is ${signer.address}'s`);
  }
  const signature = await signer.signBytes(txSigningPayload(tx));
  const signed: SignedTransaction = { tx, signature };
  return { signed, bytes: encodeSignedTransaction(signed), hash: toHex(txHash(signed)) };
}

/**
 * Checks a signed transaction's signature (RFC 8032 verification without ZIP-215's
 * leniency; the node applies ed25519-dalek's `verify_strict`, which also refuses small-order
 * keys and `R`).
 */
export function verifyTransaction(signed: SignedTransaction): boolean {
  try {
    return ed25519.verify(signed.signature, txSigningPayload(signed.tx), signed.tx.sender, { zip215: false });
  } catch {
    return false;
  }
}
