// Brute force: parallel guesses against the per-account lock, the lock's refusal of the right password and
// its expiry, and whether X-Forwarded-For can dodge the per-IP login limit (it must not, unless TRUST_PROXY).
import assert from "node:assert/strict";
import http from "node:http";
import { before, describe, test } from "node:test";
import { range, tally, tallyText } from "../lib/stats.mjs";
import { blockOwner, suiteTimeLeft } from "../lib/suite.mjs";
import { CHECK_TIMEOUT_MS, figures, now, SETUP_TIMEOUT_MS, sleep, startApi } from "./lib.mjs";

const MAX_FAILURES = 5;
const LOCK_SECONDS = 2;
const IP_LIMIT = 5;
// Must pass the password rule (docs/api.md › `<user>` and field rules): not guessable, no uid in it.
const PASSWORD = "orbit-lantern-42";

const isLimited = (r) => r.status === 429 && r.json?.code === "RATE_LIMITED" && /^\d+$/.test(r.headers?.["retry-after"] ?? "");
const isRefusedCredentials = (r) => r.status === 401 && r.json?.code === "INVALID_CREDENTIALS";

describe("brute force", { timeout: suiteTimeLeft() }, () => {
  const group = blockOwner();
  const fresh = new http.Agent({ keepAlive: false, maxSockets: Infinity });
  let api;
  before(async () => {
    api = await startApi(group, {
      env: {
        BCRYPT_ROUNDS: "8",
        LOGIN_MAX_FAILURES: String(MAX_FAILURES),
        LOGIN_LOCK_SECONDS: String(LOCK_SECONDS),
        RATE_LIMIT_LOGIN_PER_IP: "1000000",
        RATE_LIMIT_SIGNUP_PER_IP: "1000000",
      },
    });
    for (const uid of ["victim", "victim2"]) {
      const res = await api.signup(uid, PASSWORD);
      if (res.status !== 201) throw new Error(`cannot create ${uid}: ${res.status} ${res.body}`);
    }
  }, { timeout: SETUP_TIMEOUT_MS });

  test(`brute force: 20 parallel wrong guesses → at most LOGIN_MAX_FAILURES=${MAX_FAILURES} checked, rest 429`, { timeout: CHECK_TIMEOUT_MS }, async (t) => {
    const f = figures(t);
    const outcomes = {};
    for (const uid of ["victim", "no-such-user-7"]) {
      const results = await Promise.all(range(20).map((i) => api.login(uid, `wrong-guess-${i}`, { agent: fresh })));
      const checked = results.filter(isRefusedCredentials).length;
      const limited = results.filter(isLimited).length;
      outcomes[uid] = { checked, limited, statuses: tallyText(tally(results)) };
      assert(checked + limited === 20, `${uid}: unexpected answers ${outcomes[uid].statuses}`);
      assert(checked >= 1 && checked <= MAX_FAILURES, `${uid}: ${checked} guesses were checked (limit ${MAX_FAILURES})`);
    }
    f.existingUid = `401×${outcomes.victim.checked} 429×${outcomes.victim.limited}`;
    f.unknownUid = `401×${outcomes["no-such-user-7"].checked} 429×${outcomes["no-such-user-7"].limited}`;
    // The lock must not reveal which uids exist: an unknown uid is locked exactly like a real one.
    assert(outcomes.victim.checked === outcomes["no-such-user-7"].checked, "the lock treats unknown uids differently from real ones");
  });

  test(`brute force: the lock refuses the right password (429) and expires after LOGIN_LOCK_SECONDS=${LOCK_SECONDS}`, { timeout: CHECK_TIMEOUT_MS }, async (t) => {
    const f = figures(t);
    const guesses = await Promise.all(range(10).map((i) => api.login("victim2", `wrong-${i}`, { agent: fresh })));
    const lockedAt = now(); // the lock began before this: every 429 above was answered before now
    assert(guesses.some(isLimited), `the account did not lock: ${tallyText(tally(guesses))}`);
    const right = await api.login("victim2", PASSWORD);
    f.rightPasswordWhileLocked = right.status;
    f.retryAfter = right.headers?.["retry-after"];
    assert(isLimited(right), `the right password was not refused during the lock: ${right.status} ${right.body}`);
    assert(Number(f.retryAfter) >= 1 && Number(f.retryAfter) <= LOCK_SECONDS, `Retry-After ${f.retryAfter} is not within 1..${LOCK_SECONDS}`);
    await sleep(lockedAt + (LOCK_SECONDS * 1000) / 2 - now());
    const midway = await api.login("victim2", PASSWORD);
    f.atHalfLock = midway.status;
    assert(isLimited(midway), `the lock ended early: ${midway.status} after ${LOCK_SECONDS / 2} s`);
    await sleep(lockedAt + LOCK_SECONDS * 1000 + 250 - now());
    const after = await api.login("victim2", PASSWORD);
    f.afterLock = after.status;
    f.unlockedAfterMs = Math.round(now() - lockedAt);
    assert(after.status === 200, `still refused after ${LOCK_SECONDS} s: ${after.status} ${after.body}`);
    // Informational: simultaneous *correct* logins also reserve lock points, so more than the limit at once are refused.
    const burst = await Promise.all(range(10).map(() => api.login("victim2", PASSWORD, { agent: fresh })));
    f.tenParallelCorrectLogins = tallyText(tally(burst));
  });

  test(`brute force: rotating X-Forwarded-For does not bypass RATE_LIMIT_LOGIN_PER_IP=${IP_LIMIT} without TRUST_PROXY`, { timeout: CHECK_TIMEOUT_MS }, async (t) => {
    const f = figures(t);
    const noProxy = await startApi(t, { env: { BCRYPT_ROUNDS: "8", RATE_LIMIT_LOGIN_PER_IP: String(IP_LIMIT) } });
    const results = [];
    for (const i of range(12)) {
      const ip = `198.51.100.${i + 1}`;
      const headers = { "X-Forwarded-For": ip, "X-Real-IP": ip, Forwarded: `for=${ip}`, "CF-Connecting-IP": ip, "True-Client-IP": ip };
      results.push(await noProxy.login(`xff-probe-${i}`, "wrong-password", { headers }));
    }
    f.checked = results.filter(isRefusedCredentials).length;
    f.limited = results.filter(isLimited).length;
    assert(f.checked === IP_LIMIT && f.limited === 12 - IP_LIMIT, `12 logins from 12 forged IPs: ${tallyText(tally(results))} (limit ${IP_LIMIT})`);
  });

  test("brute force: TRUST_PROXY=true counts each client IP separately and ignores entries a client forged", { timeout: CHECK_TIMEOUT_MS }, async (t) => {
    const f = figures(t);
    const behindProxy = await startApi(t, { env: { BCRYPT_ROUNDS: "8", RATE_LIMIT_LOGIN_PER_IP: String(IP_LIMIT), TRUST_PROXY: "true" } });
    const from = (ip, i) => behindProxy.login(`proxied-${i}`, "wrong-password", { headers: { "X-Forwarded-For": ip } });
    const perClient = {};
    for (const ip of ["192.0.2.10", "192.0.2.11", "192.0.2.12"]) {
      const results = [];
      for (const i of range(IP_LIMIT + 1)) results.push(await from(ip, i));
      perClient[ip] = results;
      const passed = results.slice(0, IP_LIMIT).every(isRefusedCredentials);
      assert(passed && isLimited(results[IP_LIMIT]), `${ip}: ${tallyText(tally(results))} (expected ${IP_LIMIT}×401 then 429)`);
    }
    f.perClient = `3 IPs × (401×${IP_LIMIT} then 429)`;
    const newcomer = await from("192.0.2.99", 0);
    f.newIp = newcomer.status;
    assert(isRefusedCredentials(newcomer), `a new client IP was refused: ${newcomer.status}`);
    // A proxy appends the address it saw; a client controls everything to the left of it. An exhausted
    // client prepending forged entries must still be counted as itself.
    const spoofed = [];
    for (const i of range(5)) spoofed.push(await from(`203.0.113.${i + 1}, 192.0.2.10`, i));
    f.forgedPrefix = tallyText(tally(spoofed));
    assert(spoofed.every(isLimited), `forged X-Forwarded-For entries bypassed the limit of 192.0.2.10: ${f.forgedPrefix}`);
  });
});
