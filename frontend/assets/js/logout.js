// The logout page: nothing happens when it loads (a link from any site must not log anyone out); the
// person chooses "Log out" (this browser) or "Log out everywhere" (every session of the account).
import { ApiError, apiFetch } from "./api/config.js";
import { showError } from "./messages.js";
import { loadSession, renderFooter, renderNav, whileBusy } from "./ui.js";

const status = document.getElementById("logout-status");
const choices = document.getElementById("logout-actions");
const after = document.getElementById("after-logout-actions");
const message = document.getElementById("logout-message");

function loggedOut(text) {
  status.textContent = text;
  status.dataset.state = "logged-out";
  choices.hidden = true;
  after.hidden = false;
  renderNav(null);
}

async function logOut(everywhere, button) {
  await whileBusy(button, async () => {
    try {
      await apiFetch(everywhere ? "/api/authenticate?all=true" : "/api/authenticate", { method: "DELETE" });
      loggedOut(everywhere ? "You have been logged out on every device." : "You have been logged out.");
    } catch (error) {
      if (error instanceof ApiError && error.code.startsWith("TOKEN_")) {
        // No valid session to end: this browser is logged out already (other devices are untouched).
        loggedOut("You were not logged in, so there was nothing to log out of here.");
      } else {
        status.textContent = "Logging out did not work.";
        showError(message, error);
      }
    }
  });
}

renderFooter();
const { user, error } = await loadSession();
renderNav(user);
if (user) {
  status.textContent = `You are logged in as ${user.name} (${user.uid}).`;
  choices.hidden = false;
} else if (error instanceof ApiError && error.code.startsWith("TOKEN_")) {
  loggedOut("Your session had already ended: you are not logged in.");
} else if (error) {
  status.textContent = "Could not check your session.";
  showError(message, error);
  choices.hidden = false;
} else {
  loggedOut("You are not logged in.");
}
document.getElementById("logout-button").addEventListener("click", (event) => logOut(false, event.currentTarget));
document.getElementById("logout-all-button").addEventListener("click", (event) => logOut(true, event.currentTarget));
