// The JSON-RPC transport against a scripted WebSocket server (the `ws` package) on 127.0.0.1:
// requests and errors, subscriptions (in order, ended by an error notification, unsubscribe),
// timeouts, and a dropped connection failing what is pending.

import { test } from "node:test";
import assert from "node:assert/strict";
import { WebSocketServer, type WebSocket } from "ws";
import { RpcConnection, RpcError, TimeoutError, TransportError, wsUrl } from "../../src/index.js";

async function server(handle: (msg: any, ws: WebSocket) => void): Promise<{ url: string; close: () => Promise<void>; sockets: Set<WebSocket> }> {
  const wss = new WebSocketServer({ host: "127.0.0.1", port: 0 });
  await new Promise<void>((r) => wss.once("listening", () => r()));
  const sockets = new Set<WebSocket>();
  wss.on("connection", (ws) => {
    sockets.add(ws);
    ws.on("message", (data) => handle(JSON.parse(String(data)), ws));
  });
  const { port } = wss.address() as { port: number };
  return {
    url: `http://127.0.0.1:${port}`,
    sockets,
    close: () => new Promise<void>((r) => {
      for (const s of sockets) s.terminate();
      wss.close(() => r());
    }),
  };
}

test("node URLs map to WebSocket URLs", () => {
  assert.equal(wsUrl("http://127.0.0.1:9944"), "ws://127.0.0.1:9944");
  assert.equal(wsUrl("https://node.example:443"), "wss://node.example:443");
  assert.equal(wsUrl("localhost:1"), "ws://localhost:1");
  assert.equal(wsUrl("ws://a:1"), "ws://a:1");
  assert.throws(() => wsUrl("ftp://x"), /scheme ftp:/);
});

test("requests, errors, subscriptions, unsubscribe, timeouts, a dropped connection", async () => {
  const s = await server((msg, ws) => {
    const reply = (body: object) => ws.send(JSON.stringify({ jsonrpc: "2.0", id: msg.id, ...body }));
    if (msg.method === "echo") reply({ result: msg.params });
    else if (msg.method === "fail") reply({ error: { code: 1003, message: "nonce too low", data: { x: 1 } } });
    else if (msg.method === "sub") {
      reply({ result: 77 });
      for (const n of [1, 2, 3]) ws.send(JSON.stringify({ jsonrpc: "2.0", method: "item", params: { subscription: 77, result: n } }));
      ws.send(JSON.stringify({ jsonrpc: "2.0", method: "item", params: { subscription: 77, error: "lagged" } }));
    } else if (msg.method === "sub2") {
      reply({ result: "abc" });
      ws.send(JSON.stringify({ jsonrpc: "2.0", method: "item", params: { subscription: "abc", result: "x" } }));
    } else if (msg.method === "unsub") reply({ result: true });
    // "silent" gets no answer
  });
  const conn = await RpcConnection.connect(s.url, { requestTimeoutMs: 300 });
  assert.deepEqual(await conn.request("echo", [1, "a"]), [1, "a"]);
  await assert.rejects(conn.request("fail"), (e: unknown) => e instanceof RpcError && e.code === 1003 && e.method === "fail");
  await assert.rejects(conn.request("silent"), TimeoutError);

  const sub = await conn.subscribe<number>("sub", [], "unsub");
  const got: number[] = [];
  await assert.rejects(
    (async () => {
      for await (const n of sub) got.push(n);
    })(),
    /lagged/,
  );
  assert.deepEqual(got, [1, 2, 3]);

  const sub2 = await conn.subscribe<string>("sub2", [], "unsub");
  const mapped = sub2.map((x) => x.toUpperCase());
  assert.deepEqual(await mapped.next(), { value: "X", done: false });
  await mapped.unsubscribe();
  assert.deepEqual(await sub2.next(), { value: undefined, done: true });

  // The server goes away: pending requests and open subscriptions fail.
  const sub3 = await conn.subscribe<string>("sub2", [], "unsub");
  await sub3.next();
  const pending = conn.request("silent", [], 10_000);
  for (const ws of s.sockets) ws.terminate();
  await assert.rejects(pending, TransportError);
  await assert.rejects(sub3.next(), TransportError);
  await assert.rejects(conn.request("echo"), TransportError);
  assert.equal(conn.isConnected, false);
  await s.close();
  await assert.rejects(RpcConnection.connect(s.url, { connectTimeoutMs: 2000 }), /cannot connect/);
});
