// The security page's email section (docs/recovery.md › Pages): the account's address, whether it is verified,
// and "send the verification mail again" (POST /api/email/verification).
import { ApiError, apiFetch } from "./api/config.js";
import { clearMessage, showError, showNote } from "./messages.js";
import { whileBusy } from "./ui.js";

function paragraph(...parts) {
  const p = document.createElement("p");
  p.append(...parts);
  return p;
}

function link(href, text) {
  const a = document.createElement("a");
  a.href = href;
  a.textContent = text;
  return a;
}

export async function renderEmailSection({ user, refresh }) {
  const panel = document.getElementById("email-panel");
  if (!user.email) {
    panel.replaceChildren(
      paragraph("Your account has no email address, so a forgotten password cannot be reset by email. Add one on your ", link("profile.html", "profile"), "."),
    );
    return;
  }

  const address = document.createElement("strong");
  address.id = "email-address";
  address.textContent = user.email;
  const state = document.createElement("span");
  state.id = "email-state";
  state.dataset.testid = "email-state";
  state.className = user.emailVerified ? "badge" : "badge muted";
  state.textContent = user.emailVerified ? "Verified" : "Not verified";
  const parts = [paragraph(address, " ", state)];

  if (user.emailVerified) {
    parts.push(paragraph("Password reset links for your account go to this address. Changing it on your ", link("profile.html", "profile"), " makes it unverified until you open the link we send to the new one."));
    panel.replaceChildren(...parts);
    return;
  }

  parts.push(paragraph("Verify that this address is yours, so that password reset links can safely go there: open the link in the mail we sent, and press the button on its page."));
  const message = document.createElement("div");
  message.id = "email-message";
  message.className = "message";
  message.dataset.testid = "email-message";
  message.tabIndex = -1;
  message.setAttribute("aria-live", "polite");
  message.hidden = true;
  const button = document.createElement("button");
  button.type = "button";
  button.id = "send-verification-button";
  button.className = "secondary";
  button.textContent = "Send the verification mail again";
  const actions = document.createElement("div");
  actions.className = "actions";
  actions.append(button);
  parts.push(message, actions);
  panel.replaceChildren(...parts);

  button.addEventListener("click", async () => {
    clearMessage(message);
    await whileBusy(button, async () => {
      try {
        await apiFetch("/api/email/verification", { method: "POST" });
        showNote(
          message,
          `We sent a verification link to ${user.email}. No mail after a few minutes? Check your spam folder; ` +
            "we send at most one mail a minute, and a few an hour.",
        );
      } catch (error) {
        // Verified meanwhile (in another tab): show the new state.
        if (error instanceof ApiError && error.code === "EMAIL_ALREADY_VERIFIED") await refresh();
        else showError(message, error);
      }
    });
  });
}
