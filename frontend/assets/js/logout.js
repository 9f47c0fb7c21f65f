// The logout page: ends this session (or every session with ?all=true) and says so.
import { ApiError, apiFetch } from "./api/config.js";
import { showError } from "./messages.js";
import { renderFooter, renderNav } from "./ui.js";

const status = document.getElementById("logout-status");
const everywhere = new URLSearchParams(location.search).get("all") === "true";

renderFooter();
try {
  await apiFetch(everywhere ? "/api/authenticate?all=true" : "/api/authenticate", { method: "DELETE" });
  status.textContent = everywhere ? "You have been logged out on every device." : "You have been logged out.";
  status.dataset.state = "logged-out";
  renderNav(null);
} catch (error) {
  if (error instanceof ApiError && error.code.startsWith("TOKEN_")) {
    // No valid session to end: this browser is logged out already (other devices are untouched).
    status.textContent = "You were not logged in, so there was nothing to log out of here.";
    status.dataset.state = "logged-out";
    renderNav(null);
  } else {
    status.textContent = "Logging out did not work.";
    showError(document.getElementById("logout-message"), error);
  }
}
