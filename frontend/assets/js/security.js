// The security page: every way the signed-in person proves who they are — the email address (recovery and
// verification), two-factor, passkeys, GitHub — one section each, filled by its own module.
import { ApiError } from "./api/config.js";
import { showError, showNote } from "./messages.js";
import { loadSession, loginLink, renderFooter, renderNav } from "./ui.js";
import { renderEmailSection } from "./security-email.js";
import { renderMfaSection } from "./security-mfa.js";
import { renderPasskeysSection } from "./security-passkeys.js";
import { renderGithubSection } from "./security-github.js";

const pageMessage = document.getElementById("security-message");

/** Shared with the section modules: reload the account (after a change) and re-render every section. */
export async function refresh() {
  const { user, error } = await loadSession();
  document.getElementById("security-loading").hidden = true;
  renderNav(user);
  if (!user) {
    document.getElementById("security-content").hidden = true;
    if (error && !(error instanceof ApiError && error.code === "TOKEN_MISSING")) showError(pageMessage, error);
    else showNote(pageMessage, "You are not logged in.", "info");
    pageMessage.append(" ", loginLink());
    return;
  }
  document.getElementById("security-content").hidden = false;
  const context = { user, refresh };
  await Promise.all([renderEmailSection(context), renderMfaSection(context), renderPasskeysSection(context), renderGithubSection(context)]);
}

renderFooter();
await refresh();
