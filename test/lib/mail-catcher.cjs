// A real SMTP server on a loopback port that keeps every mail it receives, parsed (smtp-server + mailparser). The
// browser suite loads it with `createRequire(import.meta.url)("../lib/mail-catcher.cjs")`; jest through its typed
// face, test/api/support/mail-catcher.ts.
"use strict";
const { simpleParser } = require("mailparser");
const { SMTPServer } = require("smtp-server");

const addressesOf = (mail) =>
  [mail.to ?? []]
    .flat()
    .flatMap((group) => group.value.map((a) => a.address ?? ""))
    .join(", ");

/**
 * Starts the catcher on 127.0.0.1 (plain SMTP: it offers neither STARTTLS nor AUTH, so the app's SMTP_URL is
 * all the app needs). `delayMs` holds each mail's final SMTP reply that long, as a slow mail server would: an
 * app that awaited its sending would show it in its answer's timing.
 * Resolves to { url, inbox, waitForMail(match, what, timeoutMs), expectNoMail(match, ms, what), close() }.
 */
async function startMailCatcher({ delayMs = 0 } = {}) {
  const inbox = [];
  const waiters = new Set();
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ["STARTTLS", "AUTH"],
    logger: false,
    onData(stream, _session, done) {
      const chunks = [];
      stream.on("data", (chunk) => chunks.push(chunk));
      stream.on("end", () => {
        const raw = Buffer.concat(chunks);
        simpleParser(raw).then(
          (mail) => {
            // `raw` is the whole mail as received, headers included (for "no secret in it" checks).
            inbox.push({ to: addressesOf(mail), subject: mail.subject ?? "", text: mail.text ?? "", raw: raw.toString("utf8") });
            for (const wake of waiters) wake();
            setTimeout(() => done(), delayMs);
          },
          (err) => done(err),
        );
      });
    },
  });
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.server.address();

  /** The first mail matching `match`, already there or arriving within `timeoutMs`; else an error naming `what`. */
  const waitForMail = (match, what, timeoutMs = 15_000) =>
    new Promise((resolve, reject) => {
      const check = () => {
        const found = inbox.find(match);
        if (!found) return;
        cleanup();
        resolve(found);
      };
      const timer = setTimeout(() => {
        cleanup();
        reject(new Error(`no mail ${what} within ${timeoutMs} ms (inbox: ${JSON.stringify(inbox.map((m) => `${m.to}: ${m.subject}`))})`));
      }, timeoutMs);
      const cleanup = () => {
        clearTimeout(timer);
        waiters.delete(check);
      };
      waiters.add(check);
      check();
    });

  return {
    url: `smtp://127.0.0.1:${port}`,
    inbox,
    waitForMail,
    /** Fails if a mail matching `match` arrives within `ms`. */
    async expectNoMail(match, ms, what) {
      const arrived = await waitForMail(match, what, ms).then(
        (mail) => mail,
        () => null,
      );
      if (arrived) throw new Error(`a mail ${what} arrived: ${arrived.to}: ${arrived.subject}`);
    },
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

/** The link in a mail's text (https?://…#token=…) and its token. */
function linkOf(mail) {
  const found = /https?:\/\/\S+#token=[\w-]+/.exec(mail.text);
  if (!found) throw new Error(`no link in the mail "${mail.subject}": ${mail.text}`);
  const link = new URL(found[0]);
  return { link, token: new URLSearchParams(link.hash.slice(1)).get("token") };
}

module.exports = { startMailCatcher, linkOf };
