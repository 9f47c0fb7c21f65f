// The words of the recovery mails (docs/recovery.md › The mails). Each names the account's GitHub ID, says how
// long the link works and that the page acts only when a button is pressed, and what to do if nobody asked.
const PRODUCT = "crossauth";

export interface MailAccount {
  uid: string;
  name: string;
}

/** "30 minutes", "24 hours", "2 days". */
export function formatDuration(seconds: number): string {
  const unit = (n: number, word: string) => `${n} ${word}${n === 1 ? "" : "s"}`;
  if (seconds < 3600) return unit(Math.max(1, Math.round(seconds / 60)), "minute");
  if (seconds < 2 * 86_400) return unit(Math.round(seconds / 3600), "hour");
  return unit(Math.round(seconds / 86_400), "day");
}

export function resetMail(account: MailAccount, link: string, ttlSeconds: number) {
  return {
    subject: `Reset your ${PRODUCT} password`,
    text: [
      `Hello ${account.name},`,
      "",
      `Someone asked to reset the password of the ${PRODUCT} account with the GitHub ID "${account.uid}".`,
      "",
      `To choose a new password, open this link within ${formatDuration(ttlSeconds)} and press the button on the page:`,
      "",
      link,
      "",
      "The link works once. Setting a new password logs the account out on every device.",
      "",
      "If you did not ask for this, ignore this mail: your password stays as it is, and nothing changes unless",
      "someone opens the link and presses the button. If these mails keep coming, tell your administrator.",
      "",
      `— ${PRODUCT}`,
    ].join("\n"),
  };
}

export function verifyMail(account: MailAccount, address: string, link: string, ttlSeconds: number) {
  return {
    subject: `Verify your e-mail address for ${PRODUCT}`,
    text: [
      `Hello ${account.name},`,
      "",
      `This address (${address}) was given for the ${PRODUCT} account with the GitHub ID "${account.uid}".`,
      "",
      `To verify it is yours, open this link within ${formatDuration(ttlSeconds)} and press the button on the page:`,
      "",
      link,
      "",
      "A verified address is where password reset links go.",
      "",
      "If you did not sign up or add this address, ignore this mail: nothing changes unless someone opens the",
      "link and presses the button. If these mails keep coming, tell your administrator.",
      "",
      `— ${PRODUCT}`,
    ].join("\n"),
  };
}
