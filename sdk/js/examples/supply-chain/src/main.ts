// The supply-chain dApp: the admin registers parties, a producer registers an item, each
// custodian hands it over with a location or records checkpoints, and the item's provenance
// timeline follows the contract's events live. Uses only the public API of @weft/sdk; every
// transaction is signed by the dev account whose turn it is (the admin, the producer, the
// current custodian).
//
// Query parameters: `rpc` (node URL, default ws://127.0.0.1:9944, or VITE_WEFT_RPC) and
// `contract` (default: found on chain as deployed by `weft-node dev --with-examples`, or
// VITE_SUPPLY_CHAIN_ADDRESS).

import {
  DEV_ACCOUNTS,
  Keypair,
  QueryFailedError,
  TxFailedError,
  WeftClient,
  WouldFailError,
  findDeployment,
  type Contract,
} from "@weft/sdk";
import type { Party, Role, Status, SupplyChainContract } from "./supply-chain-bindings.js";

const params = new URLSearchParams(location.search);
const RPC = params.get("rpc") ?? import.meta.env.VITE_WEFT_RPC ?? "ws://127.0.0.1:9944";
const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
const devName = new Map<string, string>(DEV_ACCOUNTS.map((n) => [Keypair.dev(n).address, n]));

/** The demo's parties: dev account, name, role. */
const DEMO: [string, string, Role][] = [
  ["bob", "Green Farm Co-op", "Producer"],
  ["charlie", "FastFreight Logistics", "Carrier"],
  ["dave", "Central Depot", "Warehouse"],
  ["eve", "Corner Shop", "Retailer"],
];

let client: WeftClient;
let chain: Contract<SupplyChainContract>;
let parties = new Map<string, Party>(); // by address
let items: number[] = [];
let selected: number | null = null;
let busy = false;

const nameOf = (address: string) => parties.get(address)?.name ?? devName.get(address) ?? `${address.slice(0, 10)}…`;

function toast(text: string, error = false): void {
  const el = $("toast");
  el.textContent = text;
  el.className = `show${error ? " error" : ""}`;
}

function describeError(e: unknown): string {
  if (e instanceof WouldFailError || e instanceof TxFailedError || e instanceof QueryFailedError) {
    const typed = e.contractError;
    return typed ? (typeof typed === "string" ? typed : JSON.stringify(typed)) : e.error.message;
  }
  return e instanceof Error ? e.message : String(e);
}

/** The dev account that holds `address`, to sign with. */
function signerFor(address: string): string {
  const name = devName.get(address);
  if (!name) throw new Error(`${address} is not a dev account: this demo cannot sign for it`);
  return name;
}

async function run(label: string, f: () => Promise<string>): Promise<void> {
  if (busy) return;
  busy = true;
  document.querySelectorAll("button").forEach((b) => (b.disabled = true));
  toast(`${label}…`);
  try {
    toast(await f());
  } catch (e) {
    toast(`${label} failed: ${describeError(e)}`, true);
  } finally {
    busy = false;
    document.querySelectorAll("button").forEach((b) => (b.disabled = false));
    await refresh();
  }
}

async function loadParties(): Promise<void> {
  const found = await Promise.all(
    DEV_ACCOUNTS.map(async (n) => [Keypair.dev(n).address, await chain.query.party({ account: n })] as const),
  );
  parties = new Map(found.filter((x): x is [`0x${string}`, Party] => x[1] !== null && x[1].active));
  const body = $("parties");
  body.replaceChildren();
  for (const [address, p] of parties) {
    const tr = document.createElement("tr");
    for (const text of [p.name, String(p.role), `${devName.get(address) ?? ""} ${address.slice(0, 10)}…`]) {
      const td = document.createElement("td");
      td.textContent = text;
      tr.append(td);
    }
    body.append(tr);
  }
  const producer = $("producer") as HTMLSelectElement;
  const before = producer.value;
  producer.replaceChildren(
    ...[...parties].filter(([, p]) => p.role === "Producer").map(([a, p]) => new Option(`${p.name} (${devName.get(a)})`, a)),
  );
  if (before) producer.value = before;
}

async function loadItems(): Promise<void> {
  const events = await chain.pastEvents("ItemRegistered");
  const ids = events.map((e) => Number(e.fields?.id));
  const select = $("item") as HTMLSelectElement;
  for (const id of ids.filter((id) => !items.includes(id))) {
    items.push(id);
    const record = await chain.query.item({ id });
    select.append(new Option(`#${id} ${record?.description ?? ""}`, String(id)));
  }
  if (selected === null && items.length) selected = items[items.length - 1]!;
  if (selected !== null) select.value = String(selected);
}

