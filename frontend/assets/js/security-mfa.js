// The security page's two-factor section (docs/two-factor.md › Pages): turn it on (QR code, or the key typed by
// hand, then a first code), see the recovery codes once (copy, download), make a new set, turn it off.
import { ApiError, apiFetch } from "./api/config.js";
import { clearMessage, showError, showNote } from "./messages.js";
import { element, whileBusy } from "./ui.js";

const paragraph = (...parts) => element("p", {}, ...parts);
const messageBox = (id) => element("div", { id, className: "message", tabIndex: -1, "aria-live": "polite", hidden: true, dataset: { testid: id } });

function field(id, labelText, input, hintText) {
  const parts = [element("label", { htmlFor: id }, labelText), input];
  if (hintText) {
    input.setAttribute("aria-describedby", `${id}-hint`);
    parts.push(element("p", { className: "hint", id: `${id}-hint` }, hintText));
  }
  return element("div", { className: "field" }, ...parts);
}

const passwordInput = (id) => element("input", { id, name: "currentPassword", type: "password", autocomplete: "current-password" });
function codeInput(id, { recoveryAllowed = false } = {}) {
  const input = element("input", { id, name: "code", type: "text", required: true, spellcheck: false, autocapitalize: "off" });
  // The attributes phones and password managers read to offer the code.
  input.setAttribute("autocomplete", "one-time-code");
  if (!recoveryAllowed) {
    input.inputMode = "numeric";
    input.maxLength = 7;
  }
  return input;
}

/** A missing field, said in words before anything is sent. */
const missing = (text) => new ApiError({ code: "FIELD_MISSING", message: text });

const PASSWORD_HINT = "Your account password. An account made with GitHub has none: leave it empty if you signed in less than 10 minutes ago.";

/** `{currentPassword}` only when typed: an account without a password re-authenticates by a recent sign-in. */
function withPassword(input, body = {}) {
  return input.value ? { ...body, currentPassword: input.value } : body;
}

/** The secret in groups of four, as authenticator apps show keys to type. */
const grouped = (secret) => secret.replace(/(.{4})(?=.)/g, "$1 ");

