// The admin page: list every user (GET /api/user), change a role or reset a password (PUT /api/user/:uid),
// delete a user (DELETE /api/user/:uid). A non-admin sees "Admins only" and no data is requested.
import { ApiError, apiFetch } from "./api/config.js";
import { clearMessage, showError, showNote } from "./messages.js";
import { loadSession, loginLink, renderFooter, renderNav, whileBusy } from "./ui.js";

const pageMessage = document.getElementById("admin-message");
const content = document.getElementById("admin-content");
const tableBody = document.getElementById("users-body");
const manageCard = document.getElementById("manage-card");
const manageMessage = document.getElementById("manage-message");
const roleForm = document.getElementById("role-form");
const resetForm = document.getElementById("reset-form");

let me = null;
let users = [];
let selected = null;

function cell(text, className) {
  const td = document.createElement("td");
  td.textContent = text;
  if (className) td.className = className;
  return td;
}

function renderUsers() {
  const rows = users.map((user) => {
    const row = document.createElement("tr");
    row.dataset.uid = user.uid;
    const uidCell = document.createElement("th");
    uidCell.scope = "row";
    uidCell.textContent = user.uid;
    const roleCell = document.createElement("td");
    const badge = document.createElement("span");
    badge.className = `badge ${user.role === "Admin" ? "badge-admin" : ""}`.trim();
    badge.textContent = user.role;
    roleCell.append(badge);
    const actionCell = document.createElement("td");
    actionCell.className = "row-actions";
    const manage = document.createElement("button");
    manage.type = "button";
    manage.className = "small secondary";
    manage.dataset.manage = user.uid;
    const label = document.createElement("span");
    label.className = "visually-hidden";
    label.textContent = ` ${user.uid}`;
    manage.append("Manage", label);
    manage.addEventListener("click", () => openManage(user.uid));
    actionCell.append(manage);
    row.append(uidCell, cell(user.name), cell(user.email || "—", user.email ? "" : "muted"), roleCell, actionCell);
    if (selected && selected.uid === user.uid) row.classList.add("selected");
    return row;
  });
  tableBody.replaceChildren(...rows);
}

async function loadUsers() {
  users = await apiFetch("/api/user");
  users.sort((a, b) => a.uid.localeCompare(b.uid));
  renderUsers();
}

function openManage(uid) {
  selected = users.find((user) => user.uid === uid) ?? null;
  if (!selected) return;
  clearMessage(manageMessage);
  document.getElementById("manage-uid").textContent = `${selected.name} (${selected.uid})`;
  roleForm.elements.role.value = selected.role;
  resetForm.reset();
  document.getElementById("delete-button").disabled = selected.id === me.id;
  renderEmailActions();
  renderMfaActions();
  manageCard.hidden = false;
  renderUsers();
  document.getElementById("manage-heading").focus();
}

function closeManage() {
  const uid = selected?.uid;
  selected = null;
  manageCard.hidden = true;
  renderUsers();
  const button = uid && tableBody.querySelector(`button[data-manage="${CSS.escape(uid)}"]`);
  if (button) button.focus();
}

/** A 401 means our own session is gone; anything else belongs to the action being tried. */
function handleActionError(error) {
  if (error instanceof ApiError && error.status === 401) {
    content.hidden = true;
    renderNav(null);
    showError(pageMessage, error);
    pageMessage.append(" ", loginLink());
  } else {
    showError(manageMessage, error);
  }
}

function userPath(uid) {
  return `/api/user/${encodeURIComponent(uid)}`;
}

roleForm.addEventListener("submit", async (event) => {
  event.preventDefault();
  clearMessage(manageMessage);
  const role = roleForm.elements.role.value;
  if (role === selected.role) {
    showNote(manageMessage, `${selected.uid} is already ${role === "Admin" ? "an Admin" : "a User"}.`, "info");
    return;
  }
  await whileBusy(document.getElementById("save-role-button"), async () => {
    try {
      const updated = await apiFetch(userPath(selected.uid), { method: "PUT", body: { role } });
      users = users.map((user) => (user.id === updated.id ? updated : user));
      selected = updated;
      renderUsers();
      showNote(manageMessage, `${updated.uid} is now ${updated.role === "Admin" ? "an Admin" : "a User"}. Their sessions were logged out.`);
    } catch (error) {
      handleActionError(error);
    }
  });
});

resetForm.addEventListener("submit", async (event) => {
  event.preventDefault();
  clearMessage(manageMessage);
  const password = resetForm.elements.password.value;
  await whileBusy(document.getElementById("reset-password-button"), async () => {
    try {
      await apiFetch(userPath(selected.uid), { method: "PUT", body: { password } });
      resetForm.reset();
      showNote(manageMessage, `The password of ${selected.uid} was reset. Their sessions were logged out.`);
    } catch (error) {
      handleActionError(error);
    }
  });
});

