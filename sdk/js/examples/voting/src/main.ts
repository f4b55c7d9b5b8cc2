// The voting dApp: create a proposal, vote from the dev accounts, and watch the tally change
// live from the contract's events. Uses only the public API of @weft/sdk.
//
// Query parameters: `rpc` (node URL, default ws://127.0.0.1:9944, or VITE_WEFT_RPC) and
// `contract` (the voting contract; default: found on chain as deployed by
// `weft-node dev --with-examples`, or VITE_VOTING_ADDRESS).

import {
  DEV_ACCOUNTS,
  Keypair,
  QueryFailedError,
  TxFailedError,
  WeftClient,
  WouldFailError,
  findDeployment,
  type Contract,
  type ContractEvent,
} from "@weft/sdk";
import type { VotingContract } from "./voting-bindings.js";


const params = new URLSearchParams(location.search);
const RPC = params.get("rpc") ?? import.meta.env.VITE_WEFT_RPC ?? "ws://127.0.0.1:9944";
const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
const names = new Map<string, string>(DEV_ACCOUNTS.map((n) => [Keypair.dev(n).address, n]));
const nameOf = (address: string) => names.get(address) ?? `${address.slice(0, 10)}…`;

let client: WeftClient;
let voting: Contract<VotingContract>;
let selected: number | null = null;
let busy = false;

function toast(text: string, error = false): void {
  const el = $("toast");
  el.textContent = text;
  el.className = `show${error ? " error" : ""}`;
  clearTimeout((toast as unknown as { t?: number }).t);
  (toast as unknown as { t?: number }).t = window.setTimeout(() => (el.className = ""), 6000);
}

function describeError(e: unknown): string {
  if (e instanceof WouldFailError || e instanceof TxFailedError || e instanceof QueryFailedError) {
    return e.errorName ? `${e.errorName}${e.panic ? `: ${e.panic}` : ""}` : e.error.message;
  }
  return e instanceof Error ? e.message : String(e);
}

function account(): string {
  return ($("account") as HTMLSelectElement).value;
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
    await render();
  }
}

async function loadProposals(): Promise<void> {
  const count = Number(await voting.query.count());
  const select = $("proposal") as HTMLSelectElement;
  const have = select.options.length;
  for (let id = have; id < count; id++) {
    const p = await voting.query.proposal({ id });
    const option = document.createElement("option");
    option.value = String(id);
    option.textContent = `#${id} ${p?.description ?? "?"}`;
    select.append(option);
  }
  if (count > have) {
    select.value = String(count - 1);
    selected = count - 1;
  }
}

async function render(): Promise<void> {
  const view = $("proposal-view");
  if (selected === null) {
    view.innerHTML = `<p class="muted">No proposal yet: create one.</p>`;
    return;
  }
  const id = selected;
  const [p, tally, voted] = await Promise.all([
    voting.query.proposal({ id }),
    voting.query.tally({ id }),
    voting.query.has_voted({ id, voter: account() }),
  ]);
  if (!p || id !== selected) return;
  const total = tally.counts.reduce((a, c) => a + Number(c), 0);
  view.replaceChildren();
  const head = document.createElement("div");
  head.innerHTML = `<h3 data-testid="question"></h3>
    <p class="muted">by ${nameOf(p.creator)} · open until block ${p.deadline} ·
      <span data-testid="voters">${tally.voters} voter${tally.voters === 1 ? "" : "s"}</span>
      ${tally.closed ? ` · closed, winner: ${tally.winner === null ? "none" : p.choices[tally.winner]}` : ""}</p>`;
  head.querySelector("h3")!.textContent = p.description;
  view.append(head);
  p.choices.forEach((choice, i) => {
    const row = document.createElement("div");
    row.className = "choice";
    const count = tally.counts[i] ?? "0";
    const pct = total ? Math.round((Number(count) * 100) / total) : 0;
    row.innerHTML = `<span class="label"></span><div class="bar"><div style="width:${pct}%"></div></div>
      <strong data-testid="count-${i}">${count}</strong>`;
    row.querySelector(".label")!.textContent = choice;
    const button = document.createElement("button");
    button.textContent = voted ? "voted" : "Vote";
    button.dataset.testid = `vote-${i}`;
    button.disabled = voted || tally.closed || busy;
    button.onclick = () =>
      run(`Voting "${choice}" as ${account()}`, async () => {
        const r = await voting.tx.vote({ id, choice: i }, { from: account() });
        return `${account()} voted "${choice}" — final in block ${r.receipt.location.block_height}`;
      });
    row.append(button);
    view.append(row);
  });
}

