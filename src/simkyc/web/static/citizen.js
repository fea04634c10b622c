// The citizen's portal: prove yourself (document data, card, selfie, liveness) or sign in
// with a code from a shop, then see every line under your ID, report one as "not mine",
// and read who accessed your data.

import {
  $, api, busy, endSession, known, list, newKey, onSubmit, outcomeText, reasonText, setCsrf,
  showStep, submitOnce,
} from "./common.js";
import { formatDate, startI18n, t } from "./i18n.js";
import { applicantFrom, CONSENT_VERSION, loadSteps, Proofing } from "./proofing.js";
import { checkCheckpoint, matches, trustedKey, verifyEntry } from "./tlog.js";

// Each access checked in this browser against the signed transparency log (tlog.js).
// (Each label a call of t, so simkyc.cli.extract sees the messages in use.)
const CHECKED = {
  verified: () => t("citizen.checked.verified"),
  failed: () => t("citizen.checked.failed"),
  pending: () => t("citizen.checked.pending"),
};

let proofing = null;
let disputed = null;
let lastView = null;
let lastDispute = null;

function when(iso) {
  return formatDate(iso);
}

// A cell of data (a number, an operator's name): never translated, marked so.
function data(text) {
  const span = document.createElement("span");
  span.translate = false;
  span.textContent = text;
  return span;
}

// A table row; each cell carries its column's name for the stacked phone layout.
function row(table, cells) {
  const labels = [...table.querySelectorAll("thead th")].map((th) => th.textContent);
  const tr = document.createElement("tr");
  for (const [i, cell] of cells.entries()) {
    const td = document.createElement("td");
    td.dataset.label = labels[i] || "";
    if (cell instanceof Node) td.append(cell);
    else td.textContent = cell;
    tr.append(td);
  }
  return tr;
}

async function prove(form) {
  const body = { applicant: applicantFrom(form),
    consent: { given: $("#consent").checked, version: CONSENT_VERSION } };
  const out = await submitOnce(form, (key) =>
    api("POST", "/web/portal/sessions", { json: body, key }));
  setCsrf(out.csrf);
  $("#sign-out").hidden = false;
  proofing.begin(out.session.id, out.session.document_checks || []);
}

async function decided(view) {
  proofing.stopAll();
  if (view.outcome === "approved") {
    await finish();
    return;
  }
  showStep("decided");
  showDecision(view);
}

// The decision's text (again after a change of language).
function showDecision(view) {
  lastView = view;
  const outcome = $("#outcome");
  outcome.textContent = outcomeText(view.outcome);
  outcome.className = `outcome ${view.outcome}`;
  const reasons = view.reasons.map(reasonText);
  if (view.outcome === "manual_review") reasons.push(t("citizen.review"));
  list($("#decision-reasons"), reasons);
  $("#check-again").hidden = view.outcome !== "manual_review";
}

// The approved session becomes a citizen session (the server keeps the token).
async function finish() {
  signedIn(await api("POST", "/web/portal/finish"));
}

async function signedIn(session) {
  setCsrf(session.csrf);
  $("#sign-out").hidden = false;
  if (session.kind !== "citizen") return;
  showStep("mine");
  await Promise.all([showLines(), showAccesses()]);
}

async function showLines() {
  const lines = await api("GET", "/v1/me/lines");
  const body = $("#lines tbody");
  body.textContent = "";
  $("#no-lines").hidden = lines.length > 0;
  $("#lines").hidden = lines.length === 0;
  for (const line of lines) {
    const status = document.createElement("span");
    status.textContent = known(`status.${line.status}`, line.status);
    status.className = `status-${line.status}`;
    let action = "";
    if (line.status !== "disputed" && line.status !== "cancelled") {
      action = document.createElement("button");
      action.type = "button";
      action.className = "secondary";
      action.textContent = t("citizen.not_mine");
      action.setAttribute("aria-label", t("citizen.not_mine_label",
        { number: line.msisdn_masked }));
      action.addEventListener("click", () => askDispute(line));
    }
    const operator = t("citizen.line.operator", { operator: line.operator,
      service: known(`service.${line.service}`, line.service) });
    body.append(row($("#lines"), [data(line.msisdn_masked), operator,
      formatDate(line.since, false), status, action]));
  }
}

