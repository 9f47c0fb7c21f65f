// Hostile input at volume: a seeded PRNG sends thousands of malformed requests (bad JSON, wrong types, huge
// and deeply nested bodies, __proto__ keys, invalid UTF-8, corrupt gzip, odd methods and headers, malformed
// HTTP framing, forged cookies and JWTs). The API must never answer 5xx (other than 503), never accept a
// forged credential, always use the error shape (docs/api.md › Errors), stay up with bounded memory, and leave the
// existing users exactly as they were.
import assert from "node:assert/strict";
import crypto from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { before, describe, test } from "node:test";
import zlib from "node:zlib";
import { pool, prng, round } from "../lib/stats.mjs";
import { blockOwner, suiteTimeLeft } from "../lib/suite.mjs";
import { CHECK_TIMEOUT_MS, COOKIE_NAME, figures, isErrorBody, now, rawExchange, rssBytes, SETUP_TIMEOUT_MS, sleep, startApi, tokenFrom } from "./lib.mjs";

const SEED = Number(process.env.RELIABILITY_SEED ?? 20261121);
const REQUESTS = 6000;
const CONCURRENCY = 24;
const RSS_LIMIT_MB = 60;
// Passwords pass the rule (docs/api.md › `<user>` and field rules), so a refusal below is never only about them.
const FUZZ_PASSWORD = "amber-quiver-93";
const STRONG_PASSWORD = "velvet-harbor-58";
const USER_KEYS = "createdAt,email,emailVerified,id,mfaEnabled,name,role,uid,updatedAt";
const LEAK = /SQLITE|Prisma|node_modules|\bat [\w.<>]+ \(|\/work\/|\/tmp\/|\.[jt]s:\d+/;

// ---- building blocks -------------------------------------------------------------------------------------

const b64 = (value) => Buffer.from(typeof value === "string" ? value : JSON.stringify(value)).toString("base64url");
const hmac = (secret, data) => crypto.createHmac("sha256", secret).update(data).digest("base64url");
const jwt = (header, payload, secret) => {
  const data = `${b64(header)}.${b64(payload)}`;
  return `${data}.${secret ? hmac(secret, data) : ""}`;
};

function strings(r) {
  const pieces = [
    "", " ", "a", "admin", "ADMIN", "user", "nx-" + r.int(1e6), "a".repeat(r.pick([39, 40, 73, 101, 1025, 5000])),
    "\u0000", "\u202e", "😀".repeat(20), "\ud800", "' OR 1=1 --", "<script>alert(1)</script>", "../../etc/passwd",
    "%00", "${jndi:ldap://x}", "null", "__proto__", "constructor", "toString", "a@b", "x".repeat(8) + "\u00e9".repeat(40),
  ];
  return r.pick(pieces);
}

function anyValue(r, depth = 0) {
  switch (r.int(depth > 2 ? 6 : 9)) {
    case 0: return null;
    case 1: return r.chance(0.5);
    case 2: return r.pick([0, -1, 1.5, 1e308, -0, 2 ** 53 + 1, 12345678901234567890]);
    case 3: case 4: case 5: return strings(r);
    case 6: return [anyValue(r, depth + 1), anyValue(r, depth + 1)];
    case 7: return { $gt: "", [strings(r)]: anyValue(r, depth + 1) };
    default: return {};
  }
}

const FIELDS = ["uid", "password", "name", "email", "role", "currentPassword"];

/** A body that is JSON but has wrong types, lengths, unknown keys or duplicate-ish keys. */
function wrongTypes(r, safeUid) {
  const body = {};
  for (const field of FIELDS) if (r.chance(0.6)) body[field] = anyValue(r);
  if (r.chance(0.3)) body[strings(r) || "extra"] = anyValue(r);
  if (typeof body.uid === "string" && safeUid) body.uid = safeUid(body.uid);
  return JSON.stringify(body);
}

const BAD_JSON = [
  "{", "}", "{\"uid\":", "{\"uid\":\"a\",}", "{'uid':'a'}", "undefined", "NaN", "[1,2", "{\"a\":1}}", "\"str\"", "123", "null",
  "true", "[]", "{\"uid\":\"a\" \"password\":\"b\"}", "\u0000", "{\"uid\":\"\\uZZZZ\"}", "{\"a\":1e999999}", "{\"__proto__\":",
  "\ufeff{\"uid\":\"a\",\"password\":\"b\"}", "{\"uid\":\"a\"/*c*/}", "{\"uid\":\"a\"}\n{\"uid\":\"b\"}", "{\"a\":0x10}", "{\"a\":.5}",
  "{\"a\":\"\\x41\"}", "{\"a\":\"line\nbreak\"}", "  ", "{\"uid\":\"a\",\"uid\":\"b\",\"password\":\"cccccccc\"}",
];

function badJson(r) {
  if (r.chance(0.2)) return r.bytes(1 + r.int(300));
  return r.pick(BAD_JSON);
}

function deepBody(r) {
  const depth = r.pick([100, 1000, 3000, 5000, 8000]);
  switch (r.int(4)) {
    case 0: return "[".repeat(depth) + "]".repeat(depth);
    case 1: return "{\"a\":".repeat(Math.min(depth, 3000)) + "1" + "}".repeat(Math.min(depth, 3000));
    case 2: return `{"uid":${"[".repeat(depth)}${"]".repeat(depth)},"password":"x"}`;
    default: return "[".repeat(depth); // unterminated
  }
}

function protoBody(r, safeUid) {
  const uid = safeUid ? safeUid("proto") : `proto-${r.int(1e6)}`;
  return r.pick([
    `{"__proto__":{"role":"Admin","isAdmin":true},"uid":"${uid}","name":"Proto Type","password":"${STRONG_PASSWORD}"}`,
    `{"constructor":{"prototype":{"role":"Admin"}},"uid":"${uid}","name":"Proto Type","password":"${STRONG_PASSWORD}"}`,
    `{"uid":"${uid}","name":"Proto Type","password":"${STRONG_PASSWORD}","role":"Admin"}`,
    `{"uid":{"__proto__":{"toString":"x"}},"password":{"__proto__":null}}`,
    `{"name":{"__proto__":{"length":3}},"email":{"constructor":{"name":"x"}}}`,
    `{"__proto__":{"__proto__":{"polluted":"yes"}},"role":"Admin"}`,
    `{"toString":"x","valueOf":"y","hasOwnProperty":"z"}`,
  ]);
}

function utf8Body(r) {
  const bad = r.pick([Buffer.from([0xff, 0xfe]), Buffer.from([0xc0, 0xaf]), Buffer.from([0xed, 0xa0, 0x80]), Buffer.from([0xe2, 0x28, 0xa1]), Buffer.from([0xf8, 0x88, 0x80, 0x80, 0x80]), r.bytes(8)]);
  const parts = [Buffer.from('{"uid":"u'), bad, Buffer.from('","password":"p'), bad, Buffer.from('xxxxxxxx","name":"n'), bad, Buffer.from('n"}')];
  if (r.chance(0.2)) parts.unshift(Buffer.from([0xef, 0xbb, 0xbf]));
  if (r.chance(0.1)) return Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from('{"uid":"a"}', "utf16le")]);
  if (r.chance(0.2)) return '{"uid":"\\ud800\\udbff","password":"\\udfff\\ud800aaaa","name":"\\u0000\\u0000"}';
  return Buffer.concat(parts);
}