// Recovery by email (docs/recovery.md): the selected user's address and its state, a reset link sent to it, or the
// admin's word that it is theirs.
function renderEmailActions() {
  const state = document.getElementById("manage-email-state");
  state.textContent = !selected.email
    ? "No email address: a reset link cannot be sent, and the user cannot reset a forgotten password themselves."
    : `Email ${selected.email} is ${selected.emailVerified ? "verified" : "not verified"}.`;
  document.getElementById("send-reset-button").disabled = !selected.email;
  document.getElementById("mark-verified-button").disabled = !selected.email || selected.emailVerified;
}

function emailActionError(error) {
  if (error instanceof ApiError && error.code === "EMAIL_MISSING") {
    showError(manageMessage, new ApiError({ status: 400, code: "USER_EMAIL_MISSING", message: `${selected.uid} has no email address: add one first.` }));
  } else {
    handleActionError(error);
  }
}

document.getElementById("send-reset-button").addEventListener("click", async (event) => {
  clearMessage(manageMessage);
  await whileBusy(event.currentTarget, async () => {
    try {
      const answer = await apiFetch(`${userPath(selected.uid)}/password-reset`, { method: "POST" });
      showNote(manageMessage, `${answer.message}.`, answer.sent ? "success" : "info");
    } catch (error) {
      emailActionError(error);
    }
  });
});

document.getElementById("mark-verified-button").addEventListener("click", async (event) => {
  clearMessage(manageMessage);
  await whileBusy(event.currentTarget, async () => {
    try {
      const updated = await apiFetch(userPath(selected.uid), { method: "PUT", body: { emailVerified: true } });
      users = users.map((user) => (user.id === updated.id ? updated : user));
      selected = updated;
      renderUsers();
      showNote(manageMessage, `The email address of ${updated.uid} is now marked verified.`);
    } catch (error) {
      emailActionError(error);
    }
  });
  if (selected) renderEmailActions(); // after whileBusy has re-enabled the button
});

// Two-factor (docs/two-factor.md): for someone who lost their phone and their recovery codes. Their own account
// an admin turns off on the Security page, with a code, like everyone else.
function renderMfaActions() {
  const own = selected.id === me.id;
  document.getElementById("manage-mfa-state").textContent = own
    ? "Your own two-factor authentication is managed on your Security page."
    : `Two-factor authentication is ${selected.mfaEnabled ? "on" : "off"} for ${selected.uid}.`;
  document.getElementById("reset-mfa-button").disabled = own || !selected.mfaEnabled;
}

document.getElementById("reset-mfa-button").addEventListener("click", async (event) => {
  clearMessage(manageMessage);
  const target = selected;
  if (!window.confirm(`Turn off two-factor authentication for ${target.uid}? Their recovery codes stop working and they are logged out everywhere; they log in with their password alone until they turn it on again.`)) return;
  await whileBusy(event.currentTarget, async () => {
    try {
      const updated = await apiFetch(userPath(target.uid), { method: "PUT", body: { resetMfa: true } });
      users = users.map((user) => (user.id === updated.id ? updated : user));
      selected = updated;
      renderUsers();
      showNote(manageMessage, `Two-factor authentication is off for ${updated.uid}. Their sessions were logged out.`);
    } catch (error) {
      handleActionError(error);
    }
  });
  if (selected) renderMfaActions(); // after whileBusy has re-enabled the button
});

document.getElementById("delete-button").addEventListener("click", async (event) => {
  clearMessage(manageMessage);
  const target = selected;
  if (!window.confirm(`Delete ${target.uid} (${target.name})? This cannot be undone.`)) return;
  await whileBusy(event.currentTarget, async () => {
    try {
      await apiFetch(userPath(target.uid), { method: "DELETE" });
      users = users.filter((user) => user.id !== target.id);
      selected = null;
      manageCard.hidden = true;
      renderUsers();
      showNote(pageMessage, `${target.uid} was deleted.`);
      pageMessage.focus();
    } catch (error) {
      handleActionError(error);
    }
  });
});

document.getElementById("close-manage-button").addEventListener("click", closeManage);
manageCard.addEventListener("keydown", (event) => {
  if (event.key === "Escape") closeManage();
});

renderFooter();
const session = await loadSession();
me = session.user;
renderNav(me);
document.getElementById("admin-loading").remove();

if (!me) {
  if (session.error) showError(pageMessage, session.error);
  else showNote(pageMessage, "Log in as an admin to manage users.", "info");
  if (!session.error || session.error.status === 401) pageMessage.append(" ", loginLink());
} else if (me.role !== "Admin") {
  // Only the role from the API decides what is shown; the API refuses the admin routes anyway.
  showError(
    pageMessage,
    new ApiError({ code: "ADMINS_ONLY", message: `Admins only. You are logged in as ${me.uid}, who is a ${me.role}.` }),
  );
} else {
  try {
    await loadUsers();
    content.hidden = false;
  } catch (error) {
    if (error instanceof ApiError && error.status === 401) handleActionError(error);
    else showError(pageMessage, error);
  }
}
