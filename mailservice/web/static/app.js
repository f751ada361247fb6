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

document.addEventListener("keydown", (event) => {
  // Mail-client keys: j / k move through a list, Enter opens, / searches, u goes up.
  const target = event.target;
  if (event.ctrlKey || event.metaKey || event.altKey) return;
  if (target.closest && target.closest("input, textarea, select")) return;
  const links = [...document.querySelectorAll(".thread a.open, .hit a")];
  const at = links.indexOf(document.activeElement);
  if (event.key === "j" || event.key === "k") {
    const next = links[Math.max(0, Math.min(links.length - 1, at + (event.key === "j" ? 1 : -1)))];
    if (next) { next.focus(); event.preventDefault(); }
  } else if (event.key === "/") {
    const search = document.querySelector("header input[name=q]");
    if (search) { search.focus(); event.preventDefault(); }
  } else if (event.key === "u") {
    const folder = document.querySelector(".folders li.current a");
    if (folder && !links.length) { window.location = folder.href; }
  }
});