// ---- the request generator -------------------------------------------------------------------------------

function makeGenerator(r, ctx) {
  const { userToken, adminToken, secret, kid, ids } = ctx;
  const cookie = (token) => ({ Cookie: `${COOKIE_NAME}=${token}` });
  const safeUid = (uid) => `nx-${String(uid).slice(0, 30)}`; // admin-token targets never name a real user
  const gzipBomb = zlib.gzipSync(Buffer.alloc(8 * 1024 * 1024, 0x20));
  const validGzip = zlib.gzipSync(Buffer.from(JSON.stringify({ uid: "user", password: "wrong-password" })));

  /** A route that takes a body, with whatever credential it can safely be fuzzed with. */
  const bodyRoute = () =>
    r.pick([
      { method: "POST", path: "/api/authenticate" },
      { method: "POST", path: "/api/user" },
      { method: "PUT", path: "/api/user", headers: cookie(userToken) },
      { method: "DELETE", path: "/api/user", headers: cookie(adminToken), safeUid },
      { method: "PUT", path: `/api/user/nx-${r.int(1000)}`, headers: cookie(adminToken), safeUid },
      { method: "DELETE", path: "/api/authenticate" },
      { method: "PUT", path: "/api/user" }, // no credential at all
    ]);

  const forgedTokens = () => {
    const nowS = Math.floor(Date.now() / 1000);
    const good = { sub: String(r.pick(ids)), jti: crypto.randomUUID(), ver: 0, iat: nowS, exp: nowS + 600, iss: "crossauth" };
    const header = { alg: "HS256", typ: "JWT", kid };
    const wrongKey = crypto.randomBytes(32).toString("hex");
    return r.pick([
      // Signed with the real key but with claims the API must refuse.
      () => jwt(header, { ...good, exp: nowS + 7200 }, secret),
      () => jwt(header, { ...good, iat: nowS + 3600, exp: nowS + 3900 }, secret),
      () => jwt(header, { ...good, exp: undefined }, secret),
      () => jwt(header, { ...good, exp: String(nowS + 600) }, secret),
      () => jwt(header, { ...good, exp: nowS - 10, iat: nowS - 100 }, secret),
      () => jwt(header, { ...good, sub: r.pick(["0", "1e3", " 1", "-1", "99999999999999999", "1.0", "", "admin"]) }, secret),
      () => jwt(header, { ...good, sub: Number(good.sub) }, secret),
      () => jwt(header, { ...good, ver: r.pick([-1, "0", 1.5, 99, null]) }, secret),
      () => jwt(header, { ...good, jti: r.pick([undefined, "", "j".repeat(65), 7]) }, secret),
      () => jwt(header, { ...good, iss: r.pick([undefined, "evil", ""]) }, secret),
      () => jwt(header, r.pick([[1, 2], "string", 42, null]), secret),
      () => jwt({ ...header, kid: r.pick(["nope", "../../etc/passwd", "", 7]) }, good, secret),
      () => jwt({ ...header, alg: r.pick(["HS512", "HS384", "none", "None", "RS256", "ES256", ""]) }, good, secret),
      // Not signed with the real key at all.
      () => jwt(header, good, wrongKey),
      () => jwt({ alg: "none", typ: "JWT" }, good, null),
      () => jwt({ alg: "none", kid }, good, null) + "x",
      () => `${b64(header)}.${b64(good)}`,
      () => `${b64(header)}.${b64(good)}.${hmac(secret, "something else")}.extra`,
      () => r.bytes(40).toString("base64"),
      () => "a.b.c",
      () => "x".repeat(r.pick([1, 500, 4000])),
      () => jwt(header, { ...good, pad: "p".repeat(6000) }, wrongKey),
      () => (userToken.slice(0, -3) + "AAA"),
      () => userToken.split(".").reverse().join("."),
    ])();
  };

  const guarded = () =>
    r.pick([
      { method: "GET", path: "/api/id" },
      { method: "GET", path: "/api/user" },
      { method: "PUT", path: "/api/user", body: '{"name":"Forged Name"}' },
      { method: "PUT", path: "/api/user/user", body: '{"role":"Admin"}' },
      { method: "DELETE", path: "/api/user/user" },
      { method: "DELETE", path: "/api/user", body: '{"uid":"admin"}' },
      { method: "DELETE", path: "/api/authenticate?all=true" },
    ]);

  const categories = [
    ["bad-json", 14, () => ({ ...bodyRoute(), body: badJson(r), contentType: "application/json" })],
    ["wrong-types", 14, () => {
      const route = bodyRoute();
      return { ...route, body: wrongTypes(r, route.safeUid), contentType: "application/json" };
    }],
    ["huge-body", 3, () => {
      const size = r.pick([16 * 1024 + 1, 20_000, 64_000, 256_000, r.chance(0.3) ? 1_000_000 : 40_000]);
      const body = `{"uid":"${"a".repeat(size)}","password":"x"}`;
      return { ...bodyRoute(), body, contentType: "application/json", chunked: r.chance(0.4), oversize: true };
    }],
    ["deep-nesting", 5, () => ({ ...bodyRoute(), body: deepBody(r), contentType: "application/json" })],
    ["proto-keys", 7, () => {
      const route = bodyRoute();
      return { ...route, body: protoBody(r, route.safeUid), contentType: "application/json" };
    }],
    ["invalid-utf8", 7, () => ({ ...bodyRoute(), body: utf8Body(r), contentType: r.pick(["application/json", "application/json; charset=utf-8"]) })],
    ["encoding", 8, () => {
      const choice = r.int(8);
      const route = r.pick([{ method: "POST", path: "/api/authenticate" }, { method: "POST", path: "/api/user" }]);
      const encodings = [
        ["gzip", Buffer.concat([Buffer.from([0x1f, 0x8b, 0x08, 0x00]), r.bytes(60)])],
        ["gzip", validGzip.subarray(0, 10 + r.int(validGzip.length - 12))],
        ["gzip", gzipBomb],
        ["deflate", r.bytes(50)],
        ["br", r.bytes(50)],
        [r.pick(["compress", "x-evil", "gzip, gzip", "identity, gzip", "GZIP"]), r.bytes(30)],
        ["gzip", validGzip],
        ["gzip", Buffer.from('{"uid":"plain","password":"not gzip"}')],
      ];
      const [encoding, body] = encodings[choice];
      return { ...route, body, contentType: "application/json", headers: { "Content-Encoding": encoding }, oversize: choice === 2 };
    }],
    ["content-type", 6, () => {
      const route = bodyRoute();
      const body = r.pick(['{"uid":"user","password":"password"}', "uid=user&password=password", "--b\r\nContent-Disposition: form-data; name=\"uid\"\r\n\r\nuser\r\n--b--"]);
      const contentType = r.pick([
        "text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=b", "application/json; charset=utf-16",
        "application/json; charset=latin1", "application/json; charset=evil", "application/json;;;", "APPLICATION/JSON",
        "application/json+evil", "application/vnd.api+json", "application/jsonx", "*/*", "", "application/json; boundary=x; charset=utf-8",
      ]);
      return { ...route, body, contentType, noContentType: contentType === "" };
    }],
    ["odd-method", 6, () => {
      const method = r.pick(["PATCH", "HEAD", "OPTIONS", "TRACE", "PROPFIND", "PURGE", "SEARCH", "LOCK", "MKCOL", "COPY", "M-SEARCH", "UNLINK", "GET", "DELETE"]);
      const headers = {};
      if (method === "OPTIONS" && r.chance(0.7)) {
        headers.Origin = r.pick(["http://localhost:4100", "http://evil.example", "null"]);
        headers["Access-Control-Request-Method"] = r.pick(["POST", "PUT", "DELETE", "PATCH", "GET"]);
        headers["Access-Control-Request-Headers"] = r.pick(["content-type", "x-origin, content-type", "authorization", "x-evil"]);
      }
      const body = r.chance(0.3) ? '{"uid":"user","password":"password"}' : undefined;
      return { method, path: r.pick(["/api/id", "/api/user", "/api/authenticate", "/api/health", "/api/user/nx-1", "/"]), headers, body, contentType: body ? "application/json" : undefined };
    }],
    ["odd-headers", 8, () => {
      const headers = {};
      const pick = r.int(9);
      if (pick === 0) headers.Origin = r.pick(["null", "http://evil.example", "http://localhost:4100.evil.example", "HTTP://LOCALHOST:4100", "http://localhost:4100/"]);
      if (pick === 1) headers.Host = r.pick(["evil.example", "localhost:1", "", "[::1]", "a".repeat(300)]);
      if (pick === 2) headers["X-Forwarded-For"] = r.pick(["garbage", "1.2.3.4, , ,", "::ffff:1.2.3.4", "999.999.999.999", "a".repeat(500)]);
      if (pick === 3) headers.Cookie = Array.from({ length: 100 }, (_, i) => `c${i}=${"v".repeat(r.int(60))}`).join("; ");
      if (pick === 4) headers.Cookie = `${COOKIE_NAME}=${"%".repeat(r.int(50))}%ZZ; other=%E0%A4%A`;
      if (pick === 5) headers["Content-Length"] = "0";
      if (pick === 6) headers.Accept = r.pick(["*/*;q=abc", "text/html", "application/json;q=0", "\u00ff"]);
      if (pick === 7) headers["X-Origin"] = "x".repeat(4000);
      if (pick === 8) headers.Expect = "100-continue";
      const route = r.pick([{ method: "POST", path: "/api/authenticate", body: '{"uid":"user","password":"wrong-password"}' }, { method: "GET", path: "/api/id" }, { method: "POST", path: "/api/user", body: '{"uid":"nx-hdr","name":"Hdr","password":"short"}' }, { method: "GET", path: "/api/health" }]);
      return { ...route, headers, contentType: route.body && pick !== 5 ? "application/json" : undefined, body: pick === 5 ? undefined : route.body };
    }],
    ["forged-credentials", 14, () => {
      const route = guarded();
      const token = forgedTokens();
      const how = r.int(6);
      const headers =
        how === 0 ? { Authorization: `Bearer ${token}` }
        : how === 1 ? { Cookie: `${COOKIE_NAME}=${token}; ${COOKIE_NAME}=${token}x` }
        : how === 2 ? { Cookie: `other=1; ${COOKIE_NAME}=${token}; more=2` }
        : how === 3 ? { Cookie: `${COOKIE_NAME.toLowerCase()}=${userToken}`, Authorization: `Basic ${b64("admin:password")}` }
        : { Cookie: `${COOKIE_NAME}=${token}` };
      return { ...route, headers, contentType: route.body ? "application/json" : undefined, forbid2xx: true };
    }],
    ["odd-paths", 5, () => {
      const spec = {
        method: r.pick(["GET", "DELETE", "PUT"]),
        path: r.pick([
          "/api/user/%ZZ", "/api/user/%00", "/api/user/%E0%A4%A", "/api/../api/id", "//api/id", "/API/ID", "/api/id/", "/api/id?x=" + "y".repeat(6000),
          "/api/user/" + "a".repeat(3000), "/api/user/nx%2f..%2f..", "/api/%2e%2e/api/id", "/api/user/nx-1?all=true&all=false", "/api/authenticate?all[]=true",
          "/api/user/%F0%9F%98%80", "/api/user/nx-1/extra", "/api", "/api/", "/favicon.ico", "/api/user/nx-1%20",
        ]),
        headers: cookie(r.chance(0.5) ? adminToken : userToken),
      };
      // A real session cookie sent to the logout route would really log out: keep the sessions alive.
      if (spec.path.startsWith("/api/authenticate")) delete spec.headers;
      return spec;
    }],
    ["edge-valid-signup", 2, () => {
      // Valid but extreme: longest uid, 72-byte (multi-byte) and 8-character passwords that pass the strength
      // rule, odd-but-legal names and emails.
      const alphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-";
      const uid = Array.from({ length: 2 + r.int(38) }, () => alphabet[r.int(alphabet.length)]).join("");
      const password = r.pick(["ñÆøþçÐåßœéÿìÕðÁüÑ¿¡µ¶§ÛÎòÉäËÇÝ±÷¤©®«", "😀🐙🚲🌵🎻🧭🪐🍄🦉🧲🎲🪁🧊🦔🐚🦊🐝🌻", "horse battery staple orbit lantern quartz meadow amber quiver seven pbxy", "Qz8#vL2!", "ŝtrange ĉevalo ĵaŭdo ŭmo éclair ñandú çedilla ĝardeno nine!"]);
      const name = r.pick(["Zoë \u202eevil", "李小龙", "😀😀", "a".repeat(100), "  padded name  ", "O'Brien; DROP TABLE User;--"]);
      const email = r.pick([undefined, null, "", "a+b@example.com", "x@xn--bcher-kva.example"]);
      const body = `{"uid":${JSON.stringify(uid)},"name":"${name}","password":${JSON.stringify(password)}${email === undefined ? "" : `,"email":${JSON.stringify(email)}`}}`;
      return { method: "POST", path: "/api/user", body, contentType: "application/json" };
    }],
    ["malformed-http", 3, () => ({ raw: rawCase(r) })],
    ["control", 2, () => r.pick([
      { method: "GET", path: "/api/health", expectStatus: 200 },
      { method: "GET", path: "/api/id", headers: cookie(adminToken), expectStatus: 200 },
    ])],
  ];

  const total = categories.reduce((sum, [, w]) => sum + w, 0);
  return () => {
    let roll = r.int(total);
    for (const [name, weight, make] of categories) {
      if (roll < weight) return { category: name, ...make() };
      roll -= weight;
    }
    throw new Error("unreachable");
  };
}

