// Opens dbguru's chat page in Debian's headless Chromium (playwright-core, no browser
// download), asks a question with the keyboard, and checks what a person would see:
// a table with shop and warehouse rows, per-database progress, and a bar chart.
// Usage: node chat_page.js <base url> <screenshot.png> [<phone screenshot.png>]
"use strict";
const { chromium } = require("playwright-core");

async function main() {
  const [base, shot, phoneShot] = process.argv.slice(2);
  const browser = await chromium.launch({
    executablePath: process.env.DBGURU_CHROMIUM || "/usr/bin/chromium",
    args: ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"],
  });
  try {
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    const errors = [];
    page.on("pageerror", (e) => errors.push(String(e)));
    await page.goto(base + "/", { waitUntil: "load" });
    await page.waitForSelector("body[data-ready='1']", { timeout: 20000 });
    const boxes = await page.locator("#connections input[type=checkbox]").count();
    if (boxes !== 2) throw new Error("expected 2 connection checkboxes, got " + boxes);
    // Keyboard only: the question box has focus; Enter asks.
    await page.keyboard.type("how many customers are there?");
    await page.keyboard.press("Enter");
    await page.waitForSelector(".turn table tbody tr", { timeout: 30000 });
    const rows = await page.$$eval(".turn table tbody tr", (trs) => trs.map((tr) => [...tr.children].map((td) => td.textContent)));
    const sources = rows.map((r) => r[0]).sort();
    if (JSON.stringify(sources) !== JSON.stringify(["shop", "warehouse"])) throw new Error("table rows: " + JSON.stringify(rows));
    const header = await page.$$eval(".turn table thead th", (ths) => ths.map((t) => t.textContent));
    if (header[0] !== "source_db") throw new Error("header: " + JSON.stringify(header));
    const bars = await page.$$eval(".turn svg.chart rect[data-source]", (rs) => rs.map((r) => r.getAttribute("data-source")));
    if (bars.sort().join(",") !== "shop,warehouse") throw new Error("chart bars: " + JSON.stringify(bars));
    const progress = await page.$$eval(".turn .progress li.ok", (lis) => lis.map((l) => l.textContent));
    if (progress.length !== 2) throw new Error("progress: " + JSON.stringify(progress));
    const sql = await page.$$eval(".turn details pre", (ps) => ps.map((p) => p.textContent));
    if (sql.length !== 2 || !sql.every((s) => /count/i.test(s))) throw new Error("sql: " + JSON.stringify(sql));
    // The new session shows in the list, named after the question.
    await page.waitForSelector(".sessions li button[aria-current='true']", { timeout: 10000 });
    const current = await page.textContent(".sessions li button[aria-current='true']");
    if (!current.includes("how many customers")) throw new Error("session list: " + current);
    await page.screenshot({ path: shot, fullPage: true });
    if (phoneShot) {
      await page.setViewportSize({ width: 390, height: 844 });
      await page.screenshot({ path: phoneShot, fullPage: false });
      const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
      if (overflow > 0) throw new Error("page wider than a phone screen by " + overflow + "px");
    }
    if (phoneShot) await page.setViewportSize({ width: 1280, height: 900 });
    // Rename, start a new chat, resume the old one from the list, then delete it.
    await page.fill("#session-name", "Customer counts");
    await page.click("#rename");
    await page.waitForFunction(() => document.querySelector(".sessions li button[aria-current='true']")?.textContent.includes("Customer counts"), null, { timeout: 10000 });
    await page.keyboard.press("Alt+N");
    await page.waitForFunction(() => document.querySelectorAll("#log .turn").length === 0, null, { timeout: 10000 });
    await page.click(".sessions li button");
    await page.waitForFunction(() => document.querySelector("#log .turn .question")?.textContent === "how many customers are there?", null, { timeout: 10000 });
    const resumed = await page.textContent("#log");
    if (!/shop/.test(resumed) || !/warehouse/.test(resumed)) throw new Error("resumed history lacks the databases: " + resumed);
    page.once("dialog", (d) => d.accept());
    await page.click("#delete");
    await page.waitForFunction(() => document.querySelectorAll(".sessions li").length === 0, null, { timeout: 10000 });
    if (errors.length) throw new Error("page errors: " + errors.join("; "));
    const body = await page.textContent("body");
    console.log(JSON.stringify({ rows, bars, progress, session: current.trim(), chars: body.length }));
  } finally {
    await browser.close();
  }
}

main().catch((e) => { console.error(e && e.stack || String(e)); process.exit(1); });
