// Races: one uid signed up 25 times at once, one account logged into 30 times at once, and 200 connections
// reading GET /api/id while signups and logins write to the same SQLite file.
import assert from "node:assert/strict";
import http from "node:http";
import { before, describe, test } from "node:test";
import autocannon from "autocannon";
import { percentile, range, round, tally, tallyText } from "../lib/stats.mjs";
import { blockOwner, suiteTimeLeft } from "../lib/suite.mjs";
import { CHECK_TIMEOUT_MS, COOKIE_NAME, decodeJwtPayload, figures, is5xx, SETUP_TIMEOUT_MS, startApi, tokenFrom } from "./lib.mjs";

const PASSWORD = "correct horse 1";

describe("concurrency", { timeout: suiteTimeLeft() }, () => {
  const group = blockOwner();
  let api;
  before(async () => {
    api = await startApi(group, {
      env: {
        BCRYPT_ROUNDS: "8",
        RATE_LIMIT_SIGNUP_PER_IP: "1000000",
        RATE_LIMIT_LOGIN_PER_IP: "1000000",
        // An attempt reserves a lock point before bcrypt runs (so parallel guesses cannot slip past the
        // limit); 30 simultaneous correct logins therefore need a per-account limit above 30.
        LOGIN_MAX_FAILURES: "1000",
      },
    });
  }, { timeout: SETUP_TIMEOUT_MS });
  // One TCP connection per request, all opened at once: the requests really arrive together.
  const fresh = new http.Agent({ keepAlive: false, maxSockets: Infinity });

  test("concurrency: 25 parallel signups of one uid → one 201, 24×409, one row", { timeout: CHECK_TIMEOUT_MS }, async (t) => {
    const f = figures(t);
    // Case variants of the same uid: uniqueness is case-insensitive (docs/api.md › `<user>`), so they all collide.
    const variants = ["racer", "Racer", "RACER", "rAcEr", "raceR"];
    const results = await Promise.all(range(25).map((i) => api.signup(variants[i % variants.length], PASSWORD, { agent: fresh })));
    const counts = tally(results);
    f.statuses = tallyText(counts);
    f.rows = api.query("SELECT count(*) AS n FROM User WHERE uidKey = 'racer'").n;
    assert(results.filter(is5xx).length === 0, `5xx among signups: ${f.statuses}`);
    assert(counts["201"] === 1, `expected exactly one 201, got ${f.statuses}`);
    assert(counts["409"] === 24 && results.every((r) => r.status !== 409 || r.json?.code === "UID_TAKEN"), `expected 24×409 UID_TAKEN, got ${f.statuses}`);
    assert(f.rows === 1, `expected one row for uid racer, found ${f.rows}`);
    const winner = results.find((r) => r.status === 201).json.uid;
    f.winner = winner;
    const login = await api.login(winner, PASSWORD);
    assert(login.status === 200, `the winning signup cannot log in: ${login.status} ${login.body}`);
  });

  let tokens = [];
  test("concurrency: 30 parallel logins of one account → 30×200, 30 distinct tokens", { timeout: CHECK_TIMEOUT_MS }, async (t) => {
    const f = figures(t);
    const results = await Promise.all(range(30).map(() => api.login("racer", PASSWORD, { agent: fresh })));
    f.statuses = tallyText(tally(results));
    tokens = results.map(tokenFrom).filter(Boolean);
    f.distinctTokens = new Set(tokens).size;
    f.distinctJti = new Set(tokens.map((t) => decodeJwtPayload(t)?.jti)).size;
    assert(results.every((r) => r.status === 200), `expected 30×200, got ${f.statuses}`);
    assert(f.distinctTokens === 30 && f.distinctJti === 30, `tokens not distinct: ${f.distinctTokens} tokens, ${f.distinctJti} jti`);
    const checks = await Promise.all(tokens.map((t) => api.whoami(t)));
    // The stored uid keeps the casing of whichever variant won the signup race.
    const working = checks.filter((r) => r.status === 200 && r.json?.uid?.toLowerCase() === "racer").length;
    f.tokensWorking = working;
    assert(working === 30, `only ${working}/30 tokens open GET /api/id: ${tallyText(tally(checks))} ${checks.find((r) => r.status !== 200)?.body ?? ""}`);
  });

  const cookie = (token) => ({ Cookie: `${COOKIE_NAME}=${token}` });

  test("concurrency: 20 parallel logouts of one session → all 200, revoked once", { timeout: CHECK_TIMEOUT_MS }, async (t) => {
    const f = figures(t);
    const token = tokenFrom(await api.login("racer", PASSWORD));
    const results = await Promise.all(range(20).map(() => api.logout(token, { agent: fresh })));
    f.statuses = tallyText(tally(results));
    const jti = decodeJwtPayload(token).jti;
    f.revokedRows = api.query("SELECT count(*) AS n FROM RevokedToken WHERE jti = ?", [jti]).n;
    const after = await api.whoami(token);
    f.tokenAfter = after.json?.code ?? after.status;
    assert(results.every((r) => r.status === 200), `logouts: ${f.statuses}`);
    assert(f.revokedRows === 1 && f.tokenAfter === "TOKEN_REVOKED", `after 20 logouts: ${f.revokedRows} rows, token answers ${f.tokenAfter}`);
  });

  test("concurrency: 10 users renaming themselves to one uid at once → one 200, nine 409", { timeout: CHECK_TIMEOUT_MS }, async (t) => {
    const f = figures(t);
    const tokens = [];
    for (const i of range(10)) {
      assert((await api.signup(`renamer-${i}`, PASSWORD)).status === 201, "cannot create the renamers");
      tokens.push(tokenFrom(await api.login(`renamer-${i}`, PASSWORD)));
    }
    const results = await Promise.all(tokens.map((t) => api.request({ method: "PUT", path: "/api/user", headers: cookie(t), body: { uid: "Wanted", currentPassword: PASSWORD }, agent: fresh })));
    f.statuses = tallyText(tally(results));
    f.rows = api.query("SELECT count(*) AS n FROM User WHERE uidKey = 'wanted'").n;
    assert(results.filter((r) => r.status === 200).length === 1 && results.filter((r) => r.status === 409 && r.json?.code === "UID_TAKEN").length === 9, `renames: ${f.statuses}`);
    assert(f.rows === 1, `${f.rows} rows own the uid 'wanted'`);
  });

  test("concurrency: 10 parallel admin deletes of one user → one 204, nine 404", { timeout: CHECK_TIMEOUT_MS }, async (t) => {
    const f = figures(t);
    assert((await api.signup("doomed", PASSWORD)).status === 201, "cannot create the user to delete");
    const admin = tokenFrom(await api.login("admin", "password"));
    const results = await Promise.all(range(10).map(() => api.request({ method: "DELETE", path: "/api/user/doomed", headers: cookie(admin), agent: fresh })));
    f.statuses = tallyText(tally(results));
    assert(results.filter((r) => r.status === 204).length === 1 && results.filter((r) => r.status === 404 && r.json?.code === "USER_NOT_FOUND").length === 9, `deletes: ${f.statuses}`);
  });

  test("concurrency: two admins demoting / deleting each other at once → one LAST_ADMIN, an admin remains", { timeout: CHECK_TIMEOUT_MS }, async (t) => {
    const f = figures(t);
    const admin = tokenFrom(await api.login("admin", "password"));
    const rounds = [];
    for (const [round, mode] of [[0, "demote"], [1, "demote"], [2, "delete"]]) {
      // Exactly two admins, a and b; the seeded admin hands over and steps down.
      const [a, b] = [`boss-a${round}`, `boss-b${round}`];
      for (const uid of [a, b]) {
        assert((await api.signup(uid, PASSWORD)).status === 201, `cannot create ${uid}`);
        const promote = await api.request({ method: "PUT", path: `/api/user/${uid}`, headers: cookie(round === 0 ? admin : rounds.at(-1).survivorToken), body: { role: "Admin" } });
        assert(promote.status === 200, `cannot promote ${uid}: ${promote.status} ${promote.body}`);
      }
      const tokenA = tokenFrom(await api.login(a, PASSWORD));
      const tokenB = tokenFrom(await api.login(b, PASSWORD));
      for (const other of api.query("SELECT uid FROM User WHERE role = 'Admin' AND uid NOT IN (?, ?)", [a, b], { all: true })) {
        const step = await api.request({ method: "PUT", path: `/api/user/${other.uid}`, headers: cookie(tokenA), body: { role: "User" } });
        assert(step.status === 200, `cannot demote ${other.uid}: ${step.status}`);
      }
      // The password reset makes each request wait for bcrypt between its check and its write.
      const act = (token, target) =>
        mode === "demote"
          ? api.request({ method: "PUT", path: `/api/user/${target}`, headers: cookie(token), body: { role: "User", password: "reset-password-1" }, agent: fresh })
          : api.request({ method: "DELETE", path: `/api/user/${target}`, headers: cookie(token), agent: fresh });
      const results = await Promise.all([act(tokenA, b), act(tokenB, a)]);
      const admins = api.query("SELECT uid FROM User WHERE role = 'Admin'", [], { all: true }).map((r) => r.uid);
      const outcome = `${mode}:${results.map((r) => r.json?.code ?? r.status).join("/")}→admins=${admins.length}`;
      const survivor = admins[0];
      // The survivor's own demotion (and its password reset) was refused, so its password is unchanged.
      rounds.push({ outcome, survivorToken: survivor ? tokenFrom(await api.login(survivor, PASSWORD)) : null });
      assert(results.every((r) => !is5xx(r)), `5xx: ${outcome}`);
      assert(admins.length >= 1, `no admin left: ${outcome}`);
      if (mode === "demote") assert(results.filter((r) => r.json?.code === "LAST_ADMIN").length === 1, `expected one LAST_ADMIN: ${outcome}`);
      if (!rounds.at(-1).survivorToken) throw new Error(`cannot log in the surviving admin ${survivor}`);
    }
    f.rounds = rounds.map((r) => r.outcome).join(" ");
  });

  test("concurrency: 200 connections reading GET /api/id during signups and logins → no 5xx", { timeout: CHECK_TIMEOUT_MS }, async (t) => {
    const f = figures(t);
    const token = tokens[0] ?? tokenFrom(await api.login("racer", PASSWORD));
    assert(token, "no session token to read with");
    let stop = false;
    const writes = { signup: [], login: [] };
    const writer = async (kind, worker) => {
      for (let i = 0; !stop; i++) {
        const res = kind === "signup" ? await api.signup(`load-${worker}-${i}`, PASSWORD) : await api.login("racer", PASSWORD);
        writes[kind].push(res);
      }
    };
    const writers = [...range(4).map((w) => writer("signup", w)), ...range(4).map((w) => writer("login", w))];
    // One second of warm-up (JIT, connection setup) so the figures describe the steady state.
    await autocannon({ url: `${api.url}/api/id`, connections: 200, duration: 1, headers: { cookie: `${COOKIE_NAME}=${token}` } });
    let reads;
    try {
      reads = await autocannon({
        url: `${api.url}/api/id`,
        connections: 200,
        duration: 6,
        timeout: 10,
        headers: { cookie: `${COOKIE_NAME}=${token}` },
      });
    } finally {
      stop = true;
      await Promise.all(writers);
    }
    const allWrites = [...writes.signup, ...writes.login];
    f.reads = reads.requests.total;
    f.readRps = Math.round(reads.requests.average);
    f.readP50Ms = reads.latency.p50;
    f.readP99Ms = reads.latency.p99;
    f.readMaxMs = reads.latency.max;
    f.read5xx = reads["5xx"];
    f.readNon2xx = reads.non2xx;
    f.readErrors = reads.errors + reads.timeouts;
    f.signups = writes.signup.length;
    f.logins = writes.login.length;
    f.writeStatuses = tallyText(tally(allWrites));
    f.writeP99Ms = round(percentile(allWrites.map((r) => r.ms), 99), 0);
    assert(f.reads >= 200, `only ${f.reads} reads were made`);
    assert(f.read5xx === 0 && f.readNon2xx === 0, `reads not all 200: ${JSON.stringify(reads.statusCodeStats)}`);
    assert(f.readErrors === 0, `${reads.errors} read errors, ${reads.timeouts} timeouts`);
    assert(allWrites.filter(is5xx).length === 0, `5xx among writes: ${f.writeStatuses}`);
    assert(writes.signup.every((r) => r.status === 201) && writes.login.every((r) => r.status === 200), `writes failed: ${f.writeStatuses}`);
    const rows = api.query("SELECT count(*) AS n FROM User WHERE uid LIKE 'load-%'").n;
    f.rowsWritten = rows;
    assert(rows === f.signups, `${f.signups} signups answered 201 but ${rows} rows exist`);
  });
});
