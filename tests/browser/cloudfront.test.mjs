// The CloudFront Function of the README's "Private catalogs" section, run as CloudFront runs it:
// install files, robots.txt and 404.html pass untouched without a login; every other path needs
// the Basic credentials, and then folder URLs are served from their index.html. Needs no
// package: the function is read from README.md and evaluated here.

import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";

const README = new URL("../../README.md", import.meta.url);

/** The text of `heading` (a whole line) up to the next heading of its level or above. */
function section(markdown, heading) {
  const level = heading.match(/^#+/)[0].length;
  const lines = markdown.split("\n");
  const start = lines.indexOf(heading);
  assert.notEqual(start, -1, `README.md has no line \`${heading}\``);
  assert.equal(lines.indexOf(heading, start + 1), -1, `README.md has \`${heading}\` twice`);
  let end = start + 1;
  let fenced = false;
  for (; end < lines.length; end++) {
    if (lines[end].startsWith("```")) fenced = !fenced;
    const hashes = lines[end].match(/^(#+) /);
    if (!fenced && hashes && hashes[1].length <= level) break;
  }
  return lines.slice(start + 1, end).join("\n");
}

/** The one ```js block of the CloudFront subsection of "Private catalogs". */
function functionSource() {
  const markdown = readFileSync(README, "utf8");
  const cloudfront = section(section(markdown, "### Private catalogs"), "#### Amazon S3 + CloudFront");
  const blocks = [...cloudfront.matchAll(/^```js\n([\s\S]*?)^```$/gm)].map((m) => m[1]);
  assert.equal(blocks.length, 1, `expected one \`\`\`js block in "Private catalogs" › "Amazon S3 + CloudFront", found ${blocks.length}`);
  return blocks[0];
}

const source = functionSource();
const handler = new Function(`${source}\nreturn handler;`)();

const TOKEN = "0123456789abcdef0123456789abcdef";
const RIGHT = `Basic ${Buffer.from("tester:s3cret").toString("base64")}`;
const WRONG = `Basic ${Buffer.from("tester:guess").toString("base64")}`;

function event(uri, authorization) {
  const headers = { host: { value: "catalog.example.com" } };
  if (authorization !== undefined) headers.authorization = { value: authorization };
  return {
    version: "1.0",
    context: { eventType: "viewer-request" },
    viewer: { ip: "1.2.3.4" },
    request: { method: "GET", uri, querystring: {}, headers, cookies: {} },
  };
}

function assertRefused(uri, authorization) {
  const e = event(uri, authorization);
  const answer = handler(e);
  const shown = authorization === undefined ? "no credentials" : `Authorization: ${authorization}`;
  assert.notEqual(answer, e.request, `${uri} with ${shown} went on to the origin`);
  assert.equal(answer.statusCode, 401, `${uri} with ${shown}`);
  assert.match(answer.headers["www-authenticate"].value, /^Basic realm="[^"]+"/);
}

const open = [
  `/i/${TOKEN}/manifest.plist`,
  `/i/${TOKEN}/App.ipa`,
  `/i/${TOKEN}/field.ipa`,
  `/i/${TOKEN}/icon-57.png`,
  `/i/${TOKEN}/icon-512.png`,
  "/robots.txt",
  "/404.html",
];

const closed = [
  "/",
  "/index.html",
  "/field",
  "/field/",
  "/field/1.0/",
  "/field/index.html",
  "/field/latest/",
  "/field/latest/beta/",
  "/feed.xml",
  "/field/feed.xml",
  "/field/latest.json",
  "/field/releases.json",
  `/field/1.0/qr.svg`,
  `/s/${TOKEN}/`,
  `/s/${TOKEN}/catalog.json`,
  "/catalog.json",
  "/assets/site.css",
  "/_headers",
  "/.relsite-deploy.json",
  // Near misses of the install paths: case, percent-encoding, no folder or no token.
  "/I/x",
  `/I/${TOKEN}/manifest.plist`,
  "/%69/x",
  `/%69/${TOKEN}/manifest.plist`,
  `/i%2F${TOKEN}/manifest.plist`,
  "/i",
  "/i/",
  "/ix/",
  `/ix/${TOKEN}/manifest.plist`,
  `/i/${TOKEN}`,
  `/i/${TOKEN}/`,
  `/i/${TOKEN.slice(1)}/manifest.plist`,
  `/i/${TOKEN}0/manifest.plist`,
  `/i/${TOKEN.toUpperCase()}/manifest.plist`,
  `/i/${TOKEN}/sub/manifest.plist`,
  `/i/${TOKEN}/.hidden`,
  `/i/${TOKEN}/%2e%2e`,
  `/i/${TOKEN}/manifest%2Eplist`,
  `/robots.txt/`,
  `/404.html/x`,
  `/x/robots.txt`,
  // Paths that would leave /i/ once resolved.
  "//i/x",
  `//i/${TOKEN}/manifest.plist`,
  "/i/../field/",
  `/i/${TOKEN}/../../field/`,
  `/i/${TOKEN}/..`,
  `/i/./${TOKEN}/manifest.plist`,
  `/i//${TOKEN}/manifest.plist`,
];

test("the README holds the function in a form CloudFront Functions runs", () => {
  assert.equal(typeof handler, "function");
  assert.match(source, /^var CREDENTIALS = \[/m, "credentials are a constant at the top");
  assert.doesNotMatch(source, /\brequire\s*\(|^\s*(import|export)\b/m, "no modules");
  assert.doesNotMatch(source, /`/, "no backquotes (they would also break the README's code-span checks)");
});

test("install files, robots.txt and 404.html pass untouched without credentials", () => {
  for (const uri of open) {
    for (const authorization of [undefined, WRONG, RIGHT]) {
      const e = event(uri, authorization);
      const answer = handler(e);
      assert.equal(answer, e.request, `${uri} was answered by the function`);
      assert.equal(answer.uri, uri, `${uri} was rewritten`);
    }
  }
});

test("every other path needs the credentials", () => {
  for (const uri of closed) {
    assertRefused(uri);
    assertRefused(uri, WRONG);
    for (const malformed of ["Bearer x", "Basic", "Basic ", "basic", `${RIGHT}x`, `Bearer ${RIGHT.slice(6)}`, `${RIGHT} ${RIGHT}`, ""]) {
      assertRefused(uri, malformed);
    }
  }
});

test("with the credentials, folders are served from their index.html", () => {
  const served = {
    "/": "/index.html",
    "/field/": "/field/index.html",
    "/field/1.0/": "/field/1.0/index.html",
    "/field/latest/beta/": "/field/latest/beta/index.html",
    [`/s/${TOKEN}/`]: `/s/${TOKEN}/index.html`,
    "/index.html": "/index.html",
    "/feed.xml": "/feed.xml",
    "/field/latest.json": "/field/latest.json",
    [`/s/${TOKEN}/catalog.json`]: `/s/${TOKEN}/catalog.json`,
    "/assets/site.css": "/assets/site.css",
    "/.relsite-deploy.json": "/.relsite-deploy.json",
  };
  for (const [uri, origin] of Object.entries(served)) {
    for (const authorization of [RIGHT, RIGHT.replace("Basic", "basic"), RIGHT.replace(" ", "  ")]) {
      const e = event(uri, authorization);
      const answer = handler(e);
      assert.equal(answer, e.request, `${uri} was answered by the function`);
      assert.equal(answer.uri, origin, uri);
    }
  }
});

test("with the credentials, a folder without its slash is redirected to it", () => {
  for (const uri of ["/field", "/field/latest", "/field/page/2"]) {
    const answer = handler(event(uri, RIGHT));
    assert.equal(answer.statusCode, 301, uri);
    assert.equal(answer.headers.location.value, `${uri}/`);
  }
});

test("with the credentials, empty and dot segments are refused, never resolved or redirected", () => {
  for (const uri of ["//i/x", "//evil.example", "/i/../field/", `/i/${TOKEN}/../../field/`, "/field/./", "/field/%2e%2e/", "/a//b", "/\\evil.example", "/%5cevil.example"]) {
    const answer = handler(event(uri, RIGHT));
    assert.equal(answer.statusCode, 400, uri);
  }
});
