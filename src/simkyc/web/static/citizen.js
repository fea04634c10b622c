// The citizen's portal: prove yourself (document data, card, selfie, liveness) or sign in
// with a code from a shop, then see every line under your ID, report one as "not mine",
// and read who accessed your data.

import {
  $, api, busy, endSession, list, newKey, onSubmit, OUTCOMES, REASONS, setCsrf, showStep,
  submitOnce,
} from "./common.js";
import { applicantFrom, CONSENT_VERSION, loadSteps, Proofing } from "./proofing.js";
import { matches, trustedKey, verifyEntry } from "./tlog.js";

const ACTIONS = {
  "proofing.started": "Identity check started",
  "proofing.decided": "Identity check decided",
  "proofing.reviewed": "Identity check reviewed by a person",
  "person.template_compared": "Face compared with your stored face",
  "person.read": "Your record was read",
  "line.registered": "Line registered",
  "line.refused": "Line refused",
  "line.swapped": "SIM swapped",
  "line.cancelled": "Line cancelled",
  "line.transfer_refused": "Transfer refused",
  "line.disputed": "Line reported as not yours",
  "dispute.reproofed": "Holder proved themselves again",
  "line.suspended": "Line suspended",
  "selfservice.lines_viewed": "You viewed your lines",
  "selfservice.accesses_viewed": "You viewed this log",
  "selfservice.token_issued": "You signed in",
  "media.read": "Stored photos read",
  "media.purged": "Stored photos deleted",
  "keys.resealed": "Encryption keys rotated",
};

// Each access checked in this browser against the signed transparency log (tlog.js).
const CHECKED = {
  verified: "Verified",
  failed: "NOT verified",
  pending: "Not yet in the log",
};

const PURPOSES = {
  registration: "registering a line",
  sim_swap: "a SIM swap",
  dispute: "a dispute",
  self_service: "your own request",
  review: "a review",
  oversight: "oversight (audit)",
  maintenance: "maintenance",
};

const ROLES = { agent: "shop agent", reviewer: "reviewer", auditor: "auditor",
  admin: "administrator", citizen: "you", system: "the system" };

let proofing = null;
let disputed = null;

function when(iso) {
  return new Date(iso).toLocaleString();
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
  const outcome = $("#outcome");
  outcome.textContent = OUTCOMES[view.outcome] || view.outcome;
  outcome.className = `outcome ${view.outcome}`;
  const reasons = view.reasons.map((r) => REASONS[r] || r);
  if (view.outcome === "manual_review") {
    reasons.push("A person will look at your check. Come back to this page later and press"
      + " \"Check again\".");
  }
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
    status.textContent = line.status;
    status.className = `status-${line.status}`;
    let action = "";
    if (line.status !== "disputed" && line.status !== "cancelled") {
      action = document.createElement("button");
      action.type = "button";
      action.className = "secondary";
      action.textContent = "Not mine";
      action.setAttribute("aria-label", `Line ${line.msisdn_masked} is not mine`);
      action.addEventListener("click", () => askDispute(line));
    }
    body.append(row($("#lines"), [line.msisdn_masked, `${line.operator} (${line.service})`,
      new Date(line.since).toLocaleDateString(), status, action]));
  }
}

async function showAccesses() {
  const accesses = await api("GET", "/v1/me/accesses");
  const head = await api("GET", "/v1/audit/checkpoint").catch(() => null);
  const vkey = head ? trustedKey(head.vkey) : null;
  const body = $("#accesses tbody");
  body.textContent = "";
  for (const a of [...accesses].reverse()) {
    body.append(row($("#accesses"), [when(a.at), ROLES[a.actor_role] || a.actor_role,
      ACTIONS[a.action] || a.action, PURPOSES[a.purpose] || a.purpose,
      CHECKED[await checked(a, vkey)]]));
  }
}

async function checked(access, vkey) {
  if (!access.proof || !vkey) return "pending";
  const ok = matches(access, access.proof) && await verifyEntry(access.proof, vkey);
  return ok ? "verified" : "failed";
}

function askDispute(line) {
  disputed = line;
  $("#dispute-question").textContent = `Report ${line.msisdn_masked} at ${line.operator} as`
    + " not yours? The operator must check it; unless its holder proves themselves again,"
    + " it will be suspended.";
  $("#dispute-confirm").hidden = false;
  $("#dispute-result").textContent = "";
  $("#dispute-yes").focus();
}

async function dispute() {
  const line = disputed;
  const out = await api("POST", `/v1/me/lines/${encodeURIComponent(line.id)}/dispute`,
    { key: newKey() });
  $("#dispute-confirm").hidden = true;
  $("#dispute-result").textContent = `Reported: ${line.msisdn_masked}. The holder has until `
    + `${when(out.deadline)} to prove it is theirs.`;
  await Promise.all([showLines(), showAccesses()]);
}

async function signOut() {
  proofing.stopAll();
  await endSession("start");
}

async function main() {
  await loadSteps($("#proofing-steps"));
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
