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
