//! Strict SCALE on top of `scale-ts`: scale-ts encodes; its decoders are lenient (a truncated
//! fixed-size field, an Option byte of 7, an unknown enum index, invalid UTF-8 or a vector count
//! of a billion all go through), so the decoders here wrap them with the checks the protocol's
//! decoder makes (docs/protocol.md §1, §10): bounds, canonical compacts, strict Option/bool/enum
//! bytes, fatal UTF-8, item counts checked against a limit and the bytes left, and no trailing
//! bytes at top level.

import { concat } from "./bytes.js";
import {
  Bytes,
  type Codec,
  type Decoder,
  compact,
  createCodec,
  createDecoder,
  str,
  u8,
} from "scale-ts";

/** Thrown when bytes do not decode. */
export class DecodeError extends Error {
  override name = "DecodeError";
}

/** scale-ts's decoding cursor: the input bytes plus the read position `i`. */
type Cursor = Uint8Array & { i: number };

function left(bytes: Uint8Array): number {
  const c = bytes as Cursor;
  return c.length - c.i;
}

function need(bytes: Uint8Array, n: number, what: string): void {
  if (left(bytes) < n) {
    throw new DecodeError(`${what}: not enough data (needs ${n} bytes, ${left(bytes)} left)`);
  }
}

/** A canonical compact `u32` (protocol.md §1.2), refusing non-minimal forms. */
export const compactU32: Codec<number> = createCodec(
  (n: number) => compact.enc(n),
  createDecoder((bytes) => {
    need(bytes, 1, "compact");
    const c = bytes as Cursor;
    const mode = c[c.i]! & 3;
    const size = [1, 2, 4, 5][mode]!;
    need(bytes, size, "compact");
    if (mode === 3 && c[c.i] !== 3) {
      throw new DecodeError("out of range decoding Compact<u32>");
    }
    const value = Number(compact.dec(bytes));
    const min = [0, 64, 1 << 14, 2 ** 30][mode]!;
    if (value < min) throw new DecodeError("out of range decoding Compact<u32>");
    return value;
  }),
);

/** Fixed-size bytes (`[u8; n]`), checked for truncation. */
export function fixedBytes(n: number): Codec<Uint8Array> {
  const inner = Bytes(n);
  return createCodec(
    (v: Uint8Array) => {
      if (v.length !== n) throw new DecodeError(`expected ${n} bytes, got ${v.length}`);
      return inner.enc(v);
    },
    createDecoder((bytes) => {
      need(bytes, n, `[u8; ${n}]`);
      return inner.dec(bytes);
    }),
  );
}

/** Length-prefixed bytes with a maximum length, checked on the prefix before reading. */
export function boundedBytes(max: number, what = "bytes"): Codec<Uint8Array> {
  const inner = Bytes();
  return createCodec<Uint8Array>(
    (v: Uint8Array) => {
      if (v.length > max) throw new DecodeError(`${what} is longer than ${max} bytes (${v.length})`);
      return inner.enc(v);
    },
    createDecoder((bytes) => {
      const len = compactU32.dec(bytes);
      if (len > max) throw new DecodeError(`${what} is longer than ${max} bytes (${len})`);
      need(bytes, len, "length prefix runs past the end of the input");
      const c = bytes as Cursor;
      const out = new Uint8Array(c.buffer.slice(c.i, c.i + len));
      c.i += len;
      return out;
    }),
  );
}

const fatalUtf8 = new TextDecoder("utf-8", { fatal: true });

/** A UTF-8 string (compact length ‖ bytes), refusing invalid UTF-8. */
export function boundedStr(max = 0xffffffff, what = "string"): Codec<string> {
  const raw = boundedBytes(max, what);
  return createCodec(
    (s: string) => {
      const enc = str.enc(s);
      if (enc.length - compact.enc(new TextEncoder().encode(s).length).length > max) {
        throw new DecodeError(`${what} is longer than ${max} bytes`);
      }
      return enc;
    },
    createDecoder((bytes) => {
      const b = raw.dec(bytes);
      try {
        return fatalUtf8.decode(b);
      } catch {
        throw new DecodeError(`${what}: invalid utf8 sequence`);
      }
    }),
  );
}

