// Progressive enhancement only: every form and link works without this file.
"use strict";

document.addEventListener("change", (event) => {
  // "Select all" on the to-assign list.
  const box = event.target;
  if (box.classList && box.classList.contains("check-all")) {
    const table = box.closest("table");
    table.querySelectorAll('input[name="address"]').forEach((b) => { b.checked = box.checked; });
  }
});

async function refreshCounts() {
  // Unread badges follow new mail without reloading the page.
  const badges = document.querySelectorAll(".badge[data-folder]");
  if (!badges.length || document.hidden) return;
  try {
    const response = await fetch("/counts", { credentials: "same-origin" });
    if (!response.ok) return;
    const counts = await response.json();
    badges.forEach((badge) => {
      const count = counts[badge.dataset.folder] || 0;
      badge.textContent = count ? count.toLocaleString(document.documentElement.lang) : "";
    });
  } catch (error) { /* offline: keep the old numbers */ }
}
setInterval(refreshCounts, 60000);
