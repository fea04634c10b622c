// The pages' languages. The catalogs are the server's own (src/simkyc/i18n/catalogs/*.json,
// served at /web/i18n/<tag>): markup names its text by id (a data-i18n attribute for the text,
// data-i18n-busy / data-i18n-aria-label for those attributes), scripts call t(id, params).
// The language is the one chosen with the header's switch (remembered in localStorage), else
// the one the browser's Accept-Language prefers; <html lang> follows it.

const STORE = "simkyc.lang";
const ATTRIBUTES = { busy: "data-busy", "aria-label": "aria-label" };

let current = document.documentElement.lang || "en";
let messages = {};
let english = {};

// The message `id` in the current language ({name} filled from `params`), else English.
export function t(id, params = {}) {
  const template = messages[id] ?? english[id] ?? id;
  return template.replace(/\{(\w+)\}/g, (whole, name) =>
    (params[name] === undefined ? whole : String(params[name])));
}

// The current language tag (for Accept-Language and for dates).
export function locale() {
  return current;
}

// A date (or date and time) the way the current language writes it.
export function formatDate(iso, withTime = true) {
  const date = new Date(iso);
  return withTime ? date.toLocaleString(current) : date.toLocaleDateString(current);
}

export function formatTime(iso) {
  return new Date(iso).toLocaleTimeString(current);
}

// Put the current language's text into `root`'s marked elements.
export function translate(root = document) {
  for (const el of root.querySelectorAll("[data-i18n]")) el.textContent = t(el.dataset.i18n);
  for (const [name, attribute] of Object.entries(ATTRIBUTES)) {
    for (const el of root.querySelectorAll(`[data-i18n-${name}]`)) {
      el.setAttribute(attribute, t(el.getAttribute(`data-i18n-${name}`)));
    }
  }
}

async function load(tag) {
  const response = await fetch(`/web/i18n/${encodeURIComponent(tag)}`,
    { credentials: "same-origin" });
  if (!response.ok) throw new Error(`no catalog for ${tag}`);
  return response.json();
}

function stored() {
  try {
    return window.localStorage.getItem(STORE);
  } catch (err) {
    return null; // storage refused (private mode): the browser's language stays
  }
}

// Switch to `tag`: load its catalog, translate the page, tell the page (event "language").
export async function setLanguage(tag, remember = true) {
  messages = tag === "en" ? english : await load(tag);
  current = tag;
  document.documentElement.lang = tag;
  translate(document);
  const select = document.querySelector("#language");
  if (select) select.value = tag;
  if (remember) {
    try {
      window.localStorage.setItem(STORE, tag);
    } catch (err) {
      // not remembered; still switched
    }
  }
  document.dispatchEvent(new CustomEvent("language", { detail: tag }));
}

// Fill the switch, pick the language (remembered, else Accept-Language's), translate. When
// the catalogs cannot be loaded the page keeps its markup's English and works on.
export async function startI18n() {
  let offer;
  try {
    const response = await fetch("/web/i18n", { credentials: "same-origin" });
    offer = await response.json();
    english = await load("en");
  } catch (err) {
    return;
  }
  const select = document.querySelector("#language");
  if (select) {
    select.textContent = "";
    for (const [tag, name] of Object.entries(offer.locales)) {
      const option = document.createElement("option");
      option.value = tag;
      option.lang = tag;
      option.textContent = name;
      select.append(option);
    }
    select.addEventListener("change", () => setLanguage(select.value).catch(() => {
      select.value = current; // the catalog did not load: stay in the current language
    }));
  }
  const remembered = stored();
  const tag = remembered && remembered in offer.locales ? remembered : offer.preferred;
  await setLanguage(tag, false);
}
