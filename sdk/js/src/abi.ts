//! The contract ABI (docs/abi.md): the document's types, JSON arguments to SCALE (with errors
//! that name the argument and the path inside it), SCALE return values, events and revert data
//! back to JSON, and the ABI embedded in a wasm module's `weft:abi` custom section.

import {
  Bytes,
  type Codec,
  compact,
  createCodec,
  createDecoder,
  i8,
  i16,
  i32,
  i64,
  i128,
  str,
  u8,
  u16,
  u32,
  u64,
  u128,
} from "scale-ts";
import { InvalidInputError, concat, fromHex, sha3, short, toHex, type Hex32 } from "./bytes.js";
import { DecodeError, boundedStr, boundedVector, decodeExact, fixedBytes, strictBool, strictOption } from "./scale.js";

/** A type in the ABI. */
export type TypeRef =
  | string
  | { option: TypeRef }
  | { vec: TypeRef }
  | { array: { type: TypeRef; len: number } }
  | { tuple: TypeRef[] };

export interface AbiField {
  name: string;
  type: TypeRef;
}
export interface AbiVariant {
  name: string;
  fields: AbiField[];
}
export type TypeDef = { struct: AbiField[] } | { enum: AbiVariant[] } | { tuple: TypeRef[] };

export interface AbiMethod {
  name: string;
  args: AbiField[];
  returns: TypeRef;
  error: TypeRef | null;
  mutates: boolean;
  payable: boolean;
  docs?: string;
}
export interface AbiConstructor {
  args: AbiField[];
  payable: boolean;
  error: TypeRef | null;
}
export interface AbiEventField extends AbiField {
  indexed: boolean;
}
export interface AbiEvent {
  name: string;
  fields: AbiEventField[];
}

/** The ABI document (`weft_abi: 1`). Unknown fields are ignored. */
export interface AbiDocument {
  weft_abi: 1;
  contract: string;
  version: string;
  constructor: AbiConstructor | null;
  /** The migration an upgrade to this code runs; absent when it has none. */
  migrate?: AbiConstructor | null;
  methods: AbiMethod[];
  events: AbiEvent[];
  types: Record<string, TypeDef>;
}

/** A JSON value as the ABI reads and writes it (integers may also be given as bigint). */
export type AbiValue = null | boolean | number | bigint | string | AbiValue[] | { [key: string]: AbiValue };

/** The ABI refused something: an unknown method, a bad argument, undecodable data. */
export class AbiError extends Error {
  override name = "AbiError";
}

/** Nesting depth of types and values, as weft-abi limits it. */
export const MAX_TYPE_DEPTH = 32;

const PRIMITIVES = new Set([
  "unit", "bool", "u8", "u16", "u32", "u64", "u128", "i8", "i16", "i32", "i64", "i128",
  "string", "bytes", "address", "hash",
]);

const INTS: Record<string, { bits: number; signed: boolean; codec: Codec<number> | Codec<bigint> }> = {
  u8: { bits: 8, signed: false, codec: u8 },
  u16: { bits: 16, signed: false, codec: u16 },
  u32: { bits: 32, signed: false, codec: u32 },
  u64: { bits: 64, signed: false, codec: u64 },
  u128: { bits: 128, signed: false, codec: u128 },
  i8: { bits: 8, signed: true, codec: i8 },
  i16: { bits: 16, signed: true, codec: i16 },
  i32: { bits: 32, signed: true, codec: i32 },
  i64: { bits: 64, signed: true, codec: i64 },
  i128: { bits: 128, signed: true, codec: i128 },
};

/** The text of a type, as weft-abi writes it in messages. */
export function typeName(ty: TypeRef): string {
  if (typeof ty === "string") return ty;
  if ("option" in ty) return `option<${typeName(ty.option)}>`;
  if ("vec" in ty) return `vec<${typeName(ty.vec)}>`;
  if ("array" in ty) return `[${typeName(ty.array.type)}; ${ty.array.len}]`;
  return `(${ty.tuple.map(typeName).join(", ")})`;
}

/** A decoded event. */
export interface DecodedEvent {
  name: string;
  fields: Record<string, AbiValue>;
}

