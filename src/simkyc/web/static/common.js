// The pages' link to the API and their small UI helpers. The session is an HttpOnly cookie
// set by the server; the CSRF token lives in this module's memory only (never in storage).
// Every call names the page's language, so the API's messages come back in it.

import { locale, t } from "./i18n.js";

let csrf = null;

export function setCsrf(token) {
  csrf = token;
}

export class ApiError extends Error {
  constructor(status, code, message, details) {
    super(message);
    this.status = status;
    this.code = code;
    this.details = details || {};
  }
}

// A fresh Idempotency-Key for one user action; the caller reuses it when retrying.
export function newKey() {
  return crypto.randomUUID();
}

// One API call. JSON or FormData body; a network failure is retried once with the same key.
export async function api(method, path, { json, form, key } = {}) {
  const headers = { "Accept-Language": locale() };
  if (csrf && method !== "GET") headers["X-CSRF-Token"] = csrf;
  if (key) headers["Idempotency-Key"] = key;
  let body;
  if (json !== undefined) {
    headers["Content-Type"] = "application/json";
    body = JSON.stringify(json);
  } else if (form) {
    body = form;
  }
  let response;
  for (let attempt = 0; ; attempt += 1) {
    try {
      response = await fetch(path, { method, headers, body, credentials: "same-origin" });
      break;
    } catch (err) {
      if (attempt >= 1 || (method !== "GET" && !key)) {
        throw Object.assign(new ApiError(0, "NETWORK", t("error.NETWORK")), { lang: locale() });
      }
    }
  }
  const text = await response.text();
  let data = null;
  try {
    data = text ? JSON.parse(text) : null;
  } catch (err) {
    data = null;
  }
  if (!response.ok) {
    const error = (data && data.error) || {};
    throw Object.assign(new ApiError(response.status, error.code || `HTTP_${response.status}`,
      error.message || t("error.HTTP_ERROR"), error), { lang: headers["Accept-Language"] });
  }
  return data;
}

export const $ = (selector, root = document) => root.querySelector(selector);

// Show one step (a <section data-step>) and move the focus to its heading.
export function showStep(name) {
  for (const section of document.querySelectorAll("section[data-step]")) {
    section.hidden = section.dataset.step !== name;
  }
  clearAlert();
  const heading = $(`section[data-step="${name}"] h2`);
  if (heading) {
    heading.setAttribute("tabindex", "-1");
    heading.focus();
  }
  document.body.dataset.step = name;
}

export function clearAlert() {
  const box = $("#alert");
  box.hidden = true;
  box.textContent = "";
  shownAlert = null;
}

// The alert shown, to say it again after a change of language.
let shownAlert = null;

// Whether `err` came in another language than the page's now (`lang`: the language the API
// was asked in), so its sentences must be said again from its code.
function stale(err) {
  return err.lang !== undefined && err.lang !== locale();
}

// An error's sentence: the API's own, else (after a change of language) the catalog's for its
// code, filled from its details; the API's own when the catalog cannot say it.
function errorSaid(err) {
  if (!err.code || !stale(err)) return err.message || String(err);
  const details = err.details || {};
  const findings = details.findings || [];
  if (err.code === "POOR_QUALITY" && findings.length) {
    const advice = findings.map((f) => known(`advice.${f.check}`, f.advice || f.check))
      .join(t("advice.separator"));
    return known("error.POOR_QUALITY", err.message, { advice });
  }
  const said = known(`error.${err.code}`, err.message, details);
  return /\{\w+\}/.test(said) ? err.message : said;
}

function findingSaid(err, f) {
  if (!stale(err)) return f.advice || f.check;
  if (f.check) return known(`advice.${f.check}`, f.advice || f.check);
  return f.code ? known(`finding.${f.code}`, f.message || f.code) : f.advice;
}

document.addEventListener("language", () => {
  if (shownAlert && !$("#alert").hidden) showAlert(shownAlert.err, shownAlert.prefix, false);
});

// An error for people: the API's message, with its stable code for support. `prefix`: a
// string, or a function giving it (said again after a change of language).
export function showAlert(err, prefix = "", focus = true) {
  const box = $("#alert");
  box.textContent = "";
  const message = document.createElement("p");
  const before = typeof prefix === "function" ? prefix() : prefix;
  message.textContent = `${before}${errorSaid(err)}`;
  box.append(message);
  const findings = (err.details && err.details.findings) || [];
  if (findings.length) {
    const list = document.createElement("ul");
    for (const f of findings) {
      const item = document.createElement("li");
      item.textContent = findingSaid(err, f);
      list.append(item);
    }
    box.append(list);
  }
  if (err.code) {
    const code = document.createElement("p");
    code.className = "code";
    code.textContent = t("web.code", { code: err.code });
    box.append(code);
  }
  box.hidden = false;
  shownAlert = { err, prefix };
  if (focus) box.focus();
}

// Run `work` with `button` disabled and marked busy; errors go to the alert box.
export async function busy(button, work) {
  button.disabled = true;
  button.setAttribute("aria-busy", "true");
  const label = button.textContent;
  if (button.dataset.busy) button.textContent = button.dataset.busy;
  try {
    return await work();
  } catch (err) {
    showAlert(err);
    return undefined;
  } finally {
    button.disabled = false;
    button.removeAttribute("aria-busy");
    if (button.textContent === button.dataset.busy) button.textContent = label;
  }
}

export function formJson(form) {
  const out = {};
  for (const [name, value] of new FormData(form).entries()) out[name] = value;
  return out;
}

// A <dl> from [label, value] pairs; [label, value, "data"] marks an identifier or a number,
// which no translation touches (translate="no").
export function facts(target, pairs) {
  target.textContent = "";
  for (const [label, value, kind] of pairs) {
    if (value === null || value === undefined || value === "") continue;
    const dt = document.createElement("dt");
    dt.textContent = label;
    const dd = document.createElement("dd");
    dd.textContent = String(value);
    if (kind === "data") dd.translate = false;
    target.append(dt, dd);
  }
}

// A decision's reason and outcome (stable codes from the API) in the page's language.
export function reasonText(reason) {
  return known(`reason.${reason}`, reason);
}

export function outcomeText(outcome) {
  return known(`outcome.${outcome}`, outcome);
}

// `id`'s message, or `value` itself when no catalog has one (a code added since).
export function known(id, value, params = {}) {
  const text = t(id, params);
  return text === id ? value : text;
}

export function list(target, items) {
  target.textContent = "";
  for (const text of items) {
    const li = document.createElement("li");
    li.textContent = text;
    target.append(li);
  }
}

// A form's Idempotency-Key: one per user action, kept while the same action is retried after
// a network failure, dropped once the server has answered.
export async function submitOnce(form, send) {
  form.dataset.key = form.dataset.key || newKey();
  try {
    const out = await send(form.dataset.key);
    delete form.dataset.key;
    return out;
  } catch (err) {
    if (!(err instanceof ApiError && err.status === 0)) delete form.dataset.key;
    throw err;
  }
}

// Submit `form` (selector) with `handler(form)`, its submit button busy meanwhile.
export function onSubmit(selector, handler) {
  const form = $(selector);
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    busy($("button[type=submit]", form), () => handler(form));
  });
}

// Sign out: the server forgets the session; the page goes back to `step`.
export async function endSession(step) {
  await api("POST", "/web/session/end");
  setCsrf(null);
  $("#sign-out").hidden = true;
  showStep(step);
}
