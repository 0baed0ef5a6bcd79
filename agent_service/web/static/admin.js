// /admin: refresh the server-rendered service status fragment every 30 s.
"use strict";

const statusBox = document.getElementById("service-status");
if (statusBox) {
  const seconds = Number(statusBox.dataset.intervalS || "30");
  setInterval(async () => {
    try {
      const response = await fetch(statusBox.dataset.refresh, {cache: "no-store"});
      if (response.ok) statusBox.innerHTML = await response.text();
    } catch (error) {
      /* keep the last status; the next refresh tries again */
    }
  }, seconds * 1000);
}
