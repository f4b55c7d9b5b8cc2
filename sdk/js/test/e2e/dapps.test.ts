// The example dApps in headless Chromium against a real `weft-node dev --with-examples`: each
// page is clicked through its flow and what it shows after finality is checked; a screenshot
// of each is written to e2e/screenshots/.

import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync } from "node:fs";
import path from "node:path";
import type { Page } from "playwright-core";
import { REPO_ROOT, startDevNode, type DevNode } from "../helpers/node.js";
import { launchBrowser, serveDir, type Browser } from "../helpers/browser.js";

const SDK = path.join(REPO_ROOT, "sdk/js");
const SHOTS = path.join(SDK, "e2e/screenshots");
const TIMEOUT = 60_000;

let node: DevNode;
let browser: Browser;

before(async () => {
  mkdirSync(SHOTS, { recursive: true });
  node = await startDevNode({ withExamples: true });
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await node?.stop();
});

/** Opens a built dApp on the test node; fails the test on any page error. */
async function open(app: string): Promise<{ page: Page; close: () => Promise<void>; errors: string[] }> {
  const server = await serveDir(path.join(SDK, "examples", app, "dist"));
  const page = await browser.context.newPage();
  const errors: string[] = [];
  page.on("pageerror", (e) => errors.push(String(e)));
  page.on("console", (m) => {
    if (m.type() === "error") errors.push(m.text());
  });
  await page.goto(`${server.url}?rpc=${encodeURIComponent(node.wsUrl)}`);
  await page.waitForSelector("body[data-ready=true]", { timeout: TIMEOUT });
  return {
    page,
    errors,
    close: async () => {
      await page.close();
      await server.close();
    },
  };
}

/** Waits until the element's text matches. */
async function expectText(page: Page, selector: string, expected: RegExp | string): Promise<void> {
  const locator = page.locator(selector);
  const deadline = Date.now() + TIMEOUT;
  let last = "";
  while (Date.now() < deadline) {
    last = (await locator.first().textContent({ timeout: TIMEOUT }).catch(() => "")) ?? "";
    if (typeof expected === "string" ? last.trim() === expected : expected.test(last)) return;
    await page.waitForTimeout(100);
  }
  assert.fail(`${selector} shows ${JSON.stringify(last)}, expected ${expected}`);
}

