// Where GitHub flows come back (docs/github.md › Pages). The API's callback sends the browser here with the
// outcome after `#` — `#code=…` (a one-time login code), `#error=CODE` or `#linked=github` — which this page takes
// out of the address bar at once (so it stays out of history, bookmarks and screenshots). A code is exchanged by
// fetch with the nonce this tab kept before it left: the session cookie is set on that answer, so it lands in
// this page's cookie partition and works here, also when the API is on another site.
import { ApiError, apiFetch } from "./api/config.js";
import { showError, showNote } from "./messages.js";
import { loadSession, renderFooter, renderNav } from "./ui.js";
import { takeGitHubFlow } from "./login-github.js";
import { showMfaStep } from "./login-mfa.js";

function takeOutcome() {
  const outcome = new URLSearchParams(location.hash.slice(1));
  if (location.hash) history.replaceState(null, "", location.pathname + location.search);
  return outcome;
}
const outcome = takeOutcome();
const { nonce, intent } = takeGitHubFlow();

const card = document.getElementById("oauth-result");
const working = document.getElementById("oauth-working");
const message = document.getElementById("oauth-message");
const actions = document.getElementById("oauth-actions");
const next = document.getElementById("oauth-next");

const backTo = intent === "link" ? { href: "security.html", text: "Back to the Security page" } : { href: "login.html", text: "Back to the login page" };

/** Ends the page with a note or an error and the way on. */
function finish({ error = null, note = null, kind = "success", way = backTo }) {
  working.hidden = true;
  if (error) showError(message, error);
  else showNote(message, note, kind);
  next.href = way.href;
  next.textContent = way.text;
  actions.hidden = false;
  if (!error) message.focus();
}

/** An error the API put in the fragment, in this flow's words where they differ from the general ones. */
function fragmentError(code) {
  const error = new ApiError({ code: /^[A-Z_]{2,40}$/.test(code) ? code : "OAUTH_FAILED", message: "" });
  if (error.code === "OAUTH_ACCOUNT_EXISTS" && intent === "link") {
    error.serverMessage = "This GitHub account is already linked to another account here (or yours is linked to another GitHub account). Sign in with GitHub to reach that account and unlink it there first.";
  }
  if (error.code === "SIGNUP_DISABLED") {
    error.serverMessage = "This GitHub account is not linked to an account here, and new accounts cannot be made on this server. If you have an account, log in with its password and link GitHub from the Security page.";
  }
  return error;
}

/** Signed in if the session cookie comes back with the next request; else the browser dropped it. */
async function confirmCookie() {
  try {
    await apiFetch("/api/id");
  } catch (error) {
    if (error instanceof ApiError && error.code === "TOKEN_MISSING") throw new ApiError({ status: 401, code: "COOKIE_BLOCKED", message: "" });
    throw error;
  }
}

async function signIn(code) {
  // Without the nonce this tab made, the code is not ours to use: it may come from someone else's sign-in.
  if (!nonce) return finish({ error: new ApiError({ code: "OAUTH_NONCE_MISSING", message: "" }) });
  try {
    await apiFetch("/api/oauth/exchange", { method: "POST", body: { code, nonce } });
    await confirmCookie();
  } catch (error) {
    if (error instanceof ApiError && error.code === "MFA_REQUIRED") {
      // GitHub proved who you are; two-factor is on, so the code from the app comes next (the challenge cookie
      // was set on the exchange's answer, in this page's partition). "Start over" comes back to this card.
      finish({ note: "Your sign-in with GitHub is not finished: it needs the code from your authenticator app.", kind: "info" });
      showMfaStep({ replaces: card, expiresIn: error.data?.expiresIn ?? 300, onSignedIn: () => location.replace("profile.html"), startOverMessage: "oauth-message" });
      return;
    }
    return finish({ error });
  }
  location.replace("profile.html");
}

async function linked() {
  let login = null;
  try {
    login = (await apiFetch("/api/oauth/github"))?.login ?? null;
  } catch {
    /* the note below says enough without the login */
  }
  finish({
    note: `GitHub${login ? ` (@${login})` : ""} is now linked to your account: from now on you can sign in with GitHub too.`,
    way: { href: "security.html", text: "Back to the Security page" },
  });
}

renderFooter();
if (outcome.has("code")) await signIn(outcome.get("code"));
else if (outcome.has("error")) finish({ error: fragmentError(outcome.get("error")) });
else if (outcome.get("linked") === "github") await linked();
else finish({ note: "This page finishes a sign-in with GitHub, and was opened without one. Start from the login page.", kind: "info", way: { href: "login.html", text: "Go to the login page" } });
const { user } = await loadSession();
renderNav(user);
