// Timing: a login for an unknown uid must cost what a wrong password for a real uid costs (the dummy hash,
// docs/api.md › Abuse resistance), so response times do not reveal which uids exist.
import assert from "node:assert/strict";
import { before, describe, test } from "node:test";
import { median, percentile, prng, range, round } from "../lib/stats.mjs";
import { blockOwner, suiteTimeLeft } from "../lib/suite.mjs";
import { CHECK_TIMEOUT_MS, figures, SETUP_TIMEOUT_MS, startApi } from "./lib.mjs";

const PAIRS = 150;
const WARMUP = 20;
const LIMIT_PERCENT = 25;

describe("timing", { timeout: suiteTimeLeft() }, () => {
  const group = blockOwner();
  let api;
  before(async () => {
    api = await startApi(group, {
      env: {
        BCRYPT_ROUNDS: "8",
        RATE_LIMIT_LOGIN_PER_IP: "1000000",
        RATE_LIMIT_SIGNUP_PER_IP: "1000000",
        LOGIN_MAX_FAILURES: "1000",
      },
    });
    // Every existing account was hashed at this server's cost (seeded at startup), like the dummy hash.
    const target = await api.signup("timing-target", "quartz-meadow-17");
    if (target.status !== 201) throw new Error(`cannot create the timing account: ${target.status}`);
  }, { timeout: SETUP_TIMEOUT_MS });

  test(`timing: median login time, unknown uid vs wrong password, differs by < ${LIMIT_PERCENT}% (BCRYPT_ROUNDS=8)`, { timeout: CHECK_TIMEOUT_MS }, async (t) => {
    const f = figures(t);
    const r = prng(7);
    const attempt = (kind, i) => (kind === "unknown" ? api.login(`ghost-${i}-${r.int(1e9)}`, "wrong-password-1") : api.login("timing-target", `wrong-password-${i}`));
    for (const i of range(WARMUP)) await attempt(i % 2 ? "unknown" : "wrong", i);
    const samples = { unknown: [], wrong: [] };
    // Sequential, interleaved in a random order per pair, so drift and noise hit both kinds alike.
    for (const i of range(PAIRS)) {
      const order = r.chance(0.5) ? ["unknown", "wrong"] : ["wrong", "unknown"];
      for (const kind of order) {
        const res = await attempt(kind, i);
        assert(res.status === 401 && res.json?.code === "INVALID_CREDENTIALS", `${kind} login answered ${res.status} ${res.body}`);
        samples[kind].push(res.ms);
      }
    }
    const unknown = median(samples.unknown);
    const wrong = median(samples.wrong);
    const diff = (Math.abs(unknown - wrong) / Math.min(unknown, wrong)) * 100;
    f.samplesEach = PAIRS;
    f.unknownMedianMs = round(unknown, 2);
    f.wrongPasswordMedianMs = round(wrong, 2);
    f.unknownP90Ms = round(percentile(samples.unknown, 90), 2);
    f.wrongPasswordP90Ms = round(percentile(samples.wrong, 90), 2);
    f.differencePercent = round(diff, 1);
    assert(diff < LIMIT_PERCENT, `medians differ by ${f.differencePercent}% (unknown ${f.unknownMedianMs} ms, wrong password ${f.wrongPasswordMedianMs} ms)`);
  });
});
