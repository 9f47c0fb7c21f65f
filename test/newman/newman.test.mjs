// Runs the Postman collection (postman/) with newman against a real API started from dist/, one node:test
// test per assertion, and checks that every route the API exposes (listRoutes() from dist/backend/app.js)
// has a tested request in the collection. Needs `npm run build` first.
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, test } from "node:test";
import { pathToFileURL } from "node:url";
import newman from "newman";
import { ROOT } from "../lib/api-process.mjs";
import { startApi, suiteTimeLeft } from "../lib/suite.mjs";

const COLLECTION = join(ROOT, "postman", "crossauth.postman_collection.json");
const ENVIRONMENT = join(ROOT, "postman", "localhost.postman_environment.json");
const APP = join(ROOT, "dist", "backend", "app.js");

const STOP_TIMEOUT_MS = 15_000; // above the server's own SHUTDOWN_TIMEOUT_SECONDS (set to 5 below)
const REQUEST_TIMEOUT_MS = 15_000;
const RUN_TIMEOUT_MS = 5 * 60_000;

function runNewman(baseUrl) {
  return new Promise((resolveRun, reject) => {
    newman.run(
      {
        collection: COLLECTION,
        environment: ENVIRONMENT,
        envVar: [{ key: "baseUrl", value: baseUrl }],
        // Each assertion is reported as a node:test test below, with its error.
        reporters: [],
        timeoutRequest: REQUEST_TIMEOUT_MS,
        timeout: RUN_TIMEOUT_MS,
      },
      (err, summary) => (err ? reject(err) : resolveRun(summary)),
    );
  });
}

/** "02 Signup / Sign up a fresh user": the item's folders and name, without the collection's. */
function itemPath(item) {
  const names = [];
  for (let node = item; node?.parent?.(); node = node.parent()) names.unshift(node.name);
  return names.join(" / ");
}

// ------------------------------------------------------------------ route coverage

/** Every request of the collection as {name, method, segments, tested}; the URL's {{baseUrl}} and query dropped. */
function collectionRequests(collection) {
  const out = [];
  const walk = (items, trail) => {
    for (const item of items) {
      if (item.item) {
        walk(item.item, [...trail, item.name]);
        continue;
      }
      const { method, url } = item.request;
      const raw = typeof url === "string" ? url : url.raw;
      const path = raw.replace(/^\{\{baseUrl\}\}/, "").replace(/^[a-z]+:\/\/[^/]+/i, "").split(/[?#]/)[0];
      const tested = (item.event ?? []).some(
        (e) => e.listen === "test" && [].concat(e.script?.exec ?? []).join("\n").includes("pm.test("),
      );
      out.push({ name: [...trail, item.name].join(" / "), method: method.toUpperCase(), segments: path.split("/").filter(Boolean), tested });
    }
  };
  walk(collection.item, []);
  return out;
}

/** `/api/user/:uid` matches `/api/user/{{victimAUid}}` or `/api/user/alice`: a param matches any one segment. */
function pathMatches(routePath, segments) {
  const parts = routePath.split("/").filter(Boolean);
  return parts.length === segments.length && parts.every((p, i) => p.startsWith(":") || p === segments[i]);
}

async function loadRoutes() {
  if (!existsSync(APP)) throw new Error(`${APP} not found: run \`npm run build\` first`);
  const mod = await import(pathToFileURL(APP).href);
  const listRoutes = mod.listRoutes ?? mod.default?.listRoutes;
  if (typeof listRoutes !== "function") throw new Error("dist/backend/app.js does not export listRoutes()");
  const routes = await listRoutes();
  if (!Array.isArray(routes) || routes.length === 0) throw new Error("listRoutes() returned no routes");
  return routes.map(({ method, path }) => ({ method: String(method).toUpperCase(), path: String(path) }));
}

/** Returns the list of routes (as "METHOD /path") that no tested collection request covers. */
function uncoveredRoutes(routes, requests) {
  const covers = (method, path) => requests.some((r) => r.tested && r.method === method && pathMatches(path, r.segments));
  return routes
    // A HEAD route is the router's automatic twin of a GET route: covered by that GET.
    .filter(({ method, path }) => !(covers(method, path) || (method === "HEAD" && covers("GET", path))))
    .map(({ method, path }) => `${method} ${path}`);
}

// ------------------------------------------------------------------ tests

describe("newman", { timeout: suiteTimeLeft() }, () => {
  test("the Postman collection against a live API", { timeout: RUN_TIMEOUT_MS + 60_000 }, async (t) => {
    const api = await startApi(t, {
      name: "newman",
      stopTimeoutMs: STOP_TIMEOUT_MS,
      env: {
        NODE_ENV: "development", // the development seed creates admin/password and user/password
        // A throwaway key, so the run neither reads nor persists the development secret of the checkout.
        JWT_SECRET: randomBytes(32).toString("hex"),
        BCRYPT_ROUNDS: "4",
        LOG_LEVEL: "warn",
        RATE_LIMIT_LOGIN_PER_IP: "1000",
        RATE_LIMIT_SIGNUP_PER_IP: "1000",
        SHUTDOWN_TIMEOUT_SECONDS: "5",
        // Sign in with GitHub on (docs/github.md), so its refusals and the link route answer as configured. GitHub
        // itself is an address on loopback where nothing listens: the collection never follows a redirect there.
        GITHUB_CLIENT_ID: "newman-client-id",
        GITHUB_CLIENT_SECRET: "newman-client-secret",
        GITHUB_OAUTH_BASE_URL: "http://127.0.0.1:9",
        GITHUB_API_BASE_URL: "http://127.0.0.1:9",
      },
    });
    const summary = await runNewman(api.url);
    for (const execution of summary.run.executions) {
      const where = itemPath(execution.item);
      // A request that never got an answer or a script that throws fails even without an assertion.
      if (execution.requestError) await t.test(`${where} › request`, () => assert.fail(execution.requestError.message));
      for (const script of [...(execution.prerequestScript ?? []), ...(execution.testScript ?? [])]) {
        if (script.error) await t.test(`${where} › script`, () => assert.fail(`${script.error.name}: ${script.error.message}`));
      }
      for (const { assertion, skipped, error } of execution.assertions ?? []) {
        await t.test(`${where} › ${assertion}`, { skip: skipped }, () => {
          if (error) assert.fail(error.message);
        });
      }
    }
    assert(!summary.run.error, `newman: ${summary.run.error?.message ?? summary.run.error}`);
    const { code, signal } = await api.stop();
    if (code !== 0) t.diagnostic(`the API exited with code ${code}${signal ? ` (signal ${signal})` : ""} after SIGTERM`);
  });

  test("every route of listRoutes() has a tested request in the collection", async (t) => {
    const routes = await loadRoutes();
    const requests = collectionRequests(JSON.parse(readFileSync(COLLECTION, "utf8")));
    const missing = uncoveredRoutes(routes, requests);
    t.diagnostic(`${routes.length - missing.length}/${routes.length} routes of listRoutes() have a tested request`);
    assert.deepEqual(missing, [], `routes not covered by the collection: ${missing.join(", ")}`);
  });
});
