// The second step of a sign-in with two-factor on (docs/two-factor.md › Pages): the login page's
// <section id="mfa-step">. The first step (password, or GitHub's exchange) answered 401 MFA_REQUIRED and set the
// challenge cookie; this step sends the code from the authenticator app, or a recovery code, with it.
import { API_URL, ApiError, apiFetch } from "./api/config.js";
import { clearMessage, showError } from "./messages.js";
import { element, whileBusy } from "./ui.js";

const MODES = {
  totp: {
    label: "Code from your authenticator app",
    hint: "The 6-digit code your app shows for this account now. It changes every 30 seconds.",
    toggle: "Use a recovery code instead",
    field: { type: "text", inputMode: "numeric", autocomplete: "one-time-code", maxLength: 7, pattern: "[0-9 ]*", autocapitalize: "off" },
  },
  recovery_code: {
    label: "Recovery code",
    hint: "One of the ten codes you saved when you turned on two-factor authentication, like 7K2QD-M9XTR. Each one works once.",
    toggle: "Use the code from your authenticator app instead",
    field: { type: "text", inputMode: "text", autocomplete: "off", maxLength: 32, pattern: "", autocapitalize: "characters" },
  },
};

/** Signed in if the session cookie came back with the next request; else the browser dropped it. */
async function signedInUser() {
  try {
    return await apiFetch("/api/id");
  } catch (error) {
    if (error instanceof ApiError && error.code === "TOKEN_MISSING") throw new ApiError({ status: 401, code: "COOKIE_BLOCKED", message: "" });
    throw error;
  }
}

/**
 * Shows the second step in `section`, hiding `replaces` (the password form's card) until it is done or given up.
 * `onSignedIn(user)` runs after the session cookie is confirmed; `startOverMessage` is the id of the element a
 * failure that needs the first step again is written into. Returns a function that removes the step.
 */
export function showMfaStep({ section = document.getElementById("mfa-step"), replaces = null, expiresIn = 300, onSignedIn, startOverMessage = null }) {
  let mode = "totp";
  const heading = element("h2", { id: "mfa-step-heading", tabIndex: -1 }, "Two-factor authentication");
  const intro = element("p", {}, `The first step is done. Now prove it is you with your second factor, within ${Math.round(expiresIn / 60)} minutes.`);
  const label = element("label", { htmlFor: "mfa-code" });
  const input = element("input", { id: "mfa-code", name: "code", required: true, spellcheck: false, "aria-describedby": "mfa-code-hint" });
  const hint = element("p", { className: "hint", id: "mfa-code-hint" });
  const message = element("div", { id: "mfa-message", className: "message", tabIndex: -1, "aria-live": "polite", hidden: true, dataset: { testid: "mfa-message" } });
  const submit = element("button", { type: "submit", id: "mfa-submit" }, "Verify");
  const toggle = element("a", { href: "#mfa-code", id: "mfa-toggle" });
  const startOver = element("a", { href: "login.html", id: "mfa-start-over" }, "Start over");
  const form = element(
    "form",
    { id: "mfa-form", className: "form", noValidate: true },
    element("div", { className: "field" }, label, input, hint),
    message,
    element("div", { className: "actions" }, submit, toggle, startOver),
  );

  function setMode(next) {
    mode = next;
    const m = MODES[mode];
    label.textContent = m.label;
    hint.textContent = m.hint;
    toggle.textContent = m.toggle;
    input.value = "";
    for (const [key, value] of Object.entries(m.field)) {
      if (value === "") input.removeAttribute(key === "maxLength" ? "maxlength" : key);
      else input[key] = value;
    }
    input.setAttribute("autocomplete", m.field.autocomplete); // the attribute, which password managers read
    input.dataset.mode = mode;
    clearMessage(message);
  }

  function close() {
    section.replaceChildren();
    section.hidden = true;
    if (replaces) replaces.hidden = false;
  }

  /** Back to the first step, with `error` said where the person will look next. */
  function backToStart(error) {
    close();
    const target = startOverMessage && document.getElementById(startOverMessage);
    const password = replaces?.querySelector('input[type="password"]');
    if (password) password.value = "";
    if (error && target) showError(target, error);
    else (password ?? replaces?.querySelector("input"))?.focus();
  }

  toggle.addEventListener("click", (event) => {
    event.preventDefault();
    setMode(mode === "totp" ? "recovery_code" : "totp");
    input.focus();
  });
  startOver.addEventListener("click", (event) => {
    // With a password form to return to, back to it here; otherwise (after GitHub) it is a link to the login page.
    if (!replaces?.querySelector('input[type="password"]')) return;
    event.preventDefault();
    backToStart(null);
  });

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    clearMessage(message);
    const typed = input.value.trim();
    if (!typed) {
      showError(message, new ApiError({ code: "CODE_MISSING", message: mode === "totp" ? "Please enter the 6-digit code from your authenticator app." : "Please enter one of your recovery codes." }));
      input.focus();
      return;
    }
    const body = mode === "totp" ? { code: typed.replace(/\s+/g, "") } : { recoveryCode: typed };
    await whileBusy(submit, async () => {
      try {
        await apiFetch(`${API_URL}/api/authenticate/mfa`, { method: "POST", body });
        const user = await signedInUser();
        close();
        if (onSignedIn) onSignedIn(user);
      } catch (error) {
        if (error instanceof ApiError && error.code === "MFA_CHALLENGE_INVALID") {
          backToStart(error);
          return;
        }
        showError(message, error);
        input.select();
      }
    });
  });

  setMode("totp");
  section.replaceChildren(heading, intro, form);
  section.setAttribute("aria-labelledby", "mfa-step-heading");
  section.hidden = false;
  if (replaces) replaces.hidden = true;
  input.focus();
  return close;
}

// The login page: login() in api/config.js announces MFA_REQUIRED; the step replaces the password card.
document.addEventListener("crossauth:mfa-required", (event) => {
  const section = document.getElementById("mfa-step");
  if (!section) return;
  event.preventDefault();
  const { data, callback, message } = event.detail;
  const messageElement = message ? document.getElementById(message) : null;
  showMfaStep({
    section,
    replaces: messageElement?.closest(".card") ?? null,
    expiresIn: data?.expiresIn ?? 300,
    onSignedIn: callback,
    startOverMessage: message ?? null,
  });
});
