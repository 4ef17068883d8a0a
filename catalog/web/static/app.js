// catalog serve: a little progressive enhancement. Every page works without it (plain forms and links).
"use strict";

// Browse: a changed filter applies at once.
document.querySelectorAll("select[data-autosubmit]").forEach((select) => {
  select.addEventListener("change", () => select.form.requestSubmit());
});

// Forms marked .live (arithmetic, photo) post in the background and swap in the new results, so a
// chosen photo stays chosen while terms are added or weights changed.
async function submitLive(form, submitter) {
  const data = new FormData(form, submitter);
  const file = data.get("photo");
  if (file instanceof File && file.size === 0) data.delete("photo");
  const results = document.getElementById("results");
  results.classList.add("busy");
  results.setAttribute("aria-busy", "true");
  try {
    const response = await fetch(form.action, { method: "POST", body: data });
    const page = new DOMParser().parseFromString(await response.text(), "text/html");
    for (const id of ["flash", "chips", "inferred", "results"]) {
      const fresh = page.getElementById(id);
      const current = document.getElementById(id);
      if (fresh && current) current.replaceWith(fresh);
    }
    bindChips();
  } catch (error) {
    document.getElementById("flash").innerHTML = "";
    const message = document.createElement("p");
    message.className = "error";
    message.textContent = "The server did not answer: " + error.message;
    document.getElementById("flash").append(message);
  } finally {
    const now = document.getElementById("results");
    now.classList.remove("busy");
    now.removeAttribute("aria-busy");
  }
}

document.querySelectorAll("form.live").forEach((form) => {
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    submitLive(form, event.submitter);
  });
  const file = form.querySelector('input[type="file"]');
  if (file) file.addEventListener("change", () => { preview(file); form.requestSubmit(); });
});

// Arithmetic chips: a weight change rewrites the chip's hidden term and updates the results.
function bindChips() {
  document.querySelectorAll("#chips .chip").forEach((chip) => {
    const weight = chip.querySelector("input.weight");
    const hidden = chip.querySelector('input[type="hidden"]');
    if (!weight || !hidden || weight.dataset.bound) return;
    weight.dataset.bound = "1";
    weight.addEventListener("change", () => {
      if (!(Number(weight.value) > 0)) return;
      hidden.value = chip.dataset.key + ":" + weight.value;
      weight.form.requestSubmit();
    });
  });
}
bindChips();

// Photo: drop a file on the zone (the file input inside it stays the keyboard way in).
function preview(input) {
  const image = document.getElementById("preview");
  if (!image || !input.files.length) return;
  if (image.src) URL.revokeObjectURL(image.src);
  image.src = URL.createObjectURL(input.files[0]);
  image.hidden = false;
}

const drop = document.getElementById("drop");
if (drop) {
  const input = drop.querySelector('input[type="file"]');
  for (const name of ["dragenter", "dragover"]) {
    drop.addEventListener(name, (event) => { event.preventDefault(); drop.classList.add("over"); });
  }
  for (const name of ["dragleave", "drop"]) {
    drop.addEventListener(name, () => drop.classList.remove("over"));
  }
  drop.addEventListener("drop", (event) => {
    event.preventDefault();
    if (!event.dataTransfer.files.length) return;
    input.files = event.dataTransfer.files;
    input.dispatchEvent(new Event("change"));
  });
}