/** Malformed HTTP/1.1 on a raw socket (things an HTTP client library refuses to send). */
function rawCase(r) {
  const h = "Host: 127.0.0.1\r\n";
  const cases = [
    () => `GET /api/id HTTP/1.1\r\n${h}Content-Length: 5\r\nContent-Length: 6\r\n\r\nhello!`,
    () => `POST /api/authenticate HTTP/1.1\r\n${h}Transfer-Encoding: chunked\r\nContent-Length: 4\r\n\r\n0\r\n\r\n`,
    () => `POST /api/authenticate HTTP/1.1\r\n${h}Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\nZZ\r\nabc\r\n0\r\n\r\n`,
    () => `GET /api/health HTTP/1.1\r\nHost 127.0.0.1\r\n\r\n`,
    () => `GET /api/health HTTP/1.1\r\n${h}X-A: a\u0000b\r\n\r\n`,
    () => `GET /api/health HTTP/1.1\r\n${h}X-A: a\r\n b\r\n\r\n`,
    () => `GET /api/health HTTP/2.0\r\n${h}\r\n`,
    () => `GET /api/health\r\n\r\n`,
    () => `GET /api/health HTTP/1.1\n${h.replace("\r\n", "\n")}\n`,
    () => `GET /api/id HTTP/1.1\r\n${h}X-Big: ${"b".repeat(20_000)}\r\n\r\n`,
    () => `FOO /api/id HTTP/1.1\r\n${h}\r\n`,
    () => `get /api/id HTTP/1.1\r\n${h}\r\n`,
    () => `GET /${"a".repeat(12_000)} HTTP/1.1\r\n${h}\r\n`,
    () => `GET http://evil.example/api/health HTTP/1.1\r\n${h}\r\n`,
    () => Array.from({ length: 20 }, () => `GET /api/health HTTP/1.1\r\n${h}\r\n`).join(""),
    () => r.bytes(200),
    () => `GET /api/health HTTP/1.1\r\n\r\n`,
    () => `POST /api/user HTTP/1.1\r\n${h}Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n5;${"e".repeat(9000)}\r\n{"a":\r\n0\r\n\r\n`,
    () => `POST /api/authenticate HTTP/1.1\r\n${h}Content-Type: application/json\r\nExpect: 100-continue\r\nContent-Length: 40\r\n\r\n{"uid":"user","password":"wrong-pass1"}`,
    () => `POST /api/authenticate HTTP/1.1\r\n${h}Content-Type: application/json\r\nContent-Length: ${r.pick(["-1", "abc", "99999999999999999999", "1, 2"])}\r\n\r\n{}`,
    () => `POST /api/authenticate HTTP/1.1\r\n${h}Content-Type: application/json\r\nTransfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n`,
    () => `GET /api/health HTTP/1.1\r\n${h}${"X-H: v\r\n".repeat(2500)}\r\n`,
    () => Buffer.concat([Buffer.from(`GET /api/\xff\xfe HTTP/1.1\r\n${h}Cookie: ${COOKIE_NAME}=`), r.bytes(30), Buffer.from("\r\n\r\n")]),
    () => `POST /api/user HTTP/1.1\r\n${h}Content-Type: application/json\r\nContent-Length: 300\r\n\r\n{"uid":"half`,
  ];
  const index = r.int(cases.length);
  return { bytes: cases[index](), stalls: index === cases.length - 1 };
}

