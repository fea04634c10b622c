// The agent's kiosk: sign in, open a proofing session from the document data, collect the
// evidence (proofing.js), then register a line, swap a SIM or cancel a line.

import {
  $, api, busy, endSession, facts, formJson, list, newKey, onSubmit, OUTCOMES, REASONS,
  setCsrf, showStep, submitOnce,
} from "./common.js";
import { applicantFrom, CONSENT_VERSION, loadSteps, Proofing } from "./proofing.js";

const state = { purpose: "registration", lineId: null };
let proofing = null;

const PURPOSES = {
  registration: "A new line",
  sim_swap: "SIM swap: the holder proves it is them",
  self_service: "A sign-in code for the customer's own page",
};

function signedIn(session) {
  if (session.kind !== "agent") {
    showStep("signin");
    return;
  }
  setCsrf(session.csrf);
  $("#sign-out").hidden = false;
  showStep("home");
}

function choose(purpose) {
  state.purpose = purpose;
  $("#purpose-label").textContent = PURPOSES[purpose];
  const lineField = $("#line-field");
  lineField.hidden = purpose !== "sim_swap";
  $("#swap-line").required = purpose === "sim_swap";
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
  showStep("decision");
  const outcome = $("#outcome");
  outcome.textContent = OUTCOMES[view.outcome] || view.outcome;
  outcome.className = `outcome ${view.outcome}`;
  const reasons = view.reasons.map((r) => REASONS[r] || r);
  if (view.outcome === "manual_review") {
    reasons.push(`A reviewer must approve session ${view.id}; then continue it from `
      + "\"Continue a reviewed session\".");
  } else if (view.outcome === "rejected") {
    reasons.push("No line can be issued or changed with this session.");
  }
  list($("#decision-reasons"), reasons);
  facts($("#decision-facts"), [
    ["Session", view.id],
    ["Face score", view.face_score === null ? null
      : `${view.face_score.toFixed(3)} (threshold ${view.face_threshold.toFixed(3)})`],
    ["Liveness", view.liveness_verdict],
    ["Approval valid until", view.expires_at && new Date(view.expires_at).toLocaleString()],
  ]);
  const usable = view.outcome === "approved" && !view.consumed_at;
  $("#line-form").hidden = !(usable && view.purpose === "registration");
  $("#swap-form").hidden = !(usable && view.purpose === "sim_swap");
  $("#code-box").hidden = !(usable && view.purpose === "self_service");
  $("#code-issue").hidden = false;
  $("#code-token").hidden = true;
  $("#code-help").hidden = true;
}

// The citizen's self-service token, shown this once for the customer to type.
async function issueCode() {
  const issued = await api("POST",
    `/v1/proofing-sessions/${encodeURIComponent(state.proofingId)}/citizen-token`,
    { key: newKey() });
  $("#code-token").textContent = issued.token;
  $("#code-where").textContent = `${window.location.origin}/web/citizen, until `
    + new Date(issued.expires_at).toLocaleTimeString();
  $("#code-issue").hidden = true;
  $("#code-token").hidden = false;
  $("#code-help").hidden = false;
}

function done(line, text) {
  showStep("done");
  $("#done-text").textContent = text;
  facts($("#line-facts"), [
    ["Line ID", line.id], ["Number", line.msisdn], ["SIM (ICCID)", line.iccid],
    ["Service", line.service], ["Status", line.status],
  ]);
}

async function register(form) {
  const data = formJson(form);
  const body = { proofing_id: state.proofingId, msisdn: data.msisdn.trim(),
    iccid: data.iccid.trim(), service: data.service };
  const line = await submitOnce(form, (key) => api("POST", "/v1/lines", { json: body, key }));
  done(line, "Line registered.");
}

async function swap(form) {
  const body = { proofing_id: state.proofingId, iccid: formJson(form).iccid.trim() };
  const line = await submitOnce(form, (key) =>
    api("POST", `/v1/lines/${encodeURIComponent(state.lineId)}/swap-sim`, { json: body, key }));
  done(line, "SIM swapped: the old SIM no longer works.");
}

async function cancel(form) {
  const lineId = formJson(form).line_id.trim();
  const line = await submitOnce(form, (key) =>
    api("POST", `/v1/lines/${encodeURIComponent(lineId)}/cancel`, { key }));
  done(line, "Line cancelled; its number is in quarantine.");
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
