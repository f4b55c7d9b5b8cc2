//! `@weft/sdk`: the TypeScript client of Weft.

export * from "./bytes.js";
export * from "./scale.js";
export * from "./protocol.js";
export * from "./keys.js";
export * from "./abi.js";
export * from "./types.js";
export * from "./errors.js";
export { RpcConnection, Subscription, wsUrl, SUBSCRIPTION_BUFFER, type TransportOptions } from "./rpc.js";
export * from "./client.js";
export * from "./contract.js";
export * from "./proof.js";
export * from "./dev.js";
export type { WebSocketConstructor, WebSocketLike } from "./websocket-browser.js";
export { generateBindings } from "./bindgen.js";
