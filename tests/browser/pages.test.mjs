// Renders example-site's catalog, an app page and a build page in headless Chromium at iPhone,
// iPad and desktop sizes: no console errors, the install link is the exact itms-services URL,
// and the QR code decodes to the page's URL. Screenshots go to tests/browser/artifacts/.

import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { createServer } from "node:http";
import { mkdtempSync, readFileSync, existsSync, mkdirSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, normalize, extname, dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";
import jsQR from "jsqr";
import { PNG } from "pngjs";

const here = dirname(fileURLToPath(import.meta.url));
const project = join(here, "..", "..");
const artifacts = join(here, "artifacts");
const chromiumPath = process.env.CHROMIUM || "/usr/bin/chromium";

const BASE = "https://builds.example.com/";
const BUILD_PATH = "field/1.10.1-205/";
const MANIFEST = `${BASE}${BUILD_PATH}manifest.plist`;
const INSTALL = `itms-services://?action=download-manifest&url=${encodeURIComponent(MANIFEST)}`;

const IPHONE_UA =
  "Mozilla/5.0 (iPhone; CPU iPhone OS 18_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.0 Mobile/15E148 Safari/604.1";
const IPAD_UA =
  "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.0 Safari/605.1.15";
const INSTAGRAM_UA = `${IPHONE_UA} Instagram 300.0.0.0 (iPhone14,5; iOS 18_0; en_US)`;

const devices = {
  iphone: { viewport: { width: 390, height: 844 }, userAgent: IPHONE_UA, isMobile: true, hasTouch: true, deviceScaleFactor: 2 },
  ipad: { viewport: { width: 820, height: 1180 }, userAgent: IPAD_UA, hasTouch: true, deviceScaleFactor: 2 },
  desktop: { viewport: { width: 1280, height: 900 } },
  "desktop-dark": { viewport: { width: 1280, height: 900 }, colorScheme: "dark" },
};

let site, server, origin, browser;

function relsite() {
  for (const profile of ["debug", "release"]) {
    const path = join(project, "target", profile, "relsite");
    if (existsSync(path)) return path;
  }
  execFileSync("cargo", ["build", "--quiet"], { cwd: project, stdio: "inherit" });
  return join(project, "target", "debug", "relsite");
}

const types = { ".html": "text/html; charset=utf-8", ".css": "text/css", ".png": "image/png",
  ".json": "application/json", ".xml": "application/atom+xml", ".plist": "text/xml", ".svg": "image/svg+xml" };

before(async () => {
  site = mkdtempSync(join(tmpdir(), "relsite-browser-"));
  execFileSync(relsite(), ["build", "--root", join(project, "example-site"), "--output", join(site, "public")], { stdio: "pipe" });
  mkdirSync(artifacts, { recursive: true });
  server = createServer((req, res) => {
    const url = new URL(req.url, "http://localhost");
    let path = normalize(join(site, "public", decodeURIComponent(url.pathname)));
    if (!path.startsWith(join(site, "public"))) { res.writeHead(403).end(); return; }
    if (existsSync(path) && statSync(path).isDirectory()) path = join(path, "index.html");
    if (!existsSync(path)) { res.writeHead(404).end("not found"); return; }
    res.writeHead(200, { "content-type": types[extname(path)] || "application/octet-stream" });
    res.end(readFileSync(path));
  });
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  origin = `http://127.0.0.1:${server.address().port}/`;
  browser = await chromium.launch({
    executablePath: chromiumPath,
    args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
      "--disable-component-update", "--disable-sync"],
  });
});

after(async () => {
  await browser?.close();
  await new Promise((resolve) => server?.close(resolve));
});

/** Opens `path` on a device; returns the page and the console errors and failed requests seen.
 * `clock` sets the page's clock (a Date) before it loads. */
async function open(device, path, options = {}, clock = undefined) {
  const context = await browser.newContext({ ...devices[device], ...options });
  const page = await context.newPage();
  if (clock) await page.clock.install({ time: clock });
  const problems = [];
  page.on("console", (msg) => { if (msg.type() === "error") problems.push(`console: ${msg.text()}`); });
  page.on("pageerror", (err) => problems.push(`page error: ${err.message}`));
  page.on("requestfailed", (req) => problems.push(`request failed: ${req.url()}`));
  page.on("response", (res) => { if (res.status() >= 400) problems.push(`HTTP ${res.status()}: ${res.url()}`); });
  await page.goto(origin + path, { waitUntil: "load" });
  return { page, problems, context };
}

function decodeQr(png) {
  const image = PNG.sync.read(png);
  const code = jsQR(new Uint8ClampedArray(image.data), image.width, image.height);
  return code && code.data;
}

