// The password reset page (docs/recovery.md › Pages). Without a link it asks for one (POST /api/password/forgot);
// opened from the mail's link (#token=…) it takes the token out of the address bar at once and sets the new
// password (POST /api/password/reset) only when the button is pressed: a mail scanner that opens the link,
// even one running scripts, spends nothing.
import { ApiError, apiFetch } from "./api/config.js";
import { clearMessage, showError, showNote } from "./messages.js";
import { loadSession, renderFooter, renderNav, whileBusy } from "./ui.js";

/** The link's token, taken out of the address bar (and so out of history, bookmarks and screenshots) at once. */
function takeToken() {
  const found = new URLSearchParams(location.hash.slice(1)).get("token");
  if (location.hash) history.replaceState(null, "", location.pathname + location.search);
  return found;
}
let token = takeToken();

const requestSection = document.getElementById("request-section");
const chooseSection = document.getElementById("choose-section");
const forgotForm = document.getElementById("forgot-form");
const forgotMessage = document.getElementById("forgot-message");
const resetForm = document.getElementById("reset-form");
const resetMessage = document.getElementById("reset-message");
const codeField = document.getElementById("reset-code-field");

forgotForm.addEventListener("submit", async (event) => {
  event.preventDefault();
  clearMessage(forgotMessage);
  const identifier = forgotForm.elements.identifier.value.trim();
  // An address has an @; a GitHub ID never does.
  const body = identifier.includes("@") ? { email: identifier } : { uid: identifier };
  await whileBusy(document.getElementById("forgot-button"), async () => {
    try {
      const answer = await apiFetch("/api/password/forgot", { method: "POST", body });
      showNote(
        forgotMessage,
        `${answer.message}. Check your email, and its spam folder. The link works for a limited time (30 minutes unless ` +
          "your administrator changed it) and only once. No mail after a few minutes? Check what you typed; an account " +
          "without an email address cannot be reset this way.",
      );
    } catch (error) {
      showError(forgotMessage, error);
    }
  });
});

resetForm.addEventListener("submit", async (event) => {
  event.preventDefault();
  clearMessage(resetMessage);
  const fields = resetForm.elements;
  if (fields.password.value !== fields.confirm.value) {
    showError(resetMessage, new ApiError({ code: "PASSWORD_MISMATCH", message: "The two new passwords are not the same." }));
    fields.confirm.focus();
    return;
  }
  const code = codeField.hidden ? "" : fields.code.value.trim();
  const body = { token, password: fields.password.value, ...(code ? { code } : {}) };
  await whileBusy(document.getElementById("reset-button"), async () => {
    try {
      await apiFetch("/api/password/reset", { method: "POST", body });
      for (const part of resetForm.querySelectorAll(".field, .actions")) part.hidden = true;
      document.getElementById("choose-intro").hidden = true;
      showNote(resetMessage, "Your password was changed, and every device where your account was logged in was logged out. Log in with your new password.");
      document.getElementById("reset-done").hidden = false;
      resetMessage.focus();
    } catch (error) {
      if (error instanceof ApiError && error.code === "MFA_REQUIRED") {
        // The first time: the account has two-factor on, ask for a code. After a code: it was not right.
        const wrong = code !== "";
        codeField.hidden = false;
        showError(resetMessage, wrong ? new ApiError({ status: 401, code: "MFA_CODE_INVALID", message: "" }) : error);
        fields.code.value = "";
        fields.code.focus();
        return;
      }
      showError(resetMessage, error);
      // A dead link cannot be retried: offer a new one right here.
      if (error instanceof ApiError && error.code === "RESET_TOKEN_INVALID") requestSection.hidden = false;
    }
  });
});

/** The new-password form, fresh (also for a second link opened in this same tab). */
function showChooseForm() {
  resetForm.reset();
  for (const part of resetForm.querySelectorAll(".field, .actions")) part.hidden = false;
  codeField.hidden = true;
  clearMessage(resetMessage);
  document.getElementById("choose-intro").hidden = false;
  document.getElementById("reset-done").hidden = true;
  requestSection.hidden = true;
  chooseSection.hidden = false;
  document.getElementById("reset-new-password").focus();
}

// A link opened in a tab that already shows this page changes only the fragment: take that token too.
window.addEventListener("hashchange", () => {
  const fresh = takeToken();
  if (!fresh) return;
  token = fresh;
  showChooseForm();
});

if (token) showChooseForm();

renderFooter();
const { user } = await loadSession();
renderNav(user);
