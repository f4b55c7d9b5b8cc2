// Starts a real `weft-node dev` for tests: on a port the OS picks (`--rpc-addr 127.0.0.1:0`,
// read back from its ready line), with the example contracts when asked; stopped with SIGINT
// (then SIGKILL) at the end, and killed if the test process exits first.

import { spawn, type ChildProcess } from "node:child_process";
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import path from "node:path";

/** The repository root (sdk/js/build/test/helpers → five levels up). */
export const REPO_ROOT = path.resolve(fileURLToPath(new URL(".", import.meta.url)), "../../../../..");
export const NODE_BIN = process.env.WEFT_NODE_BIN ?? path.join(REPO_ROOT, "target/debug/weft-node");

export interface DevNode {
  url: string;
  wsUrl: string;
  examples: Record<string, `0x${string}`>;
  process: ChildProcess;
  output: () => string;
  stop: () => Promise<void>;
}

const running = new Set<ChildProcess>();
process.on("exit", () => {
  for (const p of running) p.kill("SIGKILL");
});
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.once(signal, () => {
    for (const p of running) p.kill("SIGKILL");
    process.exit(130);
  });
}

/** Starts `weft-node dev` and resolves once it prints its ready line. */
export async function startDevNode(options: { withExamples?: boolean; timeoutMs?: number; extraArgs?: string[] } = {}): Promise<DevNode> {
  if (!existsSync(NODE_BIN)) {
    throw new Error(`${NODE_BIN} does not exist: run \`cargo build -p weft-node\` (or set WEFT_NODE_BIN)`);
  }
  const args = ["dev", "--rpc-addr", "127.0.0.1:0", ...(options.withExamples ? ["--with-examples"] : []), ...(options.extraArgs ?? [])];
  const child = spawn(NODE_BIN, args, { cwd: REPO_ROOT, stdio: ["ignore", "pipe", "pipe"], env: { ...process.env } });
  running.add(child);
  let out = "";
  let err = "";
  child.stdout!.setEncoding("utf8");
  child.stderr!.setEncoding("utf8");
  child.stderr!.on("data", (d: string) => {
    err += d;
    if (err.length > 200_000) err = err.slice(-100_000);
  });
  const examples: Record<string, `0x${string}`> = {};
  const timeoutMs = options.timeoutMs ?? 15 * 60_000; // building the examples the first time is slow
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`weft-node dev was not ready within ${timeoutMs / 1000}s\nstdout:\n${out}\nstderr:\n${err.slice(-4000)}`));
    }, timeoutMs);
    child.stdout!.on("data", (d: string) => {
      out += d;
      for (const m of out.matchAll(/^\s+example\s+(\S+)\s+(0x[0-9a-f]{64})\s*$/gm)) examples[m[1]!] = m[2] as `0x${string}`;
      const ready = out.match(/^weft-node ready: rpc=(http:\/\/\S+)$/m);
      if (ready) {
        clearTimeout(timer);
        resolve(ready[1]!);
      }
    });
    child.on("exit", (code, signal) => {
      clearTimeout(timer);
      running.delete(child);
      reject(new Error(`weft-node dev exited (${code ?? signal}) before it was ready\nstdout:\n${out}\nstderr:\n${err.slice(-4000)}`));
    });
  });
  const stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((r) => child.once("exit", () => r()));
    child.kill("SIGINT");
    const timer = setTimeout(() => child.kill("SIGKILL"), 10_000);
    await exited;
    clearTimeout(timer);
    running.delete(child);
  };
  return { url, wsUrl: url.replace(/^http:/, "ws:"), examples, process: child, output: () => out + err, stop };
}
