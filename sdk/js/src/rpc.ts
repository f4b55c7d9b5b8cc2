//! JSON-RPC 2.0 over one WebSocket: requests with timeouts, and subscriptions delivered as
//! async iterators (or to callbacks). The node serves HTTP and WebSocket on one port; an
//! `http://` URL is dialled as the `ws://` URL of the same host and port.

import defaultWebSocket from "#websocket";
import type { WebSocketConstructor, WebSocketLike } from "./websocket-browser.js";
import { InvalidInputError } from "./bytes.js";
import { RpcError, TimeoutError, TransportError } from "./errors.js";

/** How many items a subscription buffers for a consumer that does not keep up, before it is
 * closed with an error (the node itself drops slow subscribers likewise). */
export const SUBSCRIPTION_BUFFER = 4096;

export interface TransportOptions {
  /** How long one request may take (ms). Default 60 000. */
  requestTimeoutMs?: number;
  /** How long connecting may take (ms). Default 10 000. */
  connectTimeoutMs?: number;
  /** A WebSocket class; default: the browser's, or `ws` in Node. */
  WebSocket?: WebSocketConstructor;
}

/** Turns a node URL into the WebSocket URL to dial: ws/wss as is, http→ws, https→wss, and a
 * bare `host:port` → `ws://host:port`. */
export function wsUrl(url: string): string {
  const text = url.trim();
  let out: string;
  if (text.startsWith("http://")) out = `ws://${text.slice(7)}`;
  else if (text.startsWith("https://")) out = `wss://${text.slice(8)}`;
  else if (text.includes("://")) out = text;
  else out = `ws://${text}`;
  let parsed: URL;
  try {
    parsed = new URL(out);
  } catch {
    throw new InvalidInputError(`invalid node URL ${JSON.stringify(url)}`);
  }
  if (parsed.protocol !== "ws:" && parsed.protocol !== "wss:") {
    throw new InvalidInputError(`invalid node URL ${JSON.stringify(url)}: scheme ${parsed.protocol} is not ws, wss, http or https`);
  }
  if (!parsed.host) throw new InvalidInputError(`invalid node URL ${JSON.stringify(url)}: no host`);
  return out;
}

/** A stream of subscription items: `for await (const x of sub)`, or `sub.listen(cb)`. Ends when
 * the node ends it, on `unsubscribe()`, or (with an error) when the connection closes. */
export class Subscription<T> implements AsyncIterableIterator<T> {
  #items: T[] = [];
  #waiters: { resolve: (r: IteratorResult<T>) => void; reject: (e: unknown) => void }[] = [];
  #done = false;
  #error: Error | undefined;
  #onClose: (() => Promise<void>) | undefined;

  /** @internal */
  constructor(readonly method: string, readonly id: string | number, onClose?: () => Promise<void>) {
    this.#onClose = onClose;
  }