async function showAccesses() {
  const accesses = await api("GET", "/v1/me/accesses");
  const head = await api("GET", "/v1/audit/checkpoint").catch(() => null);
  const vkey = head ? trustedKey(head.vkey) : null;
  const state = vkey ? await checkCheckpoint(head.note, vkey, consistencyProof) : null;
  $("#log-fork").hidden = state !== "fork";
  const body = $("#accesses tbody");
  body.textContent = "";
  for (const a of [...accesses].reverse()) {
    body.append(row($("#accesses"), [when(a.at), known(`role.${a.actor_role}`, a.actor_role),
      known(`audit_action.${a.action}`, a.action),
      known(`audit_purpose.${a.purpose}`, a.purpose),
      CHECKED[await checked(a, vkey)]()]));
  }
}

// The server's consistency proof between two tree sizes, as bytes.
async function consistencyProof(first, second) {
  const out = await api("GET", `/v1/audit/proof/consistency?first=${first}&second=${second}`);
  return out.hashes.map((h) => Uint8Array.from(atob(h), (c) => c.charCodeAt(0)));
}

async function checked(access, vkey) {
  if (!access.proof || !vkey) return "pending";
  const ok = matches(access, access.proof) && await verifyEntry(access.proof, vkey);
  return ok ? "verified" : "failed";
}

function askDispute(line) {
  disputed = line;
  $("#dispute-question").textContent = t("citizen.dispute.question",
    { number: line.msisdn_masked, operator: line.operator });
  $("#dispute-confirm").hidden = false;
  $("#dispute-result").textContent = "";
  $("#dispute-yes").focus();
}

async function dispute() {
  const line = disputed;
  const out = await api("POST", `/v1/me/lines/${encodeURIComponent(line.id)}/dispute`,
    { key: newKey() });
  $("#dispute-confirm").hidden = true;
  lastDispute = { number: line.msisdn_masked, deadline: out.deadline };
  showDisputed();
  await Promise.all([showLines(), showAccesses()]);
}

function showDisputed() {
  $("#dispute-result").textContent = lastDispute ? t("citizen.dispute.done",
    { number: lastDispute.number, deadline: when(lastDispute.deadline) }) : "";
}

// A change of language: what the page wrote itself is written again.
async function relabel() {
  const step = document.body.dataset.step;
  if (step === "decided" && lastView) showDecision(lastView);
  if (step === "mine") {
    showDisputed();
    if (disputed && !$("#dispute-confirm").hidden) askDispute(disputed);
    await Promise.all([showLines(), showAccesses()]);
  }
}

async function signOut() {
  proofing.stopAll();
  await endSession("start");
}

async function main() {
  await loadSteps($("#proofing-steps"));
  await startI18n();
  document.addEventListener("language", () => busy($("#language"), relabel));
  proofing = new Proofing(decided);
  onSubmit("#prove-form", prove);
  onSubmit("#token-form", async (form) => {
    const input = $("#token");
    const session = await api("POST", "/web/session", { json: { key: input.value } });
    input.value = "";
    await signedIn(session);
  });
  $("#check-again").addEventListener("click", (e) => busy(e.target, finish));
  $("#start-again").addEventListener("click", () => signOut());
  $("#sign-out").addEventListener("click", (e) => busy(e.target, signOut));
  $("#dispute-yes").addEventListener("click", (e) => busy(e.target, dispute));
  $("#dispute-no").addEventListener("click", () => {
    $("#dispute-confirm").hidden = true;
  });
  try {
    const session = await api("GET", "/web/session");
    if (session.kind === "citizen") {
      await signedIn(session);
    } else {
      // Back to a check of this browser's (waiting for a reviewer, say).
      setCsrf(session.csrf);
      $("#sign-out").hidden = false;
      await decided(await api("GET", `/v1/proofing-sessions/${session.proofing_id}`));
    }
  } catch (err) {
    showStep("start");
  }
  document.body.classList.add("ready");
}

main();