/** What revert data says (docs/abi.md, "Calls"). */
export type Revert =
  | { kind: "panic"; message: string }
  | { kind: "error"; error: AbiValue }
  | { kind: "raw"; data: Uint8Array };

/** A contract's ABI, parsed and checked. */
export class Abi {
  readonly doc: AbiDocument;
  readonly #methods = new Map<string, AbiMethod>();
  readonly #eventsByTopic = new Map<string, AbiEvent>();
  readonly #decoders = new Map<string, Codec<AbiValue>>();

  constructor(doc: AbiDocument | string) {
    const json = typeof doc === "string" ? (JSON.parse(doc) as AbiDocument) : doc;
    if (!json || typeof json !== "object") throw new AbiError("an ABI is a JSON object");
    if (json.weft_abi !== 1) throw new AbiError(`unsupported ABI version ${short(json.weft_abi)} (expected 1)`);
    if (!Array.isArray(json.methods) || !Array.isArray(json.events)) {
      throw new AbiError("an ABI needs `methods` and `events` arrays");
    }
    this.doc = { ...json, types: json.types ?? {}, constructor: json.constructor ?? null };
    for (const m of json.methods) {
      this.#methods.set(m.name, m);
      for (const a of m.args) this.#checkType(a.type, `argument \`${a.name}\` of \`${m.name}\``);
      this.#checkType(m.returns, `the return type of \`${m.name}\``);
      if (m.error != null) this.#checkType(m.error, `the error type of \`${m.name}\``);
    }
    for (const e of json.events) {
      this.#eventsByTopic.set(toHex(sha3(e.name)), e);
      for (const f of e.fields) this.#checkType(f.type, `field \`${f.name}\` of event \`${e.name}\``);
    }
    for (const [name, def] of Object.entries(this.doc.types)) {
      if ("enum" in def && def.enum.length > 256) throw new AbiError(`enum \`${name}\` has more than 256 variants`);
    }
  }

  #checkType(ty: TypeRef, where: string, depth = 0): void {
    if (depth > MAX_TYPE_DEPTH) throw new AbiError(`${where}: type nested deeper than ${MAX_TYPE_DEPTH} levels`);
    if (typeof ty === "string") {
      if (!PRIMITIVES.has(ty) && !(ty in this.doc.types)) throw new AbiError(`${where}: type \`${ty}\` is not defined`);
    } else if ("option" in ty) this.#checkType(ty.option, where, depth + 1);
    else if ("vec" in ty) this.#checkType(ty.vec, where, depth + 1);
    else if ("array" in ty) this.#checkType(ty.array.type, where, depth + 1);
    else if ("tuple" in ty) ty.tuple.forEach((t) => this.#checkType(t, where, depth + 1));
    else throw new AbiError(`${where}: unknown type ${short(ty)}`);
  }

  /** The contract's name in the ABI. */
  get contractName(): string {
    return this.doc.contract;
  }

  get methods(): AbiMethod[] {
    return this.doc.methods;
  }

  get events(): AbiEvent[] {
    return this.doc.events;
  }

  method(name: string): AbiMethod | undefined {
    return this.#methods.get(name);
  }

  event(name: string): AbiEvent | undefined {
    return this.doc.events.find((e) => e.name === name);
  }

  /** The ABI embedded in a wasm module (custom section `weft:abi`); `null` when it has none. */
  static fromWasm(wasm: Uint8Array): Abi | null {
    const section = wasmCustomSection(wasm, "weft:abi");
    return section ? new Abi(new TextDecoder("utf-8", { fatal: true }).decode(section)) : null;
  }

  // ----- encoding -----

  /**
   * The input of `method`: an object by argument name, an array in order, `null`/`{}`/`[]`
   * for none, or, for a one-argument method, its bare value where that is unambiguous.
   */
  encodeCall(method: string, args: unknown): Uint8Array {
    const m = this.method(method);
    if (!m) throw new AbiError(`the contract has no method \`${method}\``);
    return this.encodeArgs(m.args, args);
  }

  /** The constructor's input (a contract without one takes no arguments). */
  encodeConstructor(args: unknown): Uint8Array {
    return this.encodeArgs(this.doc.constructor?.args ?? [], args);
  }