describe("voting dApp", () => {
  test("create a proposal, vote from two dev accounts, the tally follows", async () => {
    const { page, close, errors } = await open("voting");
    try {
    await expectText(page, "[data-testid=status]", /finalized #\d+/);
    await page.fill("[data-testid=description]", "Which snack for the demo?");
    await page.fill("[data-testid=choices]", "Apples, Pretzels");
    await page.click("[data-testid=create]");
    await expectText(page, "[data-testid=question]", "Which snack for the demo?");
    await expectText(page, "[data-testid=toast]", /Proposal #\d+ created — final in block \d+/);
    await expectText(page, "[data-testid=voters]", "0 voters");

    await page.selectOption("[data-testid=account]", "bob");
    await page.click("[data-testid=vote-1]:not([disabled])");
    await expectText(page, "[data-testid=toast]", /bob voted "Pretzels" — final in block \d+/);
    await expectText(page, "[data-testid=count-1]", "1");

    await page.selectOption("[data-testid=account]", "charlie");
    await page.click("[data-testid=vote-1]:not([disabled])");
    await expectText(page, "[data-testid=count-1]", "2");
    await expectText(page, "[data-testid=count-0]", "0");
    await expectText(page, "[data-testid=voters]", "2 voters");
    await expectText(page, "[data-testid=events] li", /charlie voted choice 1/);
    // bob has voted: his button says so.
    await page.selectOption("[data-testid=account]", "bob");
    await expectText(page, "[data-testid=vote-0]", "voted");
    await page.screenshot({ path: path.join(SHOTS, "voting.png"), fullPage: true });
    assert.deepEqual(errors, []);
    } finally {
      await close();
    }
  });
});

describe("supply-chain dApp", () => {
  test("register parties and an item, hand custody over with locations, the provenance shows it all", async () => {
    const { page, close, errors } = await open("supply-chain");
    try {
      await expectText(page, "[data-testid=status]", /finalized #\d+/);
      await page.click("[data-testid=setup]");
      await expectText(page, "[data-testid=toast]", /Registered 4 parties \(signed by alice\), final/);
      await expectText(page, "[data-testid=parties]", /Green Farm Co-op.*Producer.*FastFreight Logistics.*Carrier.*Central Depot.*Warehouse.*Corner Shop.*Retailer/s);

      await page.fill("[data-testid=description]", "Organic coffee beans, lot 42");
      await page.fill("[data-testid=origin]", "Finca La Esperanza, Huila");
      await page.click("[data-testid=register]");
      await expectText(page, "[data-testid=toast]", /Item #0 registered by Green Farm Co-op — final in block \d+/);
      await expectText(page, "[data-testid=custodian]", "Green Farm Co-op");
      await expectText(page, "[data-testid=step-0]", /Created · Finca La Esperanza, Huila.*custodian Green Farm Co-op/s);

      await page.selectOption("[data-testid=handover-to]", { label: "FastFreight Logistics (Carrier)" });
      await page.fill("[data-testid=handover-location]", "Port of Santos");
      await page.click("[data-testid=handover]");
      await expectText(page, "[data-testid=toast]", /handed from Green Farm Co-op to FastFreight Logistics at Port of Santos — final/);
      await expectText(page, "[data-testid=custodian]", "FastFreight Logistics");
      await expectText(page, "[data-testid=step-1]", /HandedOver · Port of Santos.*custodian FastFreight Logistics · recorded by Green Farm Co-op/s);

      await page.selectOption("[data-testid=checkpoint-status]", "InTransit");
      await page.fill("[data-testid=checkpoint-location]", "Atlantic Ocean");
      await page.fill("[data-testid=checkpoint-note]", "reefer container 7");
      await page.click("[data-testid=checkpoint]");
      await expectText(page, "[data-testid=step-2]", /InTransit · Atlantic Ocean.*recorded by FastFreight Logistics.*reefer container 7/s);

      // Only a retailer may mark it delivered: the contract's typed error shows on the page.
      await page.selectOption("[data-testid=checkpoint-status]", "Delivered");
      await page.fill("[data-testid=checkpoint-location]", "Hamburg");
      await page.fill("[data-testid=checkpoint-note]", "");
      await page.click("[data-testid=checkpoint]");
      await expectText(page, "[data-testid=toast]", 'Recording the checkpoint failed: {"WrongRole":{"role":"Carrier"}}');

      await page.selectOption("[data-testid=handover-to]", { label: "Corner Shop (Retailer)" });
      await page.fill("[data-testid=handover-location]", "Hamburg");
      await page.click("[data-testid=handover]");
      await expectText(page, "[data-testid=custodian]", "Corner Shop");
      await expectText(page, "[data-testid=step-3]", /HandedOver · Hamburg.*custodian Corner Shop · recorded by FastFreight Logistics/s);
      await page.selectOption("[data-testid=checkpoint-status]", "Delivered");
      await page.fill("[data-testid=checkpoint-location]", "Corner Shop, Hamburg-Altona");
      await page.click("[data-testid=checkpoint]");
      await expectText(page, "[data-testid=step-4]", /Delivered · Corner Shop, Hamburg-Altona.*recorded by Corner Shop/s);
      await expectText(page, "[data-testid=item-view]", /custodian Corner Shop · delivered/);
      assert.equal(await page.locator("[data-testid=timeline] li").count(), 5);
      await page.screenshot({ path: path.join(SHOTS, "supply-chain.png"), fullPage: true });
      assert.deepEqual(errors, []);
    } finally {
      await close();
    }
  });
});

describe("JSON-RPC over HTTP from a page of another origin (CORS)", () => {
  /** Calls `node_info` with `fetch` from a page served on its own port. */
  async function nodeInfoFromPage(rpcUrl: string): Promise<unknown> {
    const server = await serveDir(path.join(SDK, "examples", "voting", "dist"));
    const page = await browser.context.newPage();
    try {
      await page.goto(server.url);
      return await page.evaluate(async (url) => {
        try {
          const response = await fetch(url, {
            method: "POST",
            headers: { "content-type": "application/json" },
            body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "node_info" }),
          });
          return await response.json();
        } catch (e) {
          return `refused: ${e}`;
        }
      }, rpcUrl);
    } finally {
      await page.close();
      await server.close();
    }
  }

  test("the dev chain answers every origin", async () => {
    const answer = (await nodeInfoFromPage(node.url)) as { result?: { dev?: boolean } };
    assert.equal(answer.result?.dev, true, JSON.stringify(answer));
  });

  test("with --rpc-cors none the browser keeps the answer from the page", async () => {
    const closed = await startDevNode({ extraArgs: ["--rpc-cors", "none"] });
    try {
      assert.match(String(await nodeInfoFromPage(closed.url)), /^refused: TypeError/);
    } finally {
      await closed.stop();
    }
  });
});
