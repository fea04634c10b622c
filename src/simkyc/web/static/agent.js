// The agent's kiosk: sign in, open a proofing session from the document data, collect the
// evidence (proofing.js), then register a line, swap a SIM or cancel a line.

import {
  $, api, busy, endSession, facts, formJson, known, list, newKey, onSubmit, outcomeText,
  reasonText, setCsrf, showStep, submitOnce,
} from "./common.js";
import { formatDate, formatTime, startI18n, t } from "./i18n.js";
import { applicantFrom, CONSENT_VERSION, loadSteps, Proofing } from "./proofing.js";

const state = { purpose: "registration", lineId: null, view: null, line: null, done: null,
  issued: null };
let proofing = null;

function signedIn(session) {
  if (session.kind !== "agent") {
    showStep("signin");
    return;
  }
  setCsrf(session.csrf);
  $("#sign-out").hidden = false;
  showStep("home");
}

function choose(purpose, fresh = true) {
  state.purpose = purpose;
  $("#purpose-label").textContent = known(`agent.purpose.${purpose}`, purpose);
  const lineField = $("#line-field");
  lineField.hidden = purpose !== "sim_swap";
  $("#swap-line").required = purpose === "sim_swap";
  if (!fresh) return;
  $("#applicant-form").reset();
  showStep("applicant");
}

async function openSession(form) {
  const data = formJson(form);
  state.lineId = state.purpose === "sim_swap" ? data.line_id.trim() : null;
  const body = {
    purpose: state.purpose,
    line_id: state.lineId,
    applicant: applicantFrom(form),
    consent: { given: $("#consent").checked, version: CONSENT_VERSION },
  };
  const view = await submitOnce(form, (key) =>
    api("POST", "/v1/proofing-sessions", { json: body, key }));
  proofing.begin(view.id, view.document_checks);
}

function decided(view) {
  proofing.stopAll();
  state.purpose = view.purpose;
  state.lineId = view.line_id;
  state.proofingId = view.id;
  state.issued = null;
  showStep("decision");
  showDecision(view);
  const usable = view.outcome === "approved" && !view.consumed_at;
  $("#line-form").hidden = !(usable && view.purpose === "registration");
  $("#swap-form").hidden = !(usable && view.purpose === "sim_swap");
  $("#code-box").hidden = !(usable && view.purpose === "self_service");
  $("#code-issue").hidden = false;
  $("#code-token").hidden = true;
  $("#code-help").hidden = true;
}

// The decision's text (again after a change of language).
function showDecision(view) {
  state.view = view;
  const outcome = $("#outcome");
  outcome.textContent = outcomeText(view.outcome);
  outcome.className = `outcome ${view.outcome}`;
  const reasons = view.reasons.map(reasonText);
  if (view.outcome === "manual_review") {
    reasons.push(t("agent.decision.review", { id: view.id }));
  } else if (view.outcome === "rejected") {
    reasons.push(t("agent.decision.rejected"));
  }
  list($("#decision-reasons"), reasons);
  facts($("#decision-facts"), [
    [t("agent.fact.session"), view.id, "data"],
    [t("agent.fact.liveness"), view.liveness_verdict
      && known(`verdict_name.${view.liveness_verdict}`, view.liveness_verdict)],
    [t("agent.fact.valid_until"), view.expires_at && formatDate(view.expires_at)],
  ]);
}

// The citizen's self-service token, shown this once for the customer to type.
async function issueCode() {
  const issued = await api("POST",
    `/v1/proofing-sessions/${encodeURIComponent(state.proofingId)}/citizen-token`,
    { key: newKey() });
  $("#code-token").textContent = issued.token;
  state.issued = issued;
  showCodeHelp();
  $("#code-issue").hidden = true;
  $("#code-token").hidden = false;
  $("#code-help").hidden = false;
}

function showCodeHelp() {
  const where = t("agent.code.where", { url: `${window.location.origin}/web/citizen`,
    time: formatTime(state.issued.expires_at) });
  $("#code-help").textContent = t("agent.code.help", { where });
}

// `text()` says what was done (called again after a change of language).
function done(line, text) {
  showStep("done");
  state.line = line;
  state.done = text;
  showDone();
}

function showDone() {
  const line = state.line;
  $("#done-text").textContent = state.done();
  facts($("#line-facts"), [
    [t("agent.fact.line_id"), line.id, "data"], [t("agent.fact.number"), line.msisdn, "data"],
    [t("agent.fact.iccid"), line.iccid, "data"],
    [t("agent.fact.service"), known(`service.${line.service}`, line.service)],
    [t("agent.fact.status"), known(`status.${line.status}`, line.status)],
  ]);
}

// A change of language: what the page wrote itself is written again.
function relabel() {
  const step = document.body.dataset.step;
  if (step === "applicant") choose(state.purpose, false);
  if (step === "decision" && state.view) showDecision(state.view);
  if (step === "decision" && state.issued) showCodeHelp();
  if (step === "done" && state.line) showDone();
}

async function register(form) {
  const data = formJson(form);
  const body = { proofing_id: state.proofingId, msisdn: data.msisdn.trim(),
    iccid: data.iccid.trim(), service: data.service };
  const line = await submitOnce(form, (key) => api("POST", "/v1/lines", { json: body, key }));
  done(line, () => t("agent.done.registered"));
}

async function swap(form) {
  const body = { proofing_id: state.proofingId, iccid: formJson(form).iccid.trim() };
  const line = await submitOnce(form, (key) =>
    api("POST", `/v1/lines/${encodeURIComponent(state.lineId)}/swap-sim`, { json: body, key }));
  done(line, () => t("agent.done.swapped"));
}

async function cancel(form) {
  const lineId = formJson(form).line_id.trim();
  const line = await submitOnce(form, (key) =>
    api("POST", `/v1/lines/${encodeURIComponent(lineId)}/cancel`, { key }));
  done(line, () => t("agent.done.cancelled"));
}

async function resume(form) {
  const id = formJson(form).proofing_id.trim();
  decided(await api("GET", `/v1/proofing-sessions/${encodeURIComponent(id)}`));
}

async function signIn(form) {
  const input = $("#agent-key");
  const session = await api("POST", "/web/session", { json: { key: input.value } });
  input.value = "";
  signedIn(session);
}

async function signOut() {
  proofing.stopAll();
  await endSession("signin");
}

async function main() {
  await loadSteps($("#proofing-steps"));
  await startI18n();
  document.addEventListener("language", relabel);
  proofing = new Proofing(decided);
  onSubmit("#signin-form", signIn);
  onSubmit("#applicant-form", openSession);
  onSubmit("#line-form", register);
  onSubmit("#swap-form", swap);
  onSubmit("#cancel-form", cancel);
  onSubmit("#resume-form", resume);
  $("#sign-out").addEventListener("click", (e) => busy(e.target, signOut));
  $("#code-issue").addEventListener("click", (e) => busy(e.target, issueCode));
  for (const button of document.querySelectorAll("[data-purpose]")) {
    button.addEventListener("click", () => choose(button.dataset.purpose));
  }
  for (const button of document.querySelectorAll("[data-goto]")) {
    button.addEventListener("click", () => {
      proofing.stopAll();
      const target = `section[data-step="${button.dataset.goto}"] form`;
      for (const form of document.querySelectorAll(target)) form.reset();
      showStep(button.dataset.goto);
    });
  }
  try {
    signedIn(await api("GET", "/web/session"));
  } catch (err) {
    showStep("signin");
  }
  document.body.classList.add("ready");
}

main();
