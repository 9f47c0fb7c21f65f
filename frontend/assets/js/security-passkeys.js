// The security page's passkeys section (docs/passkeys.md › Pages): the account's passkeys (name, when added, when
// last used, synced or not), rename, remove, and "Add a passkey". Adding needs a sign-in less than 10 minutes old;
// where passkeys cannot work from this page the API says why before the browser is asked for anything.
import { ApiError, apiFetch } from "./api/config.js";
import { clearMessage, showError, showNote } from "./messages.js";
import { element, formatDate, loginLink, whileBusy } from "./ui.js";
import { describePasskeyFailure, passkeysUnsupported } from "./login-passkey.js";
import { startRegistration } from "./vendor/simplewebauthn/index.js";

const messageBox = (id) => element("div", { id, className: "message", tabIndex: -1, "aria-live": "polite", hidden: true, dataset: { testid: id } });
const NAME_MAX = 64;

/** Registers a new passkey: options (the API's checks first), the browser's prompt, the API's verification. */
async function addPasskey(name) {
  const unsupported = passkeysUnsupported();
  if (unsupported) throw unsupported;
  const optionsJSON = await apiFetch("/api/passkeys/registration/options", { method: "POST", body: {} });
  let response;
  try {
    response = await startRegistration({ optionsJSON });
  } catch (error) {
    throw describePasskeyFailure(error, "registration");
  }
  return apiFetch("/api/passkeys/registration", { method: "POST", body: name ? { response, name } : { response } });
}

export async function renderPasskeysSection({ refresh }) {
  const panel = document.getElementById("passkeys-panel");
  const message = messageBox("passkeys-message");

  /** Shows an error; a stale sign-in gets a link back to the login page that returns here. */
  function fail(error) {
    showError(message, error);
    if (error instanceof ApiError && error.code === "REAUTH_REQUIRED") message.append(" ", loginLink("Log in again"));
  }

  let passkeys;
  try {
    passkeys = await apiFetch("/api/passkeys");
  } catch (error) {
    panel.replaceChildren(message);
    fail(error);
    return;
  }

  async function reload(note) {
    await renderPasskeysSection({ refresh });
    if (note) showNote(document.getElementById("passkeys-message"), note);
  }

  function item(passkey) {
    const title = element("strong", { className: "passkey-name", dataset: { testid: "passkey-name" } }, passkey.name);
    const facts = element(
      "span",
      { className: "muted" },
      ` — added ${formatDate(passkey.createdAt)}, ${passkey.lastUsedAt ? `last used ${formatDate(passkey.lastUsedAt)}` : "not used yet"}`,
    );
    const badge = passkey.backedUp ? [" ", element("span", { className: "badge", title: "Kept by a password manager or your device's account, so it survives losing this device" }, "Synced")] : [];
    const rename = element("button", { type: "button", className: "secondary small", id: `passkey-rename-${passkey.id}` }, "Rename");
    const remove = element("button", { type: "button", className: "danger small", id: `passkey-remove-${passkey.id}` }, "Remove");
    rename.setAttribute("aria-label", `Rename ${passkey.name}`);
    remove.setAttribute("aria-label", `Remove ${passkey.name}`);
    const actions = element("div", { className: "actions" }, rename, remove);
    const row = element("li", { id: `passkey-${passkey.id}`, dataset: { testid: "passkey" } }, element("p", {}, title, facts, ...badge), actions);

    rename.addEventListener("click", () => {
      const input = element("input", { id: `passkey-new-name-${passkey.id}`, name: "name", type: "text", required: true, maxLength: NAME_MAX, value: passkey.name, autocomplete: "off" });
      const save = element("button", { type: "submit" }, "Save name");
      const cancel = element("button", { type: "button", className: "secondary" }, "Cancel");
      const form = element(
        "form",
        { className: "form", noValidate: true, id: `passkey-rename-form-${passkey.id}` },
        element("div", { className: "field" }, element("label", { htmlFor: input.id }, `New name for “${passkey.name}”`), input),
        element("div", { className: "actions" }, save, cancel),
      );
      actions.replaceWith(form);
      input.select();
      cancel.addEventListener("click", () => {
        form.replaceWith(actions);
        rename.focus();
      });
      form.addEventListener("submit", async (event) => {
        event.preventDefault();
        clearMessage(message);
        const name = input.value.trim();
        if (!name) return showError(message, new ApiError({ code: "FIELD_MISSING", message: "Please enter a name for the passkey." }));
        await whileBusy(save, async () => {
          try {
            await apiFetch(`/api/passkeys/${passkey.id}`, { method: "PUT", body: { name } });
            await reload(`Renamed to “${name}”.`);
          } catch (error) {
            fail(error);
          }
        });
      });
    });

    remove.addEventListener("click", () => {
      const yes = element("button", { type: "button", className: "danger", id: `passkey-confirm-remove-${passkey.id}` }, "Remove it");
      const no = element("button", { type: "button", className: "secondary" }, "Keep it");
      const confirm = element(
        "div",
        { className: "actions", role: "group", "aria-label": `Remove ${passkey.name}?` },
        element("span", {}, `Remove “${passkey.name}”? You will no longer be able to sign in with it.`),
        yes,
        no,
      );
      actions.replaceWith(confirm);
      yes.focus();
      no.addEventListener("click", () => {
        confirm.replaceWith(actions);
        remove.focus();
      });
      yes.addEventListener("click", async () => {
        clearMessage(message);
        await whileBusy(yes, async () => {
          try {
            await apiFetch(`/api/passkeys/${passkey.id}`, { method: "DELETE" });
            await reload(`Removed “${passkey.name}”. Also delete it from your device or password manager, which still lists it.`);
          } catch (error) {
            confirm.replaceWith(actions);
            fail(error);
          }
        });
      });
    });
    return row;
  }

  const listing = passkeys.length
    ? element("ul", { id: "passkeys-list", className: "passkey-list", dataset: { testid: "passkeys-list" } }, ...passkeys.map(item))
    : element("p", { id: "passkeys-empty" }, "You have no passkeys yet.");

  const name = element("input", { id: "passkey-name", name: "name", type: "text", maxLength: NAME_MAX, autocomplete: "off", placeholder: "e.g. Work laptop" });
  const add = element("button", { type: "submit", id: "passkey-add-button" }, "Add a passkey");
  name.setAttribute("aria-describedby", "passkey-name-hint");
  const form = element(
    "form",
    { id: "passkey-add-form", className: "form", noValidate: true },
    element(
      "div",
      { className: "field" },
      element("label", { htmlFor: "passkey-name" }, "Name for the new passkey ", element("span", { className: "optional" }, "(optional)")),
      name,
      element("p", { className: "hint", id: "passkey-name-hint" }, "So you can tell your passkeys apart later. Adding one needs a log-in less than 10 minutes old."),
    ),
    message,
    element("div", { className: "actions" }, add),
  );
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    clearMessage(message);
    await whileBusy(add, async () => {
      try {
        const created = await addPasskey(name.value.trim());
        await reload(`Passkey “${created.name}” added. Next time, choose “Sign in with a passkey” on the login page.`);
      } catch (error) {
        fail(error);
      }
    });
  });

  panel.replaceChildren(
    element("p", {}, "A passkey signs you in with your fingerprint, face or device PIN instead of your password — and counts as two-factor authentication too. It cannot be phished: it only works on this site."),
    listing,
    form,
  );
}