export async function renderMfaSection({ user, refresh }) {
  const panel = document.getElementById("mfa-panel");

  /** The ten codes, shown once: a list, copy, download, and "done". */
  function showRecoveryCodes(codes, intro) {
    const list = element("ol", { id: "mfa-recovery-codes", className: "recovery-codes", dataset: { testid: "mfa-recovery-codes" } }, ...codes.map((code) => element("li", {}, element("code", {}, code))));
    const text = `crossauth recovery codes for ${user.uid}\nEach code signs you in once when you cannot use your authenticator app.\n\n${codes.join("\n")}\n`;
    const note = messageBox("mfa-codes-message");
    const copy = element("button", { type: "button", id: "mfa-copy-codes", className: "secondary" }, "Copy codes");
    const download = element("a", { id: "mfa-download-codes", className: "button secondary", download: `crossauth-recovery-codes-${user.uid}.txt`, href: URL.createObjectURL(new Blob([text], { type: "text/plain" })) }, "Download codes");
    const done = element("button", { type: "button", id: "mfa-codes-done" }, "I have saved them");
    copy.addEventListener("click", async () => {
      try {
        await navigator.clipboard.writeText(text);
        showNote(note, "Copied. Paste them somewhere safe, away from your phone.");
      } catch {
        // No clipboard access (an older browser, or permission refused): select the list for a manual copy.
        getSelection()?.selectAllChildren(list);
        showNote(note, "Your browser did not let this page copy. The codes are selected: copy them with Ctrl+C (⌘C on a Mac).", "info");
      }
    });
    done.addEventListener("click", async () => {
      URL.revokeObjectURL(download.href);
      await refresh();
    });
    const heading = element("h3", { id: "mfa-codes-heading", tabIndex: -1 }, "Your recovery codes");
    panel.replaceChildren(
      heading,
      paragraph(intro),
      paragraph(element("strong", {}, "They are shown only this once. "), "Each code signs you in once if you lose your phone; keep them somewhere safe, away from it (a password manager, or printed)."),
      list,
      note,
      element("div", { className: "actions" }, copy, download, done),
    );
    heading.focus();
  }

  /** Step 2 of turning it on: the QR code, the key, and the first code. */
  function showEnrolment({ qr, secret }) {
    const image = element("img", { id: "mfa-qr", src: qr, alt: "QR code to scan with your authenticator app", width: 240, height: 240 });
    const key = element("code", { id: "mfa-secret", dataset: { testid: "mfa-secret" } }, grouped(secret));
    const code = codeInput("mfa-confirm-code");
    const message = messageBox("mfa-confirm-message");
    const confirm = element("button", { type: "submit", id: "mfa-confirm-button" }, "Turn on");
    const cancel = element("button", { type: "button", id: "mfa-cancel-button", className: "secondary" }, "Cancel");
    const form = element(
      "form",
      { id: "mfa-confirm-form", className: "form", noValidate: true },
      field("mfa-confirm-code", "Code from the app", code, "The 6-digit code the app now shows for this account."),
      message,
      element("div", { className: "actions" }, confirm, cancel),
    );
    const heading = element("h3", { id: "mfa-enrol-heading", tabIndex: -1 }, "Add crossauth to your authenticator app");
    panel.replaceChildren(
      heading,
      paragraph("1. In an authenticator app (such as Google Authenticator, Microsoft Authenticator, 1Password or Aegis), add an account by scanning this QR code:"),
      element("p", {}, image),
      paragraph("Cannot scan it? Enter this key by hand (time-based, 6 digits): ", key),
      paragraph("2. Enter the code the app shows, to prove it is set up:"),
      form,
    );
    heading.focus();
    cancel.addEventListener("click", () => refresh());
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      clearMessage(message);
      if (!code.value.trim()) return showError(message, missing("Please enter the 6-digit code from your authenticator app."));
      await whileBusy(confirm, async () => {
        try {
          const { recoveryCodes } = await apiFetch("/api/mfa/totp/confirm", { method: "POST", body: { code: code.value.replace(/\s+/g, "") } });
          showRecoveryCodes(recoveryCodes, "Two-factor authentication is on. Your other sessions were logged out; from now on, logging in asks for a code from your app.");
        } catch (error) {
          if (error instanceof ApiError && error.code === "MFA_ALREADY_ENABLED") return refresh();
          showError(message, error);
          code.select();
        }
      });
    });
  }

  function renderOff() {
    const password = passwordInput("mfa-setup-password");
    const message = messageBox("mfa-setup-message");
    const start = element("button", { type: "submit", id: "mfa-setup-button" }, "Set up two-factor authentication");
    const form = element(
      "form",
      { id: "mfa-setup-form", className: "form", noValidate: true },
      field("mfa-setup-password", "Current password", password, PASSWORD_HINT),
      message,
      element("div", { className: "actions" }, start),
    );
    panel.replaceChildren(
      paragraph(element("span", { id: "mfa-state", className: "badge muted", dataset: { testid: "mfa-state" } }, "Off")),
      paragraph("With two-factor authentication, logging in needs your password and a code from an app on your phone, so a stolen password alone is not enough."),
      form,
    );
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      clearMessage(message);
      await whileBusy(start, async () => {
        try {
          showEnrolment(await apiFetch("/api/mfa/totp/setup", { method: "POST", body: withPassword(password) }));
        } catch (error) {
          if (error instanceof ApiError && error.code === "MFA_ALREADY_ENABLED") return refresh();
          showError(message, error);
        }
      });
    });
  }

  async function renderOn() {
    let left = null;
    try {
      left = (await apiFetch("/api/mfa")).recoveryCodesLeft;
    } catch {
      left = null; // the count is a courtesy; the forms below still work
    }
    const state = paragraph(element("span", { id: "mfa-state", className: "badge", dataset: { testid: "mfa-state" } }, "On"), " Logging in asks for a code from your authenticator app.");
    const count = paragraph(
      left === null ? "" : left === 0 ? "You have no unused recovery codes left: make a new set now." : `You have ${left} unused recovery code${left === 1 ? "" : "s"}.`,
    );
    count.id = "mfa-codes-left";

    const newCode = codeInput("mfa-regenerate-code", { recoveryAllowed: true });
    const newMessage = messageBox("mfa-regenerate-message");
    const newButton = element("button", { type: "submit", id: "mfa-regenerate-button", className: "secondary" }, "Make new recovery codes");
    const newForm = element(
      "form",
      { id: "mfa-regenerate-form", className: "form", noValidate: true },
      element("h3", {}, "New recovery codes"),
      field("mfa-regenerate-code", "Code from your authenticator app", newCode, "Or one of your recovery codes. The old codes stop working at once."),
      newMessage,
      element("div", { className: "actions" }, newButton),
    );

    const offPassword = passwordInput("mfa-disable-password");
    const offCode = codeInput("mfa-disable-code", { recoveryAllowed: true });
    const offMessage = messageBox("mfa-disable-message");
    const offButton = element("button", { type: "submit", id: "mfa-disable-button", className: "danger" }, "Turn off two-factor authentication");
    const offForm = element(
      "form",
      { id: "mfa-disable-form", className: "form", noValidate: true },
      element("h3", {}, "Turn it off"),
      field("mfa-disable-password", "Current password", offPassword, PASSWORD_HINT),
      field("mfa-disable-code", "Code from your authenticator app", offCode, "Or one of your recovery codes. Your other sessions will be logged out."),
      offMessage,
      element("div", { className: "actions" }, offButton),
    );
    panel.replaceChildren(state, count, newForm, offForm);

    newForm.addEventListener("submit", async (event) => {
      event.preventDefault();
      clearMessage(newMessage);
      if (!newCode.value.trim()) return showError(newMessage, missing("Please enter the code from your authenticator app, or a recovery code."));
      await whileBusy(newButton, async () => {
        try {
          const { recoveryCodes } = await apiFetch("/api/mfa/recovery-codes", { method: "POST", body: { code: newCode.value.trim() } });
          showRecoveryCodes(recoveryCodes, "Here is your new set. The old codes no longer work.");
        } catch (error) {
          showError(newMessage, error);
        }
      });
    });

    offForm.addEventListener("submit", async (event) => {
      event.preventDefault();
      clearMessage(offMessage);
      if (!offCode.value.trim()) return showError(offMessage, missing("Please enter the code from your authenticator app, or a recovery code."));
      await whileBusy(offButton, async () => {
        try {
          await apiFetch("/api/mfa/totp", { method: "DELETE", body: withPassword(offPassword, { code: offCode.value.trim() }) });
          await refresh();
          showNote(document.getElementById("security-message"), "Two-factor authentication is off. Your other sessions were logged out.");
        } catch (error) {
          showError(offMessage, error);
        }
      });
    });
  }

  if (user.mfaEnabled) await renderOn();
  else renderOff();
}