for (const device of Object.keys(devices)) {
  for (const [name, path] of [["catalog", ""], ["app", "field/"], ["build", BUILD_PATH]]) {
    test(`${name} page renders on ${device} without errors`, async () => {
      const { page, problems, context } = await open(device, path);
      await page.screenshot({ path: join(artifacts, `${name}-${device}.png`), fullPage: true });
      assert.deepEqual(problems, []);
      assert.ok((await page.title()).length > 0);
      assert.equal(await page.locator("main h1").count(), 1);
      await context.close();
    });
  }
}

test("the install link is exactly the itms-services URL", async () => {
  const { page, context } = await open("iphone", BUILD_PATH);
  const href = await page.locator("a.install-button").getAttribute("href");
  assert.equal(href, INSTALL);
  const url = new URL(href.replace("itms-services://", "https://x/"));
  assert.equal(url.searchParams.get("url"), MANIFEST, "decoded once it names the manifest");
  assert.ok(await page.locator("a.install-button").isVisible());
  await context.close();
});

test("desktop visitors get a QR code of the page URL first", async () => {
  const { page, context } = await open("desktop", BUILD_PATH);
  const qr = page.locator(".qr-code img");
  assert.ok(await qr.isVisible());
  const decoded = decodeQr(await qr.screenshot({ path: join(artifacts, "qr-desktop.png") }));
  assert.equal(decoded, `${BASE}${BUILD_PATH}`);
  const qrBox = await page.locator(".qr").boundingBox();
  const installBox = await page.locator(".install-panel").boundingBox();
  assert.ok(qrBox.x < installBox.x, "the QR code leads on a desktop");
  assert.ok(await page.locator("a.install-button").isVisible(), "the button stays");
  await context.close();
});

test("the QR code on a latest page decodes to that page's URL", async () => {
  const { page, context } = await open("desktop", "tidetime/latest/stable/");
  const decoded = decodeQr(await page.locator(".qr-code img").screenshot());
  assert.equal(decoded, `${BASE}tidetime/latest/stable/`);
  await context.close();
});

test("an iPad reporting a Mac user agent keeps the install button", async () => {
  const { page, context } = await open("ipad", BUILD_PATH);
  assert.match(await page.evaluate(() => document.documentElement.className), /\bios\b/);
  assert.ok(await page.locator("a.install-button").isVisible());
  await context.close();
});

test("in-app browsers get an open-in-Safari hint and a copy-link button", async () => {
  const { page, context } = await open("iphone", BUILD_PATH, { userAgent: INSTAGRAM_UA });
  assert.ok(await page.locator(".in-app-hint").isVisible());
  assert.ok(await page.locator("button.copy-link").isVisible());
  await page.screenshot({ path: join(artifacts, "build-in-app.png") });
  await context.close();
  const safari = await open("iphone", BUILD_PATH);
  assert.equal(await safari.page.locator(".in-app-hint").isVisible(), false);
  await safari.context.close();
});

test("the copy-link button copies the page URL", async () => {
  const { page, context } = await open("desktop", BUILD_PATH);
  await context.grantPermissions(["clipboard-read", "clipboard-write"], { origin });
  await page.locator("button.copy-link").click();
  await page.locator(".copied", { hasText: "Link copied." }).waitFor();
  assert.equal(await page.evaluate(() => navigator.clipboard.readText()), `${BASE}${BUILD_PATH}`);
  await context.close();
});

test("everything needed works with scripts off", async () => {
  const { page, problems, context } = await open("iphone", BUILD_PATH, { javaScriptEnabled: false });
  assert.equal(await page.locator("a.install-button").getAttribute("href"), INSTALL);
  assert.ok(await page.locator("a.install-button").isVisible());
  assert.ok(await page.locator(".qr-code img").isVisible(), "without scripts the QR code shows for everyone");
  assert.equal(await page.locator("button.copy-link").isVisible(), false, "no button that cannot work");
  assert.deepEqual(problems, []);
  await context.close();
});

test("pages have landmarks, labelled images and a keyboard path to Install", async () => {
  for (const path of ["", "field/", BUILD_PATH]) {
    const { page, context } = await open("desktop", path);
    assert.equal(await page.getAttribute("html", "lang"), "en", path);
    for (const landmark of ["header", "main", "footer"]) {
      assert.equal(await page.locator(landmark).count(), 1, `${path}: ${landmark}`);
    }
    const unlabelled = await page.locator("img:not([alt])").count();
    assert.equal(unlabelled, 0, `${path}: every image has alt text`);
    await context.close();
  }
  const { page, context } = await open("desktop", BUILD_PATH);
  let reached = false;
  for (let i = 0; i < 15 && !reached; i++) {
    await page.keyboard.press("Tab");
    reached = await page.evaluate(() => document.activeElement?.classList.contains("install-button"));
  }
  assert.ok(reached, "Tab reaches the Install link");
  await context.close();
});

