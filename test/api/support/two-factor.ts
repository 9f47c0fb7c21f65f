// Fixtures of the two-factor tests: codes computed with otpauth on the app's own clock, an account enrolled
// through the routes, and the two steps of a login.
import * as OTPAuth from "otpauth";
import { sessionCookieOf, type TestApp } from "../helpers";

export const PASSWORD = "orbit-lantern-42";
export const CHALLENGE_COOKIE = "__Host-mfa_challenge";
const STEP_MS = 30_000;

/** The code an authenticator app shows for `uri` at the app's time + `offsetMs`. */
export function codeAt(t: TestApp, uri: string, offsetMs = 0): string {
  return OTPAuth.URI.parse(uri).generate({ timestamp: t.app.services.now() + offsetMs });
}

/** Moves the app's clock to the middle of a later time step: codes of ±1 step are then far from any edge. */
export function nextStep(t: TestApp): void {
  const into = t.app.services.now() % STEP_MS;
  t.advance(STEP_MS - into + STEP_MS / 2);
}

/** The `name=value` of the challenge cookie an MFA_REQUIRED answer set. */
export const challengeOf = (res: { headers: Record<string, unknown> }) => sessionCookieOf(res, CHALLENGE_COOKIE);

/** Every Set-Cookie line of a response. */
export const setCookies = (res: { headers: Record<string, unknown> }) => (res.headers["set-cookie"] as string[] | undefined) ?? [];

export async function account(t: TestApp, uid: string, password = PASSWORD) {
  return t.app.services.users.create({ uid, name: `Name of ${uid}`, password });
}

export async function login(t: TestApp, uid: string, password = PASSWORD): Promise<string> {
  const res = await t.http().post("/api/authenticate").send({ uid, password });
  if (res.status !== 200) throw new Error(`login as ${uid} failed: ${res.status} ${JSON.stringify(res.body)}`);
  return sessionCookieOf(res);
}

export interface Enrolled {
  id: number;
  uid: string;
  uri: string;
  secret: string;
  recoveryCodes: string[];
  /** The session cookie the confirmation re-issued. */
  cookie: string;
}

/** An account with two-factor on, enrolled through the routes; the clock is then in a fresh step. */
export async function enrolled(t: TestApp, uid: string, password = PASSWORD): Promise<Enrolled> {
  const { id } = await account(t, uid, password);
  const cookie = await login(t, uid, password);
  const setup = await t.http().post("/api/mfa/totp/setup").set("Cookie", cookie).send({ currentPassword: password });
  if (setup.status !== 200) throw new Error(`setup failed: ${setup.status} ${JSON.stringify(setup.body)}`);
  nextStep(t);
  const confirm = await t.http().post("/api/mfa/totp/confirm").set("Cookie", cookie).send({ code: codeAt(t, setup.body.otpauthUri) });
  if (confirm.status !== 200) throw new Error(`confirm failed: ${confirm.status} ${JSON.stringify(confirm.body)}`);
  nextStep(t);
  return { id, uid, uri: setup.body.otpauthUri, secret: setup.body.secret, recoveryCodes: confirm.body.recoveryCodes, cookie: sessionCookieOf(confirm) };
}

/** The first step: the password, answered 401 MFA_REQUIRED with the challenge cookie. */
export async function firstStep(t: TestApp, uid: string, password = PASSWORD): Promise<string> {
  const res = await t.http().post("/api/authenticate").send({ uid, password });
  if (res.status !== 401 || res.body.code !== "MFA_REQUIRED") throw new Error(`expected MFA_REQUIRED, got ${res.status} ${JSON.stringify(res.body)}`);
  return challengeOf(res);
}

export const secondStep = (t: TestApp, challenge: string, body: object) => t.http().post("/api/authenticate/mfa").set("Cookie", challenge).send(body);

/** Both steps with the current code; returns the session cookie. */
export async function loginWithCode(t: TestApp, who: Enrolled, password = PASSWORD): Promise<string> {
  const challenge = await firstStep(t, who.uid, password);
  const res = await secondStep(t, challenge, { code: codeAt(t, who.uri) });
  if (res.status !== 200) throw new Error(`second step failed: ${res.status} ${JSON.stringify(res.body)}`);
  return sessionCookieOf(res);
}
