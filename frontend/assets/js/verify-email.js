// The e-mail verification page (docs/recovery.md › Pages). Opened from the mail's link (#token=…), it takes the
// token out of the address bar at once and verifies the address (POST /api/email/verify) only when the button is
// pressed: a mail scanner that opens the link, even one running scripts, spends nothing.
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

const ready = document.getElementById("verify-ready");
const message = document.getElementById("verify-message");
const button = document.getElementById("verify-button");

button.addEventListener("click", async () => {
  clearMessage(message);
  await whileBusy(button, async () => {
    try {
      const user = await apiFetch("/api/email/verify", { method: "POST", body: { token } });
      ready.hidden = true;
      showNote(message, `Your email address ${user.email} is verified. Password reset links for ${user.uid} will go there.`);
      document.getElementById("verify-done").hidden = false;
      message.focus();
    } catch (error) {
      showError(message, error);
      // A used or expired link stays dead: the button would only fail again.
      if (error instanceof ApiError && error.code === "VERIFY_TOKEN_INVALID") {
        ready.hidden = true;
        document.getElementById("verify-done").hidden = false;
      }
    }
  });
});

function showButton() {
  clearMessage(message);
  document.getElementById("verify-missing").hidden = true;
  document.getElementById("verify-done").hidden = true;
  ready.hidden = false;
  button.focus();
}

// A link opened in a tab that already shows this page changes only the fragment: take that token too.
window.addEventListener("hashchange", () => {
  const fresh = takeToken();
  if (!fresh) return;
  token = fresh;
  showButton();
});

if (token) showButton();
else document.getElementById("verify-missing").hidden = false;

renderFooter();
const { user } = await loadSession();
renderNav(user);
