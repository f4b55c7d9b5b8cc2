//! The WebSocket of Node: the `ws` package (Node 20 has no global WebSocket).

import WebSocket from "ws";
import type { WebSocketConstructor } from "./websocket-browser.js";

export type { WebSocketConstructor, WebSocketLike } from "./websocket-browser.js";

/** The WebSocket constructor used by default. */
export default function defaultWebSocket(): WebSocketConstructor {
  return WebSocket as unknown as WebSocketConstructor;
}