async function renderItem(): Promise<void> {
  const view = $("item-view");
  const timeline = $("timeline");
  if (selected === null) {
    view.innerHTML = `<p class="muted">No item yet: register one.</p>`;
    timeline.replaceChildren();
    return;
  }
  const id = selected;
  const [item, history] = await Promise.all([chain.query.item({ id }), chain.query.history({ id })]);
  if (!item || id !== selected) return;
  view.innerHTML = `<p><strong data-testid="item-description"></strong><br />
    <span class="muted">produced by <span data-testid="item-producer"></span> ·
    custodian <strong data-testid="custodian"></strong>${item.delivered ? " · <strong>delivered</strong>" : ""}</span></p>`;
  view.querySelector("[data-testid=item-description]")!.textContent = `#${id} ${item.description}`;
  view.querySelector("[data-testid=item-producer]")!.textContent = nameOf(item.producer);
  view.querySelector("[data-testid=custodian]")!.textContent = nameOf(item.custodian);
  const to = $("handover-to") as HTMLSelectElement;
  const keep = to.value;
  to.replaceChildren(
    ...[...parties].filter(([a]) => a !== item.custodian).map(([a, p]) => new Option(`${p.name} (${p.role})`, a)),
  );
  if (keep && [...to.options].some((o) => o.value === keep)) to.value = keep;
  timeline.replaceChildren(
    ...history.map((c, i) => {
      const li = document.createElement("li");
      li.dataset.testid = `step-${i}`;
      const when = new Date(Number(c.timestamp)).toISOString().replace("T", " ").slice(0, 19);
      li.innerHTML = `<div><span class="status"></span> · <span class="where"></span></div>
        <div class="muted"></div>`;
      li.querySelector(".status")!.textContent = String(c.status as Status);
      li.querySelector(".where")!.textContent = c.location;
      li.querySelector(".muted")!.textContent =
        `custodian ${nameOf(c.custodian)} · recorded by ${nameOf(c.by)} · block ${c.height} · ${when} UTC${c.note ? ` · ${c.note}` : ""}`;
      return li;
    }),
  );
}

async function refresh(): Promise<void> {
  await loadParties();
  await loadItems();
  await renderItem();
}

async function main(): Promise<void> {
  client = await WeftClient.connect(RPC);
  const address =
    params.get("contract") ?? import.meta.env.VITE_SUPPLY_CHAIN_ADDRESS ?? (await findDeployment(client, "supply-chain"));
  if (!address) {
    $("status").textContent = `no supply-chain contract found on ${RPC}: start the node with --with-examples, or pass ?contract=0x…`;
    return;
  }
  chain = await client.contract<SupplyChainContract>(address);
  const info = await client.nodeInfo();
  const status = (height: number) =>
    ($("status").textContent = `chain ${info.chain_id} · finalized #${height} · supply-chain ${address.slice(0, 10)}… · ${RPC}`);
  status(info.finalized_height);
  (await client.subscribeFinalized()).listen((h) => void status(h.height));

  // The provenance follows the contract's events as they are committed.
  (await chain.subscribeEvents()).listen(async (e) => {
    if (e.name === "PartyRegistered") await loadParties();
    if (e.name === "ItemRegistered") await loadItems();
    if (e.fields && Number(e.fields.id) === selected) await renderItem();
  }, (e) => toast(`event stream failed: ${describeError(e)}`, true));

  await refresh();

  ($("item") as HTMLSelectElement).onchange = (ev) => {
    selected = Number((ev.target as HTMLSelectElement).value);
    void renderItem();
  };

  $("setup").onclick = () =>
    run("Registering the demo parties", async () => {
      const admin = signerFor(String(await chain.query.admin()));
      let n = 0;
      for (const [who, name, role] of DEMO) {
        if (parties.has(Keypair.dev(who).address)) continue;
        await chain.tx.register_party({ account: who, name, role }, { from: admin });
        n++;
      }
      return n ? `Registered ${n} parties (signed by ${admin}), final` : "The demo parties are registered already";
    });

  $("register-form").onsubmit = (ev) => {
    ev.preventDefault();
    const producer = ($("producer") as HTMLSelectElement).value;
    const description = ($("description") as HTMLInputElement).value.trim();
    const origin = ($("origin") as HTMLInputElement).value.trim();
    void run("Registering the item", async () => {
      if (!producer) throw new Error("no producer registered: register the demo parties first");
      const r = await chain.tx.register_item({ description, location: origin }, { from: signerFor(producer) });
      selected = Number(r.value);
      await loadItems();
      return `Item #${r.value} registered by ${nameOf(producer)} — final in block ${r.receipt.location.block_height}`;
    });
  };

  $("handover-form").onsubmit = (ev) => {
    ev.preventDefault();
    const to = ($("handover-to") as HTMLSelectElement).value;
    const where = ($("handover-location") as HTMLInputElement).value.trim();
    const id = selected;
    void run("Handing over", async () => {
      if (id === null) throw new Error("no item selected");
      const item = await chain.query.item({ id });
      if (!item) throw new Error(`item ${id} does not exist`);
      const r = await chain.tx.hand_over({ id, to, location: where }, { from: signerFor(item.custodian) });
      return `#${id} handed from ${nameOf(item.custodian)} to ${nameOf(to)} at ${where} — final in block ${r.receipt.location.block_height}`;
    });
  };

  $("checkpoint-form").onsubmit = (ev) => {
    ev.preventDefault();
    const status = ($("checkpoint-status") as HTMLSelectElement).value as Status;
    const where = ($("checkpoint-location") as HTMLInputElement).value.trim();
    const note = ($("checkpoint-note") as HTMLInputElement).value.trim();
    const id = selected;
    void run("Recording the checkpoint", async () => {
      if (id === null) throw new Error("no item selected");
      const item = await chain.query.item({ id });
      if (!item) throw new Error(`item ${id} does not exist`);
      const r = await chain.tx.checkpoint({ id, location: where, status, note }, { from: signerFor(item.custodian) });
      return `#${id}: ${status} at ${where} recorded by ${nameOf(item.custodian)} — final in block ${r.receipt.location.block_height}`;
    });
  };
  document.body.dataset.ready = "true";
}

main().catch((e) => {
  $("status").textContent = `error: ${describeError(e)}`;
  console.error(e);
});
