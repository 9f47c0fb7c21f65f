// The SMTP capture server of test/lib/mail-catcher.cjs (one implementation for jest and the browser suite), typed:
// the recovery tests point the app's SMTP_URL at it and read the links out of the mails.

export interface CaughtMail {
  to: string;
  subject: string;
  text: string;
  /** The whole mail as received, headers included (for "no secret in it" checks). */
  raw: string;
}

export interface MailCatcher {
  /** SMTP_URL for the app: plain SMTP on 127.0.0.1 (the catcher offers neither STARTTLS nor AUTH). */
  url: string;
  inbox: CaughtMail[];
  /** The first mail matching `match` (already there or arriving within `timeoutMs`), else an error naming `what`. */
  waitForMail(match: (mail: CaughtMail) => boolean, what: string, timeoutMs?: number): Promise<CaughtMail>;
  /** Fails if a mail matching `match` arrives within `ms`. */
  expectNoMail(match: (mail: CaughtMail) => boolean, ms: number, what: string): Promise<void>;
  close(): Promise<void>;
}

// eslint-disable-next-line @typescript-eslint/no-require-imports
const catcher = require("../../lib/mail-catcher.cjs") as {
  /** `delayMs` holds each mail's final SMTP reply that long, as a slow mail server would. */
  startMailCatcher(options?: { delayMs?: number }): Promise<MailCatcher>;
  /** The link in a mail and the token after its `#token=`. */
  linkOf(mail: CaughtMail): { link: URL; token: string };
};

export const { startMailCatcher, linkOf } = catcher;