function logEvent(e: ContractEvent): void {
  const li = document.createElement("li");
  const f = e.fields ?? {};
  li.textContent =
    e.name === "Voted"
      ? `block ${e.blockHeight}: ${nameOf(String(f.voter))} voted choice ${f.choice} on #${f.id} (weight ${f.weight})`
      : e.name === "ProposalCreated"
        ? `block ${e.blockHeight}: ${nameOf(String(f.creator))} created proposal #${f.id}`
        : `block ${e.blockHeight}: ${e.name ?? "event"}`;
  $("events").prepend(li);
}

async function main(): Promise<void> {
  const accountSelect = $("account") as HTMLSelectElement;
  for (const name of DEV_ACCOUNTS) accountSelect.append(new Option(name, name));
  const showAccount = () => ($("account-address").textContent = Keypair.dev(account()).address);
  showAccount();
  accountSelect.onchange = () => {
    showAccount();
    void render();
  };

  client = await WeftClient.connect(RPC);
  const address =
    params.get("contract") ?? import.meta.env.VITE_VOTING_ADDRESS ?? (await findDeployment(client, "voting"));
  if (!address) {
    $("status").textContent = `no voting contract found on ${RPC}: start the node with --with-examples, or pass ?contract=0x…`;
    return;
  }
  voting = await client.contract<VotingContract>(address);
  const info = await client.nodeInfo();
  const status = (height: number) =>
    ($("status").textContent = `chain ${info.chain_id} · finalized #${height} · voting ${address.slice(0, 10)}… · ${RPC}`);
  status(info.finalized_height);
  (await client.subscribeFinalized()).listen((h) => void status(h.height));

  // The tally follows the contract's events, as they are committed.
  (await voting.subscribeEvents()).listen(async (e) => {
    logEvent(e);
    if (e.name === "ProposalCreated") await loadProposals();
    if (e.fields?.id === selected || e.name === "ProposalCreated") await render();
  }, (e) => toast(`event stream failed: ${describeError(e)}`, true));

  for (const e of (await voting.pastEvents()).slice(-20)) logEvent(e);
  await loadProposals();
  ($("proposal") as HTMLSelectElement).onchange = (ev) => {
    selected = Number((ev.target as HTMLSelectElement).value);
    void render();
  };

  $("create-form").onsubmit = (ev) => {
    ev.preventDefault();
    const description = ($("description") as HTMLInputElement).value.trim();
    const choices = ($("choices") as HTMLInputElement).value.split(",").map((c) => c.trim()).filter(Boolean);
    const duration = Number(($("duration") as HTMLInputElement).value);
    void run("Creating the proposal", async () => {
      const head = await client.head();
      const r = await voting.tx.create(
        { description, choices, deadline: head.height + duration, token: null },
        { from: account() },
      );
      await loadProposals();
      selected = Number(r.value);
      ($("proposal") as HTMLSelectElement).value = String(selected);
      return `Proposal #${r.value} created — final in block ${r.receipt.location.block_height}`;
    });
  };
  await render();
  document.body.dataset.ready = "true";
}

main().catch((e) => {
  $("status").textContent = `error: ${describeError(e)}`;
  console.error(e);
});
