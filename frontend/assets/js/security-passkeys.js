// The security page's passkeys section (placeholder until its feature lands).
export async function renderPasskeysSection() {
  const panel = document.getElementById("passkeys-panel");
  panel.textContent = "Not available on this server yet.";
}
