// Outgoing mail (docs/recovery.md › Mail): nodemailer over SMTP_URL, or in development a console transport that
// prints each mail to stdout, outside the JSON log. Sending never holds up a response: send() runs after it,
// retries with backoff, and a final failure is logged without the mail's text (it holds a one-time link).
import type { Writable } from "node:stream";
import nodemailer, { type Transporter } from "nodemailer";
import type { Logger } from "pino";
import type { Config } from "../config";

export interface OutgoingMail {
  to: string;
  subject: string;
  text: string;
  /** What the mail is for and whom, for the log (never the address's link or text). */
  purpose: "password_reset" | "email_verify";
  uid: string;
}

export type Mailer = ReturnType<typeof createMailer>;

/** Waits between attempts: 4 attempts over about half a minute ride out a mail server's restart. */
export const RETRY_DELAYS_MS = [1_000, 5_000, 25_000];
// Bounded connection waits, so a silent mail server cannot keep a send (and its retries) open for minutes.
const SMTP_TIMEOUTS = { connectionTimeout: 10_000, greetingTimeout: 10_000, socketTimeout: 20_000 };

/**
 * The development transport: the mail goes to `out` (stdout) as plain text. Never in production: config refuses
 * MAIL_TRANSPORT=console there, because it would write working reset links into the server's output.
 */
function consoleTransport(out: Writable) {
  return {
    name: "console",
    version: "1",
    send(mail: { data: { to?: unknown; subject?: unknown; text?: unknown } }, done: (err: Error | null, info: { messageId: string }) => void) {
      const { to, subject, text } = mail.data;
      const rule = "-".repeat(72);
      out.write(`\n${rule}\nMail (MAIL_TRANSPORT=console, development only)\nTo: ${String(to)}\nSubject: ${String(subject)}\n\n${String(text)}\n${rule}\n`);
      done(null, { messageId: `console-${Date.now()}` });
    },
  };
}

/** Only what explains a failure: never the message (an SMTP reply may quote the mail). */
function failureOf(err: unknown) {
  const e = (err ?? {}) as { code?: unknown; responseCode?: unknown; command?: unknown };
  return {
    code: typeof e.code === "string" ? e.code : undefined,
    responseCode: typeof e.responseCode === "number" ? e.responseCode : undefined,
    command: typeof e.command === "string" ? e.command.split(" ")[0] : undefined,
  };
}

export function createMailer({
  config,
  logger,
  consoleOut = process.stdout,
  retryDelaysMs = RETRY_DELAYS_MS,
}: {
  config: Pick<Config, "mail" | "frontendUrl">;
  logger: Logger;
  consoleOut?: Writable;
  retryDelaysMs?: number[];
}) {
  const { mail } = config;
  let transporter: Transporter<unknown> | null = null;
  // Links in mail lead to the frontend: without its URL there is nothing useful to send.
  if (config.frontendUrl !== null) {
    if (mail.transport === "smtp" && mail.smtpUrl) transporter = nodemailer.createTransport({ url: mail.smtpUrl, ...SMTP_TIMEOUTS });
    else if (mail.transport === "console") transporter = nodemailer.createTransport(consoleTransport(consoleOut));
  }
  const pending = new Set<Promise<unknown>>();
  // Waits between attempts, each ended early by close().
  const waits = new Map<NodeJS.Timeout, () => void>();
  let closed = false;

  const pause = (ms: number) =>
    new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        waits.delete(timer);
        resolve();
      }, ms);
      waits.set(timer, resolve);
    });

  async function deliver(message: OutgoingMail): Promise<boolean> {
    const { purpose, uid } = message;
    for (let attempt = 1; ; attempt++) {
      if (closed) {
        logger.error({ event: "mail_failed", purpose, uid, attempt, reason: "shutting down" }, "could not send mail; gave up");
        return false;
      }
      try {
        await (transporter as Transporter<unknown>).sendMail({ from: mail.from, to: message.to, subject: message.subject, text: message.text });
        logger.info({ event: "mail_sent", purpose, uid, attempt }, "mail sent");
        return true;
      } catch (err) {
        const last = attempt > retryDelaysMs.length;
        logger[last ? "error" : "warn"]({ event: last ? "mail_failed" : "mail_retry", purpose, uid, attempt, ...failureOf(err) }, last ? "could not send mail; gave up" : "could not send mail; will retry");
        if (last) return false;
        await pause(retryDelaysMs[attempt - 1]);
      }
    }
  }

  return {
    /** Whether this server can send mail at all (MAIL_TRANSPORT=off, or no FRONTEND_URL: the routes answer MAIL_UNAVAILABLE). */
    available: transporter !== null,
    transport: transporter === null ? "off" : mail.transport,

    /** Sends in the background; resolves true once delivered, false after the last failed attempt. Never rejects. */
    send(message: OutgoingMail): Promise<boolean> {
      if (!transporter || closed) return Promise.resolve(false);
      const sending = deliver(message).catch(() => false);
      pending.add(sending);
      void sending.finally(() => pending.delete(sending));
      return sending;
    },

    /** Resolves when every mail handed over so far is delivered or given up. */
    async idle(): Promise<void> {
      while (pending.size > 0) await Promise.all(pending);
    },

    /** Stops retrying (a pending retry ends as a failure) and closes the SMTP connections. */
    close(): void {
      closed = true;
      for (const [timer, resolve] of waits) {
        clearTimeout(timer);
        resolve();
      }
      waits.clear();
      transporter?.close();
    },
  };
}
