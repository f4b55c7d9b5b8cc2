#!/usr/bin/env node
//! `weft-bindgen <abi.json | contract.wasm> [Name]`, or `weft-bindgen --rpc URL 0x<contract>
//! [Name]`: prints TypeScript bindings for a contract's ABI (see bindgen.ts).

import { readFileSync } from "node:fs";
import { Abi } from "./abi.js";
import { generateBindings } from "./bindgen.js";
import { WeftClient } from "./client.js";

async function main(argv: string[]): Promise<void> {
  if (argv.length === 0 || argv[0] === "--help" || argv[0] === "-h") {
    console.log("usage: weft-bindgen <abi.json | contract.wasm> [Name]\n       weft-bindgen --rpc URL 0x<contract> [Name]");
    return;
  }
  let abi: Abi;
  let rest: string[];
  if (argv[0] === "--rpc") {
    const [, url, address, ...more] = argv;
    if (!url || !address) throw new Error("--rpc needs a URL and a contract address");
    const client = await WeftClient.connect(url);
    try {
      const doc = await client.abiDocument(address);
      if (!doc) throw new Error(`contract ${address} has no ABI`);
      abi = new Abi(doc);
    } finally {
      client.close();
    }
    rest = more;
  } else {
    const bytes = readFileSync(argv[0]!);
    const isWasm = bytes[0] === 0 && bytes[1] === 0x61 && bytes[2] === 0x73 && bytes[3] === 0x6d;
    const found = isWasm ? Abi.fromWasm(new Uint8Array(bytes)) : new Abi(bytes.toString("utf8"));
    if (!found) throw new Error(`${argv[0]} carries no weft:abi section`);
    abi = found;
    rest = argv.slice(1);
  }
  process.stdout.write(generateBindings(abi.doc, rest[0]));
}

main(process.argv.slice(2)).catch((e: Error) => {
  console.error(`weft-bindgen: ${e.message}`);
  process.exit(1);
});