// ---- the check -------------------------------------------------------------------------------------------

describe("hostile input", { timeout: suiteTimeLeft() }, () => {
  const group = blockOwner();
  let api, userToken, adminToken, secret, kid, usersBefore, rowsBefore, ids;
  const snapshot = () => api.query("SELECT id, uid, uidKey, name, email, role, passwordHash, tokenVersion, createdAt, updatedAt FROM User WHERE uidKey IN ('admin', 'user') ORDER BY id", [], { all: true });
  before(async () => {
    api = await startApi(group, {
      env: {
        BCRYPT_ROUNDS: "4",
        RATE_LIMIT_LOGIN_PER_IP: "1000000",
        RATE_LIMIT_SIGNUP_PER_IP: "1000000",
        LOGIN_MAX_FAILURES: "1000",
        LOGIN_LOCK_SECONDS: "5",
      },
    });
    const created = await api.signup("fuzz-target", FUZZ_PASSWORD);
    if (created.status !== 201) throw new Error(`cannot create the fuzz account: ${created.status}`);
    userToken = tokenFrom(await api.login("fuzz-target", FUZZ_PASSWORD));
    adminToken = tokenFrom(await api.login("admin", "password"));
    if (!userToken || !adminToken) throw new Error("cannot log in before the fuzz");
    secret = fs.readFileSync(path.join(api.dir, ".jwt-secret"), "utf8").trim();
    kid = JSON.parse(Buffer.from(adminToken.split(".")[0], "base64url").toString()).kid;
    usersBefore = snapshot();
    rowsBefore = api.query("SELECT count(*) AS n FROM User").n;
    ids = usersBefore.map((u) => u.id);
  }, { timeout: SETUP_TIMEOUT_MS });

  let findings = null;
  test(`hostile input: ${REQUESTS} seeded malformed requests → no 5xx (except 503), no forged credential accepted, bounded RSS`, { timeout: CHECK_TIMEOUT_MS }, async (t) => {
    const f = figures(t);
    const r = prng(SEED);
    const next = makeGenerator(r, { userToken, adminToken, secret, kid, ids });
    const specs = Array.from({ length: REQUESTS }, next);

    // Warm up (JIT, pools, allocator), then take the RSS baseline. Signups for a taken uid run the password
    // strength check in every worker (each loads its dictionaries once, ~25 MB) and create nothing (409).
    await pool(300, 8, (i) => (i % 2 ? api.request({ path: "/api/health" }) : api.login("user", "wrong-password")));
    await pool(8 * os.availableParallelism(), 4 * os.availableParallelism(), () => api.signup("ADMIN", STRONG_PASSWORD));
    await sleep(300);
    const baseline = rssBytes(api.pid);
    let peak = baseline;
    const sampler = setInterval(() => {
      const rss = rssBytes(api.pid);
      if (rss !== null) peak = Math.max(peak, rss);
    }, 100);

    const problems = [];
    const note = (kind, spec, res) => problems.push(`${kind}: ${spec.category} ${spec.method ?? "RAW"} ${(spec.path ?? "").slice(0, 40)} → ${res.status ?? res.error ?? res.statuses}`);
    const statuses = {};
    const byCategory = {};
    let signups201 = 0;
    let unanswered = 0;
    let rawSilent = 0;
    const started = now();
    await pool(specs.length, CONCURRENCY, async (i) => {
      const spec = specs[i];
      byCategory[spec.category] = (byCategory[spec.category] ?? 0) + 1;
      if (spec.raw) {
        const res = await rawExchange(api.port, spec.raw.bytes, { timeout: spec.raw.stalls ? 500 : 2000 });
        for (const s of res.statuses) statuses[s] = (statuses[s] ?? 0) + 1;
        if (res.statuses.length === 0) rawSilent++;
        if (res.statuses.some((s) => s >= 500 && s !== 503)) note("5xx", spec, res);
        return;
      }
      const headers = { ...(spec.headers ?? {}) };
      if (spec.contentType !== undefined && !spec.noContentType) headers["Content-Type"] = spec.contentType;
      if (spec.chunked) headers["Transfer-Encoding"] = "chunked";
      const res = await api.request({ method: spec.method, path: spec.path, headers, body: spec.body, agent: spec.oversize || spec.chunked ? false : undefined, timeout: 10_000 });
      const key = res.status ?? res.error;
      statuses[key] = (statuses[key] ?? 0) + 1;
      if (!res.status) {
        // An oversized upload may be cut off once the 413 is sent; every other request deserves an answer.
        if (!(spec.oversize && ["ECONNRESET", "EPIPE"].includes(res.error))) {
          unanswered++;
          note("no answer", spec, res);
        }
        return;
      }
      if (res.status >= 500 && res.status !== 503) note("5xx", spec, res);
      if (spec.forbid2xx && res.status < 300) note("forged credential accepted", spec, res);
      if (spec.expectStatus && res.status !== spec.expectStatus) note("control request failed", spec, res);
      if (spec.method === "POST" && spec.path === "/api/user" && res.status === 201) {
        signups201++;
        if (res.json?.role !== "User" || Object.keys(res.json ?? {}).sort().join(",") !== USER_KEYS) note("signup answered an unexpected user", spec, res);
      }
      if (res.json && typeof res.json === "object" && "role" in res.json && res.json.role !== "User" && res.json.role !== "Admin") note("odd role", spec, res);
      const fromApp = Boolean(res.headers["x-request-id"]);
      if (fromApp && res.status >= 400 && spec.method !== "HEAD") {
        if (!isErrorBody(res.json)) note("error body not in the error shape", spec, res);
        if (LEAK.test(res.body)) note("internals leaked in an error body", spec, res);
      }
    });
    const elapsed = now() - started;
    await sleep(500);
    clearInterval(sampler);
    const end = rssBytes(api.pid);
    peak = Math.max(peak, end ?? 0);

    f.seed = SEED;
    f.requests = specs.length;
    f.malformed = specs.filter((spec) => spec.category !== "control" && spec.category !== "edge-valid-signup").length;
    f.rps = Math.round(specs.length / (elapsed / 1000));
    f["5xx"] = Object.entries(statuses).filter(([s]) => Number(s) >= 500 && Number(s) !== 503).reduce((n, [, c]) => n + c, 0);
    f["503"] = statuses[503] ?? 0;
    f.unanswered = unanswered;
    f.rawClosedWithoutAnswer = rawSilent;
    f.statuses = Object.entries(statuses).sort((a, b) => b[1] - a[1]).slice(0, 10).map(([s, c]) => `${s}×${c}`).join(" ");
    f.rssBaselineMb = round(baseline / 2 ** 20);
    f.rssPeakMb = round(peak / 2 ** 20);
    f.rssGrowthMb = round((peak - baseline) / 2 ** 20);
    f.rssEndGrowthMb = end === null ? "gone" : round((end - baseline) / 2 ** 20);
    f.categories = byCategory;
    f.problems = problems.slice(0, 50);
    findings = { signups201 };

    assert(api.alive, `the API process died: ${api.logTail()}`);
    const health = await api.request({ path: "/api/health" });
    assert(health.status === 200, `health after the fuzz: ${health.status ?? health.error}`);
    assert(problems.length === 0, `${problems.length} problems, e.g. ${[...new Set(problems)].slice(0, 4).join(" | ")}`);
    assert(f.rssGrowthMb < RSS_LIMIT_MB, `RSS grew ${f.rssGrowthMb} MB (limit ${RSS_LIMIT_MB} MB)`);
  });

  test("hostile input: existing users intact afterwards (rows, roles, hashes unchanged; they still log in)", { timeout: CHECK_TIMEOUT_MS }, async (t) => {
    const f = figures(t);
    assert(api.alive, "the API process is gone");
    const after = snapshot();
    f.seededUsersUnchanged = JSON.stringify(after) === JSON.stringify(usersBefore);
    const rowsAfter = api.query("SELECT count(*) AS n FROM User").n;
    const admins = api.query("SELECT count(*) AS n FROM User WHERE role = 'Admin'").n;
    const target = api.query("SELECT role FROM User WHERE id = (SELECT min(id) FROM User WHERE name = 'Reliability fuzz-target' OR uidKey = 'fuzz-target')");
    f.rowsBefore = rowsBefore;
    f.rowsAfter = rowsAfter;
    f.createdByFuzz = findings?.signups201 ?? "unknown";
    f.admins = admins;
    assert(f.seededUsersUnchanged, `seeded users changed: ${JSON.stringify(usersBefore)} → ${JSON.stringify(after)}`);
    assert(findings && rowsAfter === rowsBefore + findings.signups201, `rows ${rowsBefore} → ${rowsAfter}, but only ${findings?.signups201} signups were acknowledged`);
    assert(admins === 1, `${admins} admins after the fuzz (expected 1)`);
    assert(target?.role === "User", `the fuzzed account's role is now ${target?.role}`);
    const logins = {};
    for (const uid of ["admin", "user"]) {
      let res = await api.login(uid, "password");
      if (res.status === 429) {
        await sleep(Number(res.headers["retry-after"] ?? 1) * 1000 + 100);
        res = await api.login(uid, "password");
      }
      logins[uid] = res.status;
      assert(res.status === 200 && res.json?.user?.role === (uid === "admin" ? "Admin" : "User"), `${uid} cannot log in after the fuzz: ${res.status} ${res.body}`);
    }
    f.logins = `admin=${logins.admin} user=${logins.user}`;
    // No prototype pollution: a brand-new user is an ordinary User with exactly the public fields.
    const fresh = await api.signup("after-fuzz", STRONG_PASSWORD);
    const keys = Object.keys(fresh.json ?? {}).sort().join(",");
    assert(fresh.status === 201 && fresh.json.role === "User" && keys === USER_KEYS, `a new signup after the fuzz: ${fresh.status} ${fresh.body}`);
    const notFound = await api.request({ path: "/api/nope" });
    assert(isErrorBody(notFound.json), `error bodies changed shape: ${notFound.body}`);
  });
});
