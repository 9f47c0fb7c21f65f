// The security page's GitHub section (docs/github.md › Pages): linked as @login (unlink), or link GitHub. Linking
// asks the API for a start URL carrying a one-time ticket that names this account (the session cookie is not
// sent when the browser visits the API at the top level from another site), then leaves for GitHub; the person
// comes back to oauth-callback.html.
import { apiFetch } from "./api/config.js";
import { clearMessage, showError, showNote } from "./messages.js";
import { element, formatDate, whileBusy } from "./ui.js";
import { callbackPage, goToGitHub } from "./login-github.js";

const messageElement = () =>
  element("div", { id: "github-link-message", className: "message", tabIndex: -1, "aria-live": "polite", hidden: true, dataset: { testid: "github-link-message" } });

function linkedView(status, refresh) {
  const login = element("strong", { id: "github-login" }, `@${status.login}`);
  const since = status.linkedAt ? ` since ${formatDate(status.linkedAt)}` : "";
  const message = messageElement();
  const button = element("button", { type: "button", id: "github-unlink", className: "secondary" }, "Unlink GitHub");
  const parts = [element("p", {}, "Linked to GitHub as ", login, `${since}. You can sign in with GitHub.`)];
  if (!status.available) parts.push(element("p", { className: "hint" }, "Sign in with GitHub is turned off on this server at the moment; the link stays until you remove it."));
  parts.push(message, element("div", { className: "actions" }, button));

  button.addEventListener("click", async () => {
    clearMessage(message);
    await whileBusy(button, async () => {
      try {
        await apiFetch("/api/oauth/github", { method: "DELETE" });
        await refresh();
        const note = document.getElementById("github-link-message");
        if (note) showNote(note, `GitHub (@${status.login}) is no longer linked: it cannot sign in to this account any more.`);
      } catch (error) {
        showError(message, error); // LAST_LOGIN_METHOD: add a password or a passkey first
      }
    });
  });
  return parts;
}

function linkView(status) {
  const message = messageElement();
  const intro = element("p", {}, "Link your GitHub account to sign in with it instead of a password. You will go to GitHub to allow it, and come back here.");
  const fields = [];
  if (status.hasPassword) {
    const input = element("input", { id: "github-current-password", name: "currentPassword", type: "password", autocomplete: "current-password", required: true, "aria-describedby": "github-current-password-hint" });
    fields.push(
      element(
        "div",
        { className: "field" },
        element("label", { htmlFor: "github-current-password" }, "Current password"),
        input,
        element("p", { className: "hint", id: "github-current-password-hint" }, "Linking adds a way into your account, so we ask for your password first."),
      ),
    );
  }
  const button = element("button", { type: "submit", id: "github-link" }, "Link GitHub");
  const form = element("form", { id: "github-link-form", className: "form" }, ...fields, message, element("div", { className: "actions" }, button));

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    clearMessage(message);
    const body = { returnTo: callbackPage() };
    if (status.hasPassword) body.currentPassword = form.elements.currentPassword.value;
    await whileBusy(button, async () => {
      try {
        const { url } = await apiFetch("/api/oauth/github/link", { method: "POST", body });
        await goToGitHub(url, "link");
      } catch (error) {
        showError(message, error);
      }
    });
  });
  window.addEventListener("pageshow", () => {
    button.disabled = false;
  });
  return [intro, form];
}

export async function renderGithubSection({ refresh }) {
  const panel = document.getElementById("github-panel");
  let status;
  try {
    status = await apiFetch("/api/oauth/github");
  } catch (error) {
    const message = messageElement();
    panel.replaceChildren(message);
    showError(message, error);
    return;
  }
  if (status.linked) panel.replaceChildren(...linkedView(status, refresh));
  else if (status.available) panel.replaceChildren(...linkView(status));
  else panel.replaceChildren(element("p", {}, "Sign in with GitHub is not set up on this server."));
}
