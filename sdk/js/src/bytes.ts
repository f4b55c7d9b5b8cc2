//! Byte helpers: strict `0x` hex for hashes and addresses (docs/protocol.md §9), hex for byte
//! strings, concatenation and comparison.

import { bytesToHex, concatBytes, hexToBytes, utf8ToBytes } from "@noble/hashes/utils.js";
import { sha3_256 } from "@noble/hashes/sha3.js";

/** A 32-byte hash or address written as `0x` and 64 hex digits. */
export type Hex32 = `0x${string}`;
/** Bytes written as `0x` hex. */
export type HexString = `0x${string}`;

/** An input that the SDK reads as bytes: a Uint8Array, or `0x` hex. */
export type BytesLike = Uint8Array | string;

/** Thrown for input the SDK refuses before anything is sent: a bad address, argument, key. */
export class InvalidInputError extends Error {
  override name = "InvalidInputError";
}

/** `0x` and the bytes in lower-case hex. */
export function toHex(bytes: Uint8Array): HexString {
  return `0x${bytesToHex(bytes)}`;
}

/** Parses `0x`-prefixed hex bytes (an even number of digits; `0x` alone is empty). */
export function fromHex(text: string, what = "hex bytes"): Uint8Array {
  if (typeof text !== "string" || !text.startsWith("0x")) {
    throw new InvalidInputError(`${what} must be a 0x-prefixed hex string, got ${short(text)}`);
  }
  const digits = text.slice(2);
  if (digits.length % 2 !== 0) {
    throw new InvalidInputError(`${what}: odd number of hex digits (${digits.length})`);
  }
  const bad = digits.search(/[^0-9a-fA-F]/);
  if (bad >= 0) {
    throw new InvalidInputError(`${what}: invalid hex digit '${digits[bad]}' at position ${bad + 2}`);
  }
  return hexToBytes(digits);
}

/** Bytes from a Uint8Array (copied) or `0x` hex. */
export function toBytes(input: BytesLike, what = "bytes"): Uint8Array {
  if (input instanceof Uint8Array) return Uint8Array.from(input);
  return fromHex(input, what);
}

/**
 * Parses a hash or address as protocol.md §9 says: `0x` then exactly 64 hex digits, either
 * case; refused in this order: no `0x` prefix, a non-hex character, a wrong number of digits.
 */
export function parseHex32(text: string, what = "address"): Uint8Array {
  if (typeof text !== "string" || !text.startsWith("0x")) {
    throw new InvalidInputError(`${what}: expected a 0x-prefixed hex string, got ${short(text)}`);
  }
  const digits = text.slice(2);
  const bad = digits.search(/[^0-9a-fA-F]/);
  if (bad >= 0) {
    throw new InvalidInputError(`${what}: invalid hex digit '${digits[bad]}' at position ${bad + 2}`);
  }
  if (digits.length !== 64) {
    throw new InvalidInputError(`${what}: expected 64 hex digits after 0x, found ${digits.length}`);
  }
  return hexToBytes(digits);
}

/** A 32-byte value from bytes or text, checked. */
export function toBytes32(input: BytesLike, what = "address"): Uint8Array {
  if (input instanceof Uint8Array) {
    if (input.length !== 32) throw new InvalidInputError(`${what}: expected 32 bytes, got ${input.length}`);
    return Uint8Array.from(input);
  }
  return parseHex32(input, what);
}

/** The canonical text form (lower-case `0x` hex) of a hash or address. */
export function hex32(input: BytesLike, what = "address"): Hex32 {
  return toHex(toBytes32(input, what));
}

/** SHA3-256 (FIPS 202), the protocol hash. */
export function sha3(data: Uint8Array | string): Uint8Array {
  return sha3_256(typeof data === "string" ? utf8ToBytes(data) : data);
}

export const concat = (...parts: Uint8Array[]): Uint8Array => concatBytes(...parts);
export const utf8 = (text: string): Uint8Array => utf8ToBytes(text);

/** Whether two byte strings are equal. */
export function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** A short rendering of any value, for error messages. */
export function short(value: unknown): string {
  let text: string;
  try {
    text = typeof value === "bigint" ? `${value}n` : JSON.stringify(value) ?? String(value);
  } catch {
    text = String(value);
  }
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}
