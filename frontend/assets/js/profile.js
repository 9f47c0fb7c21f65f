// The profile page: view and edit your details (PUT /api/user), change your password, log out here or everywhere.
import { ApiError, apiFetch } from "./api/config.js";
import { clearMessage, showError, showNote } from "./messages.js";
import { formatDate, loadSession, loginLink, renderFooter, renderNav, whileBusy } from "./ui.js";

const pageMessage = document.getElementById("profile-message");
const content = document.getElementById("profile-content");
const profileForm = document.getElementById("profile-form");
const passwordForm = document.getElementById("password-form");
const editMessage = document.getElementById("edit-message");
const passwordMessage = document.getElementById("password-message");
const sessionMessage = document.getElementById("session-message");

let current = null;

function showProfile(user) {
  current = user;
  document.getElementById("detail-name").textContent = user.name;
  document.getElementById("detail-uid").textContent = user.uid;
  document.getElementById("detail-email").textContent = user.email || "—";
  document.getElementById("detail-email-state").textContent = !user.email ? "" : user.emailVerified ? "(verified)" : "(not verified — verify on the Security page)";
  document.getElementById("detail-role").textContent = user.role;
  document.getElementById("detail-created").textContent = formatDate(user.createdAt);
  profileForm.elements.name.value = user.name;
  profileForm.elements.uid.value = user.uid;
  profileForm.elements.email.value = user.email ?? "";
  passwordForm.elements.username.value = user.uid;
  content.hidden = false;
  renderNav(user);
}

/** Replaces the page with "not logged in" (and why, when there is an error to explain). */
function showLoggedOut(error, note) {
  current = null;
  content.hidden = true;
  renderNav(null);
  if (error) {
    showError(pageMessage, error);
  } else {
    showNote(pageMessage, note ?? "You are not logged in.", "info");
  }
  if (!error || (error instanceof ApiError && error.status === 401)) {
    pageMessage.append(" ", loginLink());
  }
}

/** A 401 in the middle of an action means the session is gone: say so at the top of the page. */
function handleActionError(element, error) {
  if (error instanceof ApiError && error.status === 401) {
    showLoggedOut(error);
  } else {
    showError(element, error);
  }
}

profileForm.addEventListener("submit", async (event) => {
  event.preventDefault();
  clearMessage(editMessage);
  const fields = profileForm.elements;
  const changes = {};
  const name = fields.name.value.trim();
  const uid = fields.uid.value.trim();
  const email = fields.email.value.trim();
  if (name !== current.name) changes.name = name;
  if (uid !== current.uid) changes.uid = uid;
  // An emptied email field clears the address (null); an empty one that was empty is left out.
  if (email !== (current.email ?? "")) changes.email = email || null;
  if (Object.keys(changes).length === 0) {
    showNote(editMessage, "Nothing to save: no field was changed.", "info");
    return;
  }
  // The GitHub ID and the email say who the account is: the API asks for the current password to change them.
  // Left out when empty: the API then says it is required, rather than counting an empty guess.
  if (("uid" in changes || "email" in changes) && fields.currentPassword.value) changes.currentPassword = fields.currentPassword.value;
  await whileBusy(document.getElementById("save-profile-button"), async () => {
    try {
      showProfile(await apiFetch("/api/user", { method: "PUT", body: changes }));
      fields.currentPassword.value = "";
      showNote(editMessage, "Your profile was saved.");
    } catch (error) {
      handleActionError(editMessage, error);
    }
  });
});

passwordForm.addEventListener("submit", async (event) => {
  event.preventDefault();
  clearMessage(passwordMessage);
  const fields = passwordForm.elements;
  if (fields.password.value !== fields.confirm.value) {
    showError(passwordMessage, new ApiError({ code: "PASSWORD_MISMATCH", message: "The two new passwords are not the same." }));
    fields.confirm.focus();
    return;
  }
  await whileBusy(document.getElementById("change-password-button"), async () => {
    try {
      const body = { password: fields.password.value };
      if (fields.currentPassword.value) body.currentPassword = fields.currentPassword.value;
      showProfile(await apiFetch("/api/user", { method: "PUT", body }));
      passwordForm.reset();
      passwordForm.elements.username.value = current.uid;
      showNote(passwordMessage, "Your password was changed. Your other sessions were logged out.");
    } catch (error) {
      handleActionError(passwordMessage, error);
    }
  });
});

async function logOut(everywhere) {
  clearMessage(sessionMessage);
  const path = everywhere ? "/api/authenticate?all=true" : "/api/authenticate";
  try {
    await apiFetch(path, { method: "DELETE" });
    showLoggedOut(null, everywhere ? "You have been logged out on every device." : "You have been logged out.");
    pageMessage.focus();
  } catch (error) {
    handleActionError(sessionMessage, error);
  }
}

document.getElementById("logout-button").addEventListener("click", () => logOut(false));
document.getElementById("logout-all-button").addEventListener("click", () => logOut(true));

renderFooter();
const { user, error } = await loadSession();
document.getElementById("profile-loading").remove();
if (user) showProfile(user);
else showLoggedOut(error);
