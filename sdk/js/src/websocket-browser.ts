//! The WebSocket of browsers (and of any runtime with a global `WebSocket`).

/** The WebSocket constructor used by default. */
export default function defaultWebSocket(): WebSocketConstructor {
  if (typeof globalThis.WebSocket !== "function") {
    throw new Error("this runtime has no global WebSocket: pass `WebSocket` in the client options");
  }
  return globalThis.WebSocket as unknown as WebSocketConstructor;
}

/** What the client needs of a WebSocket class (the browser's, or the `ws` package's). */
export interface WebSocketLike {
  readonly readyState: number;
  onopen: ((ev: unknown) => void) | null;
  onclose: ((ev: { code?: number; reason?: string | { toString(): string } }) => void) | null;
  onerror: ((ev: unknown) => void) | null;
  onmessage: ((ev: { data: unknown }) => void) | null;
  send(data: string): void;
  close(code?: number, reason?: string): void;
}

export type WebSocketConstructor = new (url: string) => WebSocketLike;
