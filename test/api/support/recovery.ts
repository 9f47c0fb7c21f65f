// Fixtures of the recovery tests: an app that mails through a catcher, accounts made without a mail, and the
// background work awaited before the app closes.
import type pino from "pino";
import { makeTestApp, type TestApp } from "../helpers";
import { linkOf, startMailCatcher, type CaughtMail, type MailCatcher } from "./mail-catcher";

export const PASSWORD = "orbit-lantern-42";
export const NEW_PASSWORD = "violet-harbor-77";

export interface MailApp {
  t: TestApp;
  mail: MailCatcher;
  /** Waits for the app's background mail work, then closes the app and the catcher. */
  close(): Promise<void>;
}

/** An app whose MAIL_TRANSPORT=smtp goes to a fresh catcher; mail limits out of the way unless `env` sets them. */
export async function makeMailApp(env: Record<string, string> = {}, { delayMs = 0, logger }: { delayMs?: number; logger?: pino.Logger } = {}): Promise<MailApp> {
  const mail = await startMailCatcher({ delayMs });
  const t = await makeTestApp({ MAIL_TRANSPORT: "smtp", SMTP_URL: mail.url, RATE_LIMIT_MAIL_PER_IP: "10000", MAIL_PER_ACCOUNT_PER_HOUR: "1000", ...env }, { logger });
  return {
    t,
    mail,
    async close() {
      await settle(t);
      t.app.services.recovery.close();
      await t.close();
      await mail.close();
    },
  };
}

/** Everything the app does after its answers (lookups, tokens, sending) is done. */
export const settle = (t: TestApp) => t.app.services.recovery.idle();

/** An account with an address, made through the service: no verification mail, so no mail limit is spent. */
export async function accountWithEmail(t: TestApp, uid: string, email: string | null, password = PASSWORD) {
  return t.app.services.users.create({ uid, name: `Name of ${uid}`, password, email });
}

/** As if a minute had passed for this account's mail cooldown (the limiter runs on the real clock). */
export async function pastMailCooldown(t: TestApp, userId: number) {
  await t.app.services.recovery.accountMailLimits.gap.delete(String(userId));
}

export const to = (address: string) => (mail: CaughtMail) => mail.to.toLowerCase() === address.toLowerCase();
export const resetMailTo = (address: string) => (mail: CaughtMail) => to(address)(mail) && /reset/i.test(mail.subject);
export const verifyMailTo = (address: string) => (mail: CaughtMail) => to(address)(mail) && /verify/i.test(mail.subject);

/** Asks for a reset link by `body` and returns the token of the mail that reaches `address`. */
export async function resetTokenFor(app: MailApp, body: { email: string } | { uid: string }, address: string): Promise<string> {
  const before = app.mail.inbox.length;
  const res = await app.t.http().post("/api/password/forgot").send(body);
  if (res.status !== 202) throw new Error(`forgot answered ${res.status} ${JSON.stringify(res.body)}`);
  const mail = await app.mail.waitForMail((m) => app.mail.inbox.indexOf(m) >= before && resetMailTo(address)(m), `with a reset link to ${address}`);
  return linkOf(mail).token;
}
