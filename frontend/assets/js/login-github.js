// Sign in with GitHub (docs/github.md › Pages): the login page's button, and how every GitHub flow leaves a page —
// sign-in here, linking on the security page (security-github.js) — and is taken up again by oauth-callback.js.
//
// The flow leaves by a top-level navigation to the API (never fetch: the state cookie it sets would be a
// third-party cookie and dropped), carrying the SHA-256 of a random nonce that stays in this tab's
// sessionStorage: the callback page must show it to exchange its code, so a code from someone else's sign-in
// (a forged link) cannot sign this browser into their account.
import { ApiError, apiFetch } from "./api/config.js";
import { clearMessage, showError } from "./messages.js";

const NONCE_KEY = "crossauth.oauthNonce";
const INTENT_KEY = "crossauth.oauthIntent";

const base64url = (bytes) => btoa(String.fromCharCode(...bytes)).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");

/** The page GitHub flows come back to. */
export const callbackPage = () => new URL("oauth-callback.html", location.href).href;

/**
 * Leaves for GitHub: `startUrl` is the API's start address (from /api/oauth/providers, or the one
 * POST /api/oauth/github/link answered, which already names the page and the ticket); `intent` is "login" or
 * "link", for the callback page's wording. Rejects (an ApiError) only when this page cannot make a nonce.
 */
export async function goToGitHub(startUrl, intent) {
  // crypto.subtle exists only in secure contexts: https pages, and http on localhost / 127.0.0.1.
  if (!globalThis.crypto?.subtle) {
    throw new ApiError({ code: "INSECURE_PAGE", message: "" });
  }
  const nonce = base64url(crypto.getRandomValues(new Uint8Array(32)));
  const nonceHash = base64url(new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(nonce))));
  sessionStorage.setItem(NONCE_KEY, nonce);
  sessionStorage.setItem(INTENT_KEY, intent);
  const url = new URL(startUrl);
  if (!url.searchParams.has("return_to")) url.searchParams.set("return_to", callbackPage());
  url.searchParams.set("nonce_hash", nonceHash);
  location.assign(url.href);
}

/** The nonce and intent this tab kept when it left for GitHub, removed at once (a nonce serves one exchange). */
export function takeGitHubFlow() {
  const flow = { nonce: sessionStorage.getItem(NONCE_KEY), intent: sessionStorage.getItem(INTENT_KEY) ?? "login" };
  sessionStorage.removeItem(NONCE_KEY);
  sessionStorage.removeItem(INTENT_KEY);
  return flow;
}

/** The login page's button, shown only when the API says GitHub sign-in is configured. */
async function renderSignInButton(slot) {
  let providers;
  try {
    providers = await apiFetch("/api/oauth/providers");
  } catch {
    slot.dataset.github = "unknown"; // an API that cannot be reached is reported by the login form itself
    return;
  }
  // Says what was decided (for people reading the DOM, and for tests): "on" or "off".
  slot.dataset.github = providers?.github && providers.githubStartUrl ? "on" : "off";
  if (slot.dataset.github === "off") return;

  const button = document.createElement("button");
  button.type = "button";
  button.id = "github-sign-in";
  button.className = "secondary";
  button.textContent = "Sign in with GitHub";
  const message = document.createElement("div");
  message.id = "github-message";
  message.className = "message";
  message.dataset.testid = "github-message";
  message.tabIndex = -1;
  message.setAttribute("aria-live", "polite");
  message.hidden = true;
  const block = document.createElement("div");
  block.className = "actions";
  block.id = "github-sign-in-block";
  block.append(button);
  slot.append(block, message);

  // Back from GitHub with the browser's back button (the page may come from the back/forward cache): usable again.
  window.addEventListener("pageshow", () => {
    button.disabled = false;
  });
  button.addEventListener("click", async () => {
    clearMessage(message);
    button.disabled = true;
    try {
      await goToGitHub(providers.githubStartUrl, "login");
    } catch (error) {
      button.disabled = false;
      showError(message, error);
    }
  });
}

const slot = document.getElementById("other-sign-ins");
if (slot) renderSignInButton(slot);