  /** @internal An item from the node. */
  push(item: T): void {
    if (this.#done) return;
    const waiter = this.#waiters.shift();
    if (waiter) {
      waiter.resolve({ value: item, done: false });
      return;
    }
    if (this.#items.length >= SUBSCRIPTION_BUFFER) {
      this.end(new TransportError(`${this.method}: more than ${SUBSCRIPTION_BUFFER} items waiting to be read; closed`));
      void this.#onClose?.().catch(() => {});
      return;
    }
    this.#items.push(item);
  }

  /** @internal Ends the stream (with an error: the connection failed). */
  end(error?: Error): void {
    if (this.#done) return;
    this.#done = true;
    this.#error = error;
    for (const w of this.#waiters.splice(0)) {
      if (error) w.reject(error);
      else w.resolve({ value: undefined, done: true });
    }
  }

  /** Whether the stream has ended. */
  get closed(): boolean {
    return this.#done && this.#items.length === 0;
  }

  next(): Promise<IteratorResult<T>> {
    const item = this.#items.shift();
    if (item !== undefined) return Promise.resolve({ value: item, done: false });
    if (this.#done) {
      return this.#error ? Promise.reject(this.#error) : Promise.resolve({ value: undefined, done: true });
    }
    return new Promise((resolve, reject) => this.#waiters.push({ resolve, reject }));
  }

  /** Called by `break` in a `for await` loop: unsubscribes. */
  async return(): Promise<IteratorResult<T>> {
    await this.unsubscribe();
    return { value: undefined, done: true };
  }

  [Symbol.asyncIterator](): this {
    return this;
  }

  /** Stops the subscription at the node and ends the stream. */
  async unsubscribe(): Promise<void> {
    const wasOpen = !this.#done;
    this.#items = [];
    this.end();
    const onClose = this.#onClose;
    this.#onClose = undefined;
    if (wasOpen && onClose) await onClose().catch(() => {});
  }

  /** A stream of `f(item)` for each item of this one; unsubscribing it unsubscribes this. */
  map<U>(f: (item: T) => U): Subscription<U> {
    const out = new Subscription<U>(this.method, this.id, () => this.unsubscribe());
    void (async () => {
      try {
        for (;;) {
          const r = await this.next();
          if (r.done) return out.end();
          out.push(f(r.value));
        }
      } catch (e) {
        out.end(e instanceof Error ? e : new TransportError(String(e)));
      }
    })();
    return out;
  }

  /** Calls `onItem` for every item (awaiting it, so items are handled in order) until the
   * stream ends; `onError` gets a failure of the stream or of `onItem`. Returns `unsubscribe`. */
  listen(onItem: (item: T) => void | Promise<void>, onError?: (error: unknown) => void): () => Promise<void> {
    void (async () => {
      try {
        for (;;) {
          const r = await this.next();
          if (r.done) return;
          await onItem(r.value);
        }
      } catch (e) {
        if (onError) onError(e);
        else console.error(`${this.method} subscription failed:`, e);
      }
    })();
    return () => this.unsubscribe();
  }
}

interface Pending {
  method: string;
  resolve: (v: unknown) => void;
  reject: (e: unknown) => void;
  timer: ReturnType<typeof setTimeout> | undefined;
  /** For a subscribe call: creates the subscription as the answer arrives, before any
   * notification that follows it is read. */
  subscribe?: (id: string | number) => Subscription<unknown>;
}

/** One WebSocket connection speaking JSON-RPC 2.0. */
export class RpcConnection {
  readonly url: string;
  readonly requestTimeoutMs: number;
  #ws: WebSocketLike;
  #nextId = 1;
  #pending = new Map<number, Pending>();
  #subs = new Map<string, Subscription<unknown>>();
  #last = new Map<string, (item: unknown) => boolean>();
  #closed: Error | undefined;
  #closeListeners: ((e: Error) => void)[] = [];

  private constructor(url: string, ws: WebSocketLike, requestTimeoutMs: number) {
    this.url = url;
    this.#ws = ws;
    this.requestTimeoutMs = requestTimeoutMs;
    ws.onmessage = (ev) => this.#onMessage(ev.data);
    ws.onclose = (ev) => {
      const reason = ev?.reason ? `: ${String(ev.reason)}` : "";
      this.#fail(new TransportError(`the connection to ${url} closed (code ${ev?.code ?? "?"})${reason}`));
    };
    ws.onerror = () => {
      /* followed by onclose */
    };
  }

  /** Opens a connection to `url`. */
  static connect(url: string, options: TransportOptions = {}): Promise<RpcConnection> {
    const target = wsUrl(url);
    const Ctor = options.WebSocket ?? defaultWebSocket();
    const connectTimeout = options.connectTimeoutMs ?? 10_000;
    return new Promise((resolve, reject) => {
      let ws: WebSocketLike;
      try {
        ws = new Ctor(target);
      } catch (e) {
        reject(new TransportError(`cannot connect to ${url}: ${(e as Error).message}`));
        return;
      }
      const timer = setTimeout(() => {
        ws.onopen = ws.onclose = ws.onerror = null;
        try {
          ws.close();
        } catch {
          /* already closing */
        }
        reject(new TimeoutError(`cannot connect to ${url}: no answer within ${connectTimeout / 1000}s`));
      }, connectTimeout);
      ws.onopen = () => {
        clearTimeout(timer);
        resolve(new RpcConnection(url, ws, options.requestTimeoutMs ?? 60_000));
      };
      ws.onerror = () => {};
      ws.onclose = (ev) => {
        clearTimeout(timer);
        reject(new TransportError(`cannot connect to ${url} (WebSocket closed with code ${ev?.code ?? "?"})`));
      };
    });
  }

  /** Whether the connection is open. */
  get isConnected(): boolean {
    return this.#closed === undefined;
  }

  /** Calls `onClose` once when the connection fails or is closed. */
  onClose(listener: (error: Error) => void): void {
    if (this.#closed) listener(this.#closed);
    else this.#closeListeners.push(listener);
  }

  /** Sends a request and resolves with its result. */
  request<R = unknown>(method: string, params: unknown[] = [], timeoutMs = this.requestTimeoutMs): Promise<R> {
    return this.#send(method, params, timeoutMs) as Promise<R>;
  }

  /** Subscribes: `method(params)` answers a subscription id; items arrive as notifications
   * until `unsubscribeMethod(id)` or the node ends the subscription. `isLast` marks an item
   * after which the node ends the subscription without saying so (jsonrpsee sends no closing
   * notification): the stream ends after it. */
  async subscribe<T>(
    method: string,
    params: unknown[],
    unsubscribeMethod: string,
    isLast?: (item: T) => boolean,
  ): Promise<Subscription<T>> {
    let sub: Subscription<T> | undefined;
    await this.#send(method, params, this.requestTimeoutMs, (id) => {
      const key = JSON.stringify(id);
      sub = new Subscription<T>(method, id, async () => {
        this.#subs.delete(key);
        this.#last.delete(key);
        if (this.isConnected) await this.request(unsubscribeMethod, [id]);
      });
      this.#subs.set(key, sub as Subscription<unknown>);
      if (isLast) this.#last.set(key, isLast as (item: unknown) => boolean);
      return sub as Subscription<unknown>;
    });
    return sub!;
  }

  #send(
    method: string,
    params: unknown[],
    timeoutMs: number,
    subscribe?: (id: string | number) => Subscription<unknown>,
  ): Promise<unknown> {
    if (this.#closed) return Promise.reject(this.#closed);
    const id = this.#nextId++;
    return new Promise((resolve, reject) => {
      const timer =
        timeoutMs > 0 && Number.isFinite(timeoutMs)
          ? setTimeout(() => {
              this.#pending.delete(id);
              reject(new TimeoutError(`${method}: no answer from ${this.url} within ${timeoutMs / 1000}s`));
            }, timeoutMs)
          : undefined;
      this.#pending.set(id, { method, resolve, reject, timer, subscribe });
      try {
        this.#ws.send(JSON.stringify({ jsonrpc: "2.0", id, method, params }));
      } catch (e) {
        clearTimeout(timer);
        this.#pending.delete(id);
        reject(new TransportError(`${method}: cannot send to ${this.url}: ${(e as Error).message}`));
      }
    });
  }

  #onMessage(data: unknown): void {
    let msg: any;
    try {
      msg = JSON.parse(typeof data === "string" ? data : String(data));
    } catch {
      this.#fail(new TransportError(`${this.url} sent a message that is not JSON`));
      return;
    }
    const messages = Array.isArray(msg) ? msg : [msg];
    for (const m of messages) this.#handle(m);
  }

  #handle(m: any): void {
    if (m && typeof m === "object" && "id" in m && m.id !== null && ("result" in m || "error" in m)) {
      const pending = this.#pending.get(m.id);
      if (!pending) return; // timed out meanwhile
      this.#pending.delete(m.id);
      clearTimeout(pending.timer);
      if (m.error) {
        const e = m.error;
        pending.reject(new RpcError(pending.method, Number(e.code), String(e.message ?? "error"), e.data));
      } else if (pending.subscribe) {
        const id = m.result;
        if (typeof id !== "string" && typeof id !== "number") {
          pending.reject(new TransportError(`${pending.method}: the node answered no subscription id`));
        } else {
          pending.resolve(pending.subscribe(id));
        }
      } else {
        pending.resolve(m.result);
      }
      return;
    }
    if (m && typeof m === "object" && typeof m.method === "string" && m.params && "subscription" in m.params) {
      const key = JSON.stringify(m.params.subscription);
      const sub = this.#subs.get(key);
      if (!sub) return;
      if ("error" in m.params && !("result" in m.params)) {
        this.#subs.delete(key);
        sub.end(new TransportError(`${sub.method}: ${JSON.stringify(m.params.error)}`));
      } else if (m.params.result === null && m.method.endsWith("_unsubscribe")) {
        this.#subs.delete(key);
        sub.end();
      } else {
        sub.push(m.params.result);
        if (this.#last.get(key)?.(m.params.result)) {
          this.#subs.delete(key);
          this.#last.delete(key);
          sub.end();
        }
      }
      return;
    }
    // jsonrpsee ends a subscription from the server side with a notification carrying
    // no `subscription` item in some versions; anything else is ignored.
  }

  #fail(error: Error): void {
    if (this.#closed) return;
    this.#closed = error;
    for (const p of this.#pending.values()) {
      clearTimeout(p.timer);
      p.reject(error);
    }
    this.#pending.clear();
    for (const s of this.#subs.values()) s.end(error);
    this.#subs.clear();
    this.#last.clear();
    for (const l of this.#closeListeners.splice(0)) l(error);
  }

  /** Closes the connection: pending requests fail, subscriptions end. */
  close(): void {
    if (this.#closed) return;
    const error = new TransportError(`the connection to ${this.url} was closed by the client`);
    this.#fail(error);
    try {
      this.#ws.close(1000, "client closed");
    } catch {
      /* already closed */
    }
  }
}