// The example's field 1.10.1 (205) profile expires at 2036-01-01T00:00:00Z.
const EXPIRES = Date.parse("2036-01-01T00:00:00Z");
const DAY = 86400000;

test("catalog and app pages install each channel's newest build in one tap on an iPhone", async () => {
  for (const path of ["", "field/"]) {
    const { page, problems, context } = await open("iphone", path);
    const button = page.locator(".one-tap a.install-button").first();
    assert.ok(await button.isVisible(), `${path}: an install button`);
    assert.equal(await button.getAttribute("href"), INSTALL, `${path}: field's newest stable build`);
    assert.equal(await page.locator(".row-qr").first().isVisible(), false, `${path}: no QR code on a phone`);
    await page.screenshot({ path: join(artifacts, `one-tap-${path ? "app" : "catalog"}-iphone.png`), fullPage: true });
    assert.deepEqual(problems, []);
    await context.close();
  }
});

test("catalog and app pages offer a QR code of the build page on a computer", async () => {
  for (const path of ["", "field/"]) {
    const { page, context } = await open("desktop", path);
    assert.equal(await page.locator(".one-tap a.install-button").first().isVisible(), false, `${path}: no button`);
    await page.locator(".row-qr summary").first().click();
    const qr = page.locator(".row-qr .qr-code img").first();
    assert.ok(await qr.isVisible(), `${path}: the QR code opens`);
    assert.equal(decodeQr(await qr.screenshot()), `${BASE}${BUILD_PATH}`, path);
    await context.close();
  }
});

test("an older build's page names the newer build of its channel", async () => {
  const { page, context } = await open("iphone", "field/1.10.0-200/");
  const newer = page.locator(".newer a");
  assert.match(await newer.textContent(), /1\.10\.1 \(205\)/);
  await newer.click();
  assert.equal(new URL(page.url()).pathname, `/${BUILD_PATH}`);
  const { page: newest, context: other } = await open("iphone", BUILD_PATH);
  assert.equal(await newest.locator(".newer").count(), 0, "the newest names none");
  await context.close();
  await other.close();
});

test("after the profile expires, by the viewer's clock, Install is disabled and says expired", async () => {
  for (const path of [BUILD_PATH, "", "field/"]) {
    const { page, problems, context } = await open("iphone", path, {}, new Date(EXPIRES + DAY));
    const panel = path === BUILD_PATH ? page.locator(".install-panel") : page.locator(".build-row[data-expires]").first();
    assert.equal(await panel.locator("a.install-button").count(), 0, `${path}: no install link`);
    const off = panel.locator(".install-button.disabled");
    assert.equal(await off.getAttribute("aria-disabled"), "true", path);
    assert.match(await off.textContent(), /expired/i, path);
    if (path === BUILD_PATH) {
      assert.match(await panel.locator(".expiry").textContent(), /has expired/, path);
      await page.screenshot({ path: join(artifacts, "expired-build-iphone.png"), fullPage: true });
    }
    assert.deepEqual(problems, []);
    await context.close();
  }
});

test("ten days before the profile expires, the page counts the days", async () => {
  const { page, context } = await open("iphone", BUILD_PATH, {}, new Date(EXPIRES - 10 * DAY));
  assert.equal(await page.locator(".install-panel a.install-button").getAttribute("href"), INSTALL);
  assert.match(await page.locator(".install-panel .expiry").textContent(), /Expires in 10 days/);
  await context.close();
  const { page: early, context: other } = await open("iphone", BUILD_PATH, {}, new Date(EXPIRES - 40 * DAY));
  assert.equal(await early.locator(".install-panel .expiry").isVisible(), false, "no countdown 40 days before");
  await other.close();
});

test("without scripts, the build-time state stands after the expiry", async () => {
  const { page, context } = await open("iphone", BUILD_PATH, { javaScriptEnabled: false }, new Date(EXPIRES + DAY));
  assert.equal(await page.locator(".install-panel a.install-button").getAttribute("href"), INSTALL);
  await context.close();
});

test("dates say how long ago they were by the viewer's clock", async () => {
  const { page, context } = await open("desktop", "field/", {}, new Date("2024-04-28T12:00:00Z"));
  const row = page.locator(".build-row").first();
  assert.equal(await row.locator("time").textContent(), "2024-04-25");
  assert.equal(await row.locator(".ago").textContent(), " (3 days ago)");
  await context.close();
  const { page: off, context: other } = await open("desktop", "field/", { javaScriptEnabled: false });
  assert.equal(await off.locator(".ago").count(), 0, "the date alone without scripts");
  await other.close();
});