  /** The input of the migration an upgrade to this code runs (code without one takes no
   * arguments). */
  encodeMigrate(args: unknown): Uint8Array {
    return this.encodeArgs(this.doc.migrate?.args ?? [], args);
  }

  encodeArgs(args: AbiField[], json: unknown): Uint8Array {
    const single = args.length === 1 ? args[0]! : undefined;
    const parts: Uint8Array[] = [];
    const arg = (a: AbiField, v: unknown) => parts.push(this.#encodeAt(a.type, v, `argument \`${a.name}\``));
    if (json === undefined || json === null) {
      if (args.length === 0) return new Uint8Array(0);
      if (single) {
        arg(single, json ?? null);
        return concat(...parts);
      }
      throw new AbiError(`expected ${args.length} arguments (an object by name or an array), got ${short(json)}`);
    }
    if (Array.isArray(json)) {
      if (single && this.#isArrayLike(single.type) && !(json.length === 1 && Array.isArray(json[0]))) {
        arg(single, json);
      } else {
        if (json.length !== args.length) {
          throw new AbiError(`expected ${args.length} arguments, got ${json.length}`);
        }
        args.forEach((a, i) => arg(a, json[i]));
      }
    } else if (typeof json === "object" && !(json instanceof Uint8Array)) {
      const map = json as Record<string, unknown>;
      if (single && !(single.name in map) && this.#isObjectLike(single.type)) {
        arg(single, json);
      } else {
        const extra = Object.keys(map).find((k) => !args.some((a) => a.name === k));
        if (extra !== undefined) throw new AbiError(`unknown argument \`${extra}\``);
        for (const a of args) {
          if (!(a.name in map) || map[a.name] === undefined) throw new AbiError(`missing argument \`${a.name}\``);
          arg(a, map[a.name]);
        }
      }
    } else if (single) {
      arg(single, json);
    } else {
      throw new AbiError(`arguments must be an object by name or an array in order, got ${short(json)}`);
    }
    return concat(...parts);
  }

  /** Encodes one value of type `ty`. */
  encodeValue(ty: TypeRef, json: unknown): Uint8Array {
    return this.#encodeAt(ty, json, "value");
  }

  #encodeAt(ty: TypeRef, json: unknown, label: string): Uint8Array {
    const path: string[] = [];
    try {
      return this.#enc(ty, json, path, 0);
    } catch (e) {
      if (e instanceof EncodeFailure) {
        throw new AbiError(`${label}${path.length ? ` at \`${path.join("")}\`` : ""}: ${e.message}`);
      }
      throw e;
    }
  }

  #isObjectLike(ty: TypeRef): boolean {
    if (typeof ty !== "string") return false;
    const def = this.doc.types[ty];
    return !!def && ("struct" in def || "enum" in def);
  }

  #isArrayLike(ty: TypeRef): boolean {
    if (typeof ty !== "string") return "vec" in ty || "array" in ty || "tuple" in ty;
    const def = this.doc.types[ty];
    return !!def && "tuple" in def;
  }

  #enc(ty: TypeRef, v: unknown, path: string[], depth: number): Uint8Array {
    if (depth > MAX_TYPE_DEPTH) throw new EncodeFailure(`value nested deeper than ${MAX_TYPE_DEPTH} levels`);
    if (typeof ty === "string") {
      const int = INTS[ty];
      if (int) return encodeInt(ty, int, v);
      switch (ty) {
        case "unit":
          if (v !== null && v !== undefined) throw new EncodeFailure(`expected null for unit, got ${short(v)}`);
          return new Uint8Array(0);
        case "bool":
          if (typeof v !== "boolean") throw new EncodeFailure(`expected bool (true or false), got ${short(v)}`);
          return strictBool.enc(v);
        case "string":
          if (typeof v !== "string") throw new EncodeFailure(`expected a string, got ${short(v)}`);
          return str.enc(v);
        case "bytes":
          return Bytes().enc(parseBytesValue(v));
        case "address":
        case "hash":
          return fixedBytes(32).enc(parseHex32Value(v, ty));
      }
      const def = this.doc.types[ty];
      if (!def) throw new EncodeFailure(`type \`${ty}\` is not defined`);
      if ("struct" in def) return this.#fields(`struct \`${ty}\``, def.struct, v, path, depth);
      if ("tuple" in def) return this.#tuple(`\`${ty}\``, def.tuple, v, path, depth);
      return this.#enum(ty, def.enum, v, path, depth);
    }
    if ("option" in ty) {
      if (v === null || v === undefined) return new Uint8Array([0]);
      return concat(...[new Uint8Array([1]), this.#enc(ty.option, v, path, depth + 1)]);
    }
    if ("vec" in ty) {
      if (!Array.isArray(v)) throw new EncodeFailure(`expected an array for ${typeName(ty)}, got ${short(v)}`);
      return concat(...[compact.enc(v.length), ...this.#items(ty.vec, v, path, depth)]);
    }
    if ("array" in ty) {
      const { type, len } = ty.array;
      if (!Array.isArray(v)) throw new EncodeFailure(`expected an array of ${len} items for ${typeName(ty)}, got ${short(v)}`);
      if (v.length !== len) {
        throw new EncodeFailure(`expected an array of ${len} items for ${typeName(ty)}, got ${v.length} items`);
      }
      return concat(...this.#items(type, v, path, depth));
    }
    return this.#tuple(typeName(ty), ty.tuple, v, path, depth);
  }

  #items(ty: TypeRef, items: unknown[], path: string[], depth: number): Uint8Array[] {
    return items.map((item, i) => this.#at(path, `[${i}]`, () => this.#enc(ty, item, path, depth + 1)));
  }

  #at<T>(path: string[], segment: string, f: () => T): T {
    path.push(segment);
    const r = f();
    path.pop();
    return r;
  }

  #tuple(what: string, types: TypeRef[], v: unknown, path: string[], depth: number): Uint8Array {
    if (!Array.isArray(v)) throw new EncodeFailure(`expected an array of ${types.length} items for ${what}, got ${short(v)}`);
    if (v.length !== types.length) {
      throw new EncodeFailure(`expected an array of ${types.length} items for ${what}, got ${v.length} items`);
    }
    return concat(...types.map((t, i) => this.#at(path, `[${i}]`, () => this.#enc(t, v[i], path, depth + 1))));
  }

  #fields(what: string, fields: AbiField[], v: unknown, path: string[], depth: number): Uint8Array {
    if (v === null || typeof v !== "object" || Array.isArray(v)) {
      throw new EncodeFailure(`expected an object for ${what}, got ${short(v)}`);
    }
    const map = v as Record<string, unknown>;
    const extra = Object.keys(map).find((k) => !fields.some((f) => f.name === k));
    if (extra !== undefined) throw new EncodeFailure(`unknown field \`${extra}\` of ${what}`);
    return concat(
      ...fields.map((f) => {
        if (!(f.name in map)) throw new EncodeFailure(`missing field \`${f.name}\` of ${what}`);
        return this.#at(path, `.${f.name}`, () => this.#enc(f.type, map[f.name], path, depth + 1));
      }),
    );
  }

  #enum(name: string, variants: AbiVariant[], v: unknown, path: string[], depth: number): Uint8Array {
    let variant: string;
    let fields: unknown;
    if (typeof v === "string") {
      variant = v;
    } else if (v !== null && typeof v === "object" && !Array.isArray(v) && Object.keys(v).length === 1) {
      variant = Object.keys(v)[0]!;
      fields = (v as Record<string, unknown>)[variant];
    } else {
      throw new EncodeFailure(
        `expected a variant of enum \`${name}\` ("Variant" or {"Variant": {fields}}), got ${short(v)}`,
      );
    }
    const index = variants.findIndex((x) => x.name === variant);
    if (index < 0) {
      throw new EncodeFailure(
        `unknown variant \`${variant}\` of enum \`${name}\` (expected one of ${variants.map((x) => x.name).join(", ")})`,
      );
    }
    const def = variants[index]!;
    const tag = u8.enc(index);
    if ((fields === undefined || fields === null) && def.fields.length === 0) return tag;
    if (fields === undefined) {
      throw new EncodeFailure(`variant \`${variant}\` of enum \`${name}\` has fields: write {"${variant}": {…}}`);
    }
    const what = `variant \`${variant}\` of enum \`${name}\``;
    return concat(...[tag, this.#at(path, `.${variant}`, () => this.#fields(what, def.fields, fields, path, depth + 1))]);
  }

  // ----- decoding -----

  /** A strict decoder of type `ty` producing JSON values (cached per type). */
  codec(ty: TypeRef): Codec<AbiValue> {
    const key = JSON.stringify(ty);
    let codec = this.#decoders.get(key);
    if (!codec) {
      codec = this.#buildCodec(ty, 0);
      this.#decoders.set(key, codec);
    }
    return codec;
  }

  #buildCodec(ty: TypeRef, depth: number): Codec<AbiValue> {
    if (depth > MAX_TYPE_DEPTH) throw new AbiError(`type nested deeper than ${MAX_TYPE_DEPTH} levels`);
    const encode = (v: AbiValue) => this.encodeValue(ty, v);
    const dec = (f: (bytes: Uint8Array) => AbiValue) => createCodec(encode, createDecoder(f));
    if (typeof ty === "string") {
      const int = INTS[ty];
      if (int) {
        const inner = int.codec as Codec<number | bigint>;
        const width = int.bits / 8;
        return dec((bytes) => {
          ensureLeft(bytes, width, ty);
          const v = inner.dec(bytes);
          if (typeof v === "number") return v;
          if (int.bits === 128) return v.toString();
          return v <= BigInt(Number.MAX_SAFE_INTEGER) && v >= BigInt(Number.MIN_SAFE_INTEGER) ? Number(v) : v.toString();
        });
      }
      switch (ty) {
        case "unit":
          return dec(() => null);
        case "bool":
          return dec((b) => strictBool.dec(b));
        case "string": {
          const s = boundedStr();
          return dec((b) => s.dec(b));
        }
        case "bytes": {
          return dec((b) => {
            const len = compact.dec(b);
            ensureLeft(b, Number(len), "bytes");
            return toHex(Bytes(Number(len)).dec(b));
          });
        }
        case "address":
        case "hash": {
          const f = fixedBytes(32);
          return dec((b) => toHex(f.dec(b)));
        }
      }
      const def = this.doc.types[ty];
      if (!def) throw new AbiError(`type \`${ty}\` is not defined`);
      // Named types may be recursive: resolve lazily.
      let inner: Codec<AbiValue> | undefined;
      const get = () => (inner ??= this.#buildDef(ty, def, depth));
      return dec((b) => get().dec(b));
    }
    if ("option" in ty) {
      const inner = strictOption(this.#buildCodec(ty.option, depth + 1));
      return dec((b) => inner.dec(b) ?? null);
    }
    if ("vec" in ty) {
      const item = this.#buildCodec(ty.vec, depth + 1);
      // Every item is counted against the bytes left (as if at least one byte each).
      const vec = boundedVector(item, 0xffffffff, typeName(ty), 1);
      return dec((b) => vec.dec(b));
    }
    if ("array" in ty) {
      const item = this.#buildCodec(ty.array.type, depth + 1);
      const len = ty.array.len;
      return dec((b) => Array.from({ length: len }, () => item.dec(b)));
    }
    const items = ty.tuple.map((t) => this.#buildCodec(t, depth + 1));
    return dec((b) => items.map((c) => c.dec(b)));
  }

  #buildDef(name: string, def: TypeDef, depth: number): Codec<AbiValue> {
    const encode = (v: AbiValue) => this.encodeValue(name, v);
    if ("struct" in def) {
      const fields = def.struct.map((f) => [f.name, this.#buildCodec(f.type, depth + 1)] as const);
      return createCodec<AbiValue>(
        encode,
        createDecoder((b): AbiValue => Object.fromEntries(fields.map(([n, c]) => [n, c.dec(b)]))),
      );
    }
    if ("tuple" in def) {
      const items = def.tuple.map((t) => this.#buildCodec(t, depth + 1));
      return createCodec<AbiValue>(encode, createDecoder((b): AbiValue => items.map((c) => c.dec(b))));
    }
    const variants = def.enum.map(
      (v) => [v.name, v.fields.map((f) => [f.name, this.#buildCodec(f.type, depth + 1)] as const)] as const,
    );
    return createCodec<AbiValue>(
      encode,
      createDecoder((b): AbiValue => {
        ensureLeft(b, 1, `enum \`${name}\``);
        const index = u8.dec(b);
        const variant = variants[index];
        if (!variant) throw new DecodeError(`variant index ${index} of enum \`${name}\` does not exist`);
        const [vname, fields] = variant;
        if (fields.length === 0) return vname;
        return { [vname]: Object.fromEntries(fields.map(([n, c]) => [n, c.dec(b)])) };
      }),
    );
  }

  /** Decodes exactly one value of type `ty`. */
  decodeValue(ty: TypeRef, bytes: Uint8Array): AbiValue {
    try {
      return decodeExact(this.codec(ty), bytes, typeName(ty));
    } catch (e) {
      throw new AbiError((e as Error).message);
    }
  }

  /** Decodes the return data of `method`. */
  decodeReturn(method: string, bytes: Uint8Array): AbiValue {
    const m = this.method(method);
    if (!m) throw new AbiError(`the contract has no method \`${method}\``);
    return this.decodeValue(m.returns, bytes);
  }

  /** Decodes revert data: `00 ‖ UTF-8` panic, `01 ‖ SCALE(E)` typed error, else raw. */
  decodeRevert(errorType: TypeRef | null | undefined, data: Uint8Array): Revert {
    if (data[0] === 1 && errorType != null) {
      try {
        return { kind: "error", error: this.decodeValue(errorType, data.subarray(1)) };
      } catch {
        return { kind: "raw", data };
      }
    }
    return untypedRevert(data);
  }

  /** Decodes an event whose first topic is `sha3_256(name)` of one of this ABI's events. */
  decodeEvent(event: { topics: (Uint8Array | string)[]; data: Uint8Array | string }): DecodedEvent | null {
    const topics = event.topics.map((t) => (typeof t === "string" ? fromHex(t) : t));
    const data = typeof event.data === "string" ? fromHex(event.data) : event.data;
    const first = topics[0];
    if (!first) return null;
    const def = this.#eventsByTopic.get(toHex(first));
    if (!def) return null;
    const indexed = def.fields.filter((f) => f.indexed).length;
    if (topics.length !== 1 + indexed) return null;
    const fields: Record<string, AbiValue> = {};
    let t = 1;
    const body: [string, TypeRef][] = [];
    for (const f of def.fields) {
      if (f.indexed) {
        const v = this.#decodeTopic(f.type, topics[t++]!);
        if (v === undefined) return null;
        fields[f.name] = v;
      } else body.push([f.name, f.type]);
    }
    try {
      const values = decodeExact(
        createCodec(
          () => new Uint8Array(0),
          createDecoder((b) => body.map(([, ty]) => this.codec(ty).dec(b))),
        ),
        data,
        `event ${def.name}`,
      );
      body.forEach(([n], i) => (fields[n] = values[i]!));
    } catch {
      return null;
    }
    // Field order as declared.
    const ordered: Record<string, AbiValue> = {};
    for (const f of def.fields) ordered[f.name] = fields[f.name]!;
    return { name: def.name, fields: ordered };
  }

  #decodeTopic(ty: TypeRef, topic: Uint8Array): AbiValue | undefined {
    const width = topicWidth(ty);
    try {
      if (width === 32) return this.decodeValue(ty, topic);
      if (width > 0) {
        if (topic.subarray(width).some((b) => b !== 0)) return undefined;
        return this.decodeValue(ty, topic.subarray(0, width));
      }
      return { hash: toHex(topic) };
    } catch {
      return undefined;
    }
  }

  /** The topics of event `name` with `fields` filled where given (`null`: any), for filters. */
  eventTopic(name: string): Hex32 {
    if (!this.event(name)) throw new AbiError(`the contract has no event \`${name}\``);
    return toHex(sha3(name));
  }
}

class EncodeFailure extends Error {}

function ensureLeft(bytes: Uint8Array, n: number, what: string): void {
  const c = bytes as Uint8Array & { i: number };
  if (c.length - c.i < n) throw new DecodeError(`${what}: not enough data to fill buffer`);
}

/** Width of an indexed field's topic: 32 verbatim, 1–16 padded, 0 hashed. */
function topicWidth(ty: TypeRef): number {
  if (typeof ty !== "string") return 0;
  if (ty === "address" || ty === "hash") return 32;
  if (ty === "bool") return 1;
  const int = INTS[ty];
  return int ? int.bits / 8 : 0;
}

/** Revert data without an ABI: a panic message, or raw bytes. */
export function untypedRevert(data: Uint8Array): Revert {
  if (data[0] === 0) {
    try {
      return { kind: "panic", message: new TextDecoder("utf-8", { fatal: true }).decode(data.subarray(1)) };
    } catch {
      /* not UTF-8 */
    }
  }
  return { kind: "raw", data };
}

function encodeInt(ty: string, int: { bits: number; signed: boolean }, v: unknown): Uint8Array {
  const big = int.bits === 128;
  const expected = big ? `expected ${ty} as a decimal string or number` : `expected ${ty} as a number or decimal string`;
  let n: bigint;
  if (typeof v === "bigint") n = v;
  else if (typeof v === "number") {
    if (!Number.isInteger(v)) {
      throw new EncodeFailure(`${expected}, got ${v} (not an integer; write large integers as decimal strings)`);
    }
    if (!Number.isSafeInteger(v)) {
      throw new EncodeFailure(`${expected}, got ${v} (beyond 2^53: write it as a decimal string or bigint)`);
    }
    n = BigInt(v);
  } else if (typeof v === "string" && /^-?[0-9]+$/.test(v)) n = BigInt(v);
  else throw new EncodeFailure(`${expected}, got ${short(v)}`);
  const bits = BigInt(int.bits);
  const min = int.signed ? -(1n << (bits - 1n)) : 0n;
  const max = int.signed ? (1n << (bits - 1n)) - 1n : (1n << bits) - 1n;
  if (n < min || n > max) throw new EncodeFailure(`${String(v)} is out of range for ${ty}`);
  const codec = INTS[ty]!.codec as Codec<number | bigint>;
  return codec.enc(int.bits >= 64 ? n : Number(n));
}

function parseBytesValue(v: unknown): Uint8Array {
  if (v instanceof Uint8Array) return v;
  if (typeof v !== "string") throw new EncodeFailure(`expected bytes as a 0x-prefixed hex string, got ${short(v)}`);
  try {
    return fromHex(v, "bytes");
  } catch (e) {
    throw new EncodeFailure((e as Error).message);
  }
}

function parseHex32Value(v: unknown, what: string): Uint8Array {
  if (v instanceof Uint8Array && v.length === 32) return v;
  if (typeof v === "object" && v !== null && "address" in v && typeof (v as { address: unknown }).address === "string") {
    v = (v as { address: string }).address; // a Keypair or anything with an address
  }
  if (typeof v !== "string" || !/^0x[0-9a-fA-F]{64}$/.test(v)) {
    throw new EncodeFailure(`${what} must be 0x followed by 64 hex digits, got ${short(v)}`);
  }
  return fromHex(v);
}

/** The contents of the first custom section called `name` of a wasm module, if any. */
export function wasmCustomSection(wasm: Uint8Array, name: string): Uint8Array | null {
  const magic = [0x00, 0x61, 0x73, 0x6d];
  if (wasm.length < 8 || magic.some((b, i) => wasm[i] !== b)) throw new InvalidInputError("not a wasm module (bad magic)");
  let pos = 8;
  const leb = (): number => {
    let result = 0;
    let shift = 0;
    for (let i = 0; i < 5; i++) {
      if (pos >= wasm.length) throw new InvalidInputError("truncated wasm module");
      const byte = wasm[pos++]!;
      result += (byte & 0x7f) * 2 ** shift;
      if ((byte & 0x80) === 0) return result;
      shift += 7;
    }
    throw new InvalidInputError("malformed wasm LEB128");
  };
  while (pos < wasm.length) {
    const id = wasm[pos++]!;
    const size = leb();
    const end = pos + size;
    if (end > wasm.length) throw new InvalidInputError("truncated wasm section");
    if (id === 0) {
      const nameLen = leb();
      const nameBytes = wasm.subarray(pos, pos + nameLen);
      pos += nameLen;
      if (pos > end) throw new InvalidInputError("malformed wasm custom section");
      if (new TextDecoder().decode(nameBytes) === name) return wasm.slice(pos, end);
    }
    pos = end;
  }
  return null;
}