/** `Option<T>`: `00` or `01 ‖ T`, any other first byte refused. `None` is `undefined`. */
export function strictOption<T>(inner: Codec<T>): Codec<T | undefined> {
  return createCodec(
    (v: T | undefined) => (v === undefined ? new Uint8Array([0]) : concat(...[new Uint8Array([1]), inner.enc(v)])),
    createDecoder((bytes) => {
      need(bytes, 1, "Option");
      const tag = u8.dec(bytes);
      if (tag === 0) return undefined;
      if (tag === 1) return inner.dec(bytes);
      throw new DecodeError("unexpected first byte decoding Option");
    }),
  );
}

/** `bool`: `00` or `01`. */
export const strictBool: Codec<boolean> = createCodec(
  (v: boolean) => new Uint8Array([v ? 1 : 0]),
  createDecoder((bytes) => {
    need(bytes, 1, "bool");
    const b = u8.dec(bytes);
    if (b > 1) throw new DecodeError(`invalid bool byte ${b}`);
    return b === 1;
  }),
);

/**
 * `Vec<T>`: compact count ‖ items. The count is checked against `max` and against the bytes
 * left (every item is at least `minItemBytes` bytes) before any item is read.
 */
export function boundedVector<T>(inner: Codec<T>, max: number, what = "vector", minItemBytes = 1): Codec<T[]> {
  return createCodec(
    (items: T[]) => {
      if (items.length > max) throw new DecodeError(`${what} has more than ${max} items`);
      return concat(...[compact.enc(items.length), ...items.map((x) => inner.enc(x))]);
    },
    createDecoder((bytes) => {
      const n = compactU32.dec(bytes);
      if (n > max) throw new DecodeError(`${what} has more than ${max} items (${n})`);
      if (minItemBytes > 0 && n * minItemBytes > left(bytes)) {
        throw new DecodeError("length prefix runs past the end of the input");
      }
      const out: T[] = [];
      for (let i = 0; i < n; i++) out.push(inner.dec(bytes));
      return out;
    }),
  );
}

/** A tagged union value, as scale-ts's `Enum` gives it. */
export type Tagged<K extends string, V> = { tag: K; value: V };

/**
 * An enum by variant index (the position in `variants`); an index past the end is refused.
 * Encoding and decoding of each variant's fields are its codec's.
 */
export function strictEnum<V extends { tag: string; value: unknown }>(
  name: string,
  variants: [string, Codec<any>][],
): Codec<V> {
  return createCodec(
    (v: V) => {
      const index = variants.findIndex(([tag]) => tag === v.tag);
      if (index < 0) throw new DecodeError(`\`${name}\` has no variant ${v.tag}`);
      return concat(...[new Uint8Array([index]), variants[index]![1].enc(v.value)]);
    },
    createDecoder((bytes) => {
      if (left(bytes) < 1) throw new DecodeError(`Could not decode \`${name}\`, failed to read variant byte`);
      const index = u8.dec(bytes);
      const variant = variants[index];
      if (!variant) throw new DecodeError(`Could not decode \`${name}\`, variant doesn't exist`);
      return { tag: variant[0], value: variant[1].dec(bytes) } as V;
    }),
  );
}

/** Wraps a decoder so that reading past the end (a RangeError in scale-ts) is a DecodeError. */
function guarded<T>(dec: Decoder<T>, what: string): (bytes: Uint8Array) => T {
  return (bytes) => {
    try {
      return dec(bytes);
    } catch (e) {
      if (e instanceof DecodeError) throw new DecodeError(`invalid ${what} encoding: ${e.message}`);
      throw new DecodeError(`invalid ${what} encoding: ${(e as Error).message}`);
    }
  };
}

/**
 * Decodes exactly one value from `input`: over `maxBytes` is refused before reading, and
 * trailing bytes are refused after (protocol.md §10.1).
 */
export function decodeExact<T>(codec: Codec<T>, input: Uint8Array, what: string, maxBytes = Infinity): T {
  if (input.length > maxBytes) {
    throw new DecodeError(`${what} is ${input.length} bytes, over the limit of ${maxBytes} bytes`);
  }
  // scale-ts reads the whole underlying buffer: give it a fresh one.
  const fresh = input.slice();
  let extra = 0;
  const value = guarded(
    createDecoder((bytes) => {
      const v = codec.dec(bytes);
      extra = left(bytes);
      if (extra < 0) throw new DecodeError("not enough data to fill buffer");
      return v;
    }),
    what,
  )(fresh);
  if (extra > 0) throw new DecodeError(`${what} encoding has ${extra} trailing bytes`);
  return value;
}
