// The evidence steps both pages share: the card, the selfie, the liveness challenge, then the
// decision (POST .../conclude). The markup comes from steps.html.

import {
  $, api, ApiError, busy, formJson, known, list, newKey, showAlert, showStep,
} from "./common.js";
import { Camera, cameraProblem } from "./camera.js";
import { locale, t } from "./i18n.js";

export async function loadSteps(target) {
  const response = await fetch("/web/static/steps.html", { credentials: "same-origin" });
  const template = document.createElement("template");
  template.innerHTML = await response.text();
  const fields = template.content.querySelector("#applicant-fields");
  for (const slot of document.querySelectorAll('[data-fields="applicant"]')) {
    slot.replaceWith(fields.content.cloneNode(true));
  }
  fields.remove();
  target.replaceWith(template.content);
}

// The privacy notice's version the consent checkbox refers to.
export const CONSENT_VERSION = "2026-11";

// The applicant's document data from the shared fields (steps.html) of `form`.
export function applicantFrom(form) {
  const data = formJson(form);
  const mrz = data.mrz.split("\n").map((row) => row.trim()).filter(Boolean);
  return {
    document_kind: data.document_kind,
    country: data.country.trim().toUpperCase(),
    number: data.number.trim(),
    name: data.name.trim(),
    birth_date: data.birth_date,
    expiry: data.expiry || null,
    mrz: mrz.length ? mrz : null,
  };
}


// A liveness reason: the API's sentence while the page is in the language it was asked in,
// else said again from its catalog key (`reason_keys`); a reason without a key stays as said.
function reasonSaid(key, said, lang) {
  if (!key || lang === locale()) return said;
  const params = {};
  if (key.actions) {
    params.actions = key.actions.map((a) => known(`prompt.${a}`, a)).join(t("advice.separator"));
  }
  return known(key.id, said, params);
}

export class Proofing {
  // onDecided(view) gets the session after the decision.
  constructor(onDecided) {
    this.onDecided = onDecided;
    this.id = null;
    // What the steps show, kept as the API's codes and keys: a change of language says it
    // all again from the catalog (the API's sentences were in the language of the request).
    this.shown = { checks: [], cardText: [], verdict: null, prompt: null, problems: {} };
    document.addEventListener("language", () => this.relabel());
    this.cameras = {
      document: new Camera($("#card-camera"), "card"),
      selfie: new Camera($("#selfie-camera"), "face"),
      liveness: new Camera($("#liveness-camera"), "face"),
    };
    $("#card-shoot").addEventListener("click", (e) => busy(e.target, () => this.shootCard()));
    $("#card-file").addEventListener("change", (e) => this.uploadCard(e.target));
    $("#selfie-shoot").addEventListener("click", (e) => busy(e.target, () => this.shootSelfie()));
    for (const button of document.querySelectorAll(".retry-camera")) {
      button.addEventListener("click", () => this.step(this.current));
    }
    $("#liveness-start").addEventListener("click", (e) => busy(e.target, () => this.live()));
    $("#liveness-finish").addEventListener("click", (e) => busy(e.target, () => this.conclude()));
  }

  // `checks`: the new session's document checks; those that failed or could not be made are
  // listed above the card step, so the agent knows before the photos (the decision says it too).
  begin(proofingId, checks = []) {
    this.id = proofingId;
    this.shown = { checks, checksLang: locale(), cardText: [], verdict: null, prompt: null,
      problems: {} };
    this.showNotes();
    this.step("document");
  }

  // The document checks that failed or could not be made: the API's own sentences while the
  // page is in the language they were asked in, else said again from their codes.
  showNotes() {
    const again = this.shown.checksLang !== locale();
    const notes = this.shown.checks.filter((c) => c.passed !== true).map((c) =>
      (again && c.code ? known(`check.${c.code}`, c.message || c.code) : c.message || c.code));
    list($("#document-notes"), notes);
    $("#document-notes").hidden = notes.length === 0;
  }

  // A change of language: everything the steps wrote is written again.
  relabel() {
    if (this.id === null) return;
    this.showNotes();
    this.showCardText();
    if (this.shown.verdict) this.showVerdict(this.shown.verdict);
    if (this.shown.prompt) this.showPrompt(...this.shown.prompt);
    for (const [step, err] of Object.entries(this.shown.problems)) {
      const section = $(`section[data-step="${step}"]`);
      if (!$(".camera-problem", section).hidden) this.noCamera(section, err);
    }
  }

  async step(name) {
    this.current = name;
    for (const camera of Object.values(this.cameras)) camera.close();
    showStep(name);
    const section = $(`section[data-step="${name}"]`);
    const problem = $(".camera-problem", section);
    problem.hidden = true;
    if (name === "liveness") {
      $("#liveness-result").hidden = true;
      $("#liveness-finish").hidden = true;
      $("#prompt").textContent = "";
    }
    if (name === "liveness") return; // the camera opens when the check starts
    try {
      await this.cameras[name].open();
      section.classList.remove("no-camera");
    } catch (err) {
      this.noCamera(section, err);
    }
  }

  noCamera(section, err) {
    this.shown.problems[section.dataset.step] = err;
    section.classList.add("no-camera");
    const problem = $(".camera-problem", section);
    const needed = section.dataset.step === "document"
      ? t("camera.upload_instead") : t("camera.needed");
    problem.textContent = cameraProblem(err) + needed;
    problem.hidden = false;
    const retry = $(".retry-camera", section);
    if (retry) retry.hidden = false;
  }

  async send(kind, blob, name) {
    const form = new FormData();
    form.append("image", blob, name);
    if (kind === "document") form.append("source", "card");
    return api("POST", `/v1/proofing-sessions/${this.id}/${kind}`, { form, key: newKey() });
  }

  async shootCard() {
    const blob = await this.cameras.document.snapshot();
    await this.cardSent(await this.send("document", blob, "card.jpg"));
  }

  async uploadCard(input) {
    const file = input.files && input.files[0];
    if (!file) return;
    const label = input.closest("label");
    label.classList.add("busy");
    try {
      await this.cardSent(await this.send("document", file, file.name));
    } catch (err) {
      showAlert(err, () => t("steps.document.refused"));
    } finally {
      label.classList.remove("busy");
      input.value = "";
    }
  }

  // `out.card_text`: each typed field against the card's printed text (absent when the card's
  // text is not read); shown above the selfie step so the agent can correct a typo.
  async cardSent(out) {
    this.shown.cardText = (out && out.card_text) || [];
    this.showCardText();
    await this.step("selfie");
  }

  showCardText() {
    const fields = this.shown.cardText;
    list($("#card-text ul"), fields.map((f) => {
      const label = known(`field.${f.field}`, f.field);
      const status = known(`field_status.${f.status}`, f.status);
      return f.status === "mismatch" && f.read ? t("card_text.read", { label, status, read: f.read })
        : t("card_text.line", { label, status });
    }));
    $("#card-text").hidden = fields.length === 0;
  }

  async shootSelfie() {
    const blob = await this.cameras.selfie.snapshot();
    await this.send("selfie", blob, "selfie.jpg");
    await this.step("liveness");
  }

  // One challenge: a fresh camera stream, the prompts in step with the server's slots,
  // the recording uploaded with the challenge's nonce.
  async live() {
    const camera = this.cameras.liveness;
    const section = $('section[data-step="liveness"]');
    $("#liveness-result").hidden = true;
    try {
      await camera.open();
    } catch (err) {
      this.noCamera(section, err);
      return;
    }
    const base = `/v1/proofing-sessions/${this.id}`;
    let evidence;
    let challenge;
    try {
      const asked = locale();
      challenge = await api("POST", `${base}/liveness-challenges`, { key: newKey() });
      evidence = await camera.record(challenge, (k, prompt) => {
        const shown = [k, challenge.prompts.length, challenge.actions[k], prompt, asked];
        this.shown.prompt = prompt ? shown : null;
        this.showPrompt(...shown);
      });
    } finally {
      camera.close();
    }
    // data-i18n: translate() says the button's new label again after a change of language.
    $("#liveness-start").dataset.i18n = "steps.liveness.checking";
    $("#liveness-start").textContent = t("steps.liveness.checking");
    const form = new FormData();
    form.append("nonce", challenge.nonce);
    if (evidence.video) {
      form.append("video", evidence.video, "liveness.webm");
    } else {
      form.append("fps", String(evidence.fps));
      evidence.stills.forEach((still, i) => form.append("stills", still, `frame${i}.jpg`));
    }
    const result = await api("POST", `${base}/liveness`, { form, key: newKey() });
    this.showVerdict({ ...result, lang: locale() });
    if (result.verdict === "live") await this.conclude();
  }

  // Prompt `k` of `n`: the server's sentence while the page is in `lang`, the language it
  // was asked in, else the catalog's; none: the prompt is cleared.
  showPrompt(k, n, action, prompt, lang) {
    const shown = $("#prompt");
    const said = lang === locale() ? prompt : known(`prompt.${action}`, prompt);
    shown.textContent = prompt ? `${k + 1}/${n}: ${said}` : "";
    shown.hidden = !prompt;
  }

  showVerdict(result) {
    this.shown.verdict = result;
    const box = $("#liveness-result");
    box.hidden = false;
    box.dataset.verdict = result.verdict;
    $(".verdict", box).textContent = known(`verdict.${result.verdict}`, result.verdict);
    const keys = result.reason_keys || [];
    list($(".reasons", box), result.reasons.map((said, i) => reasonSaid(keys[i], said,
      result.lang)));
    $("#liveness-start").dataset.i18n = "steps.liveness.again";
    $("#liveness-start").textContent = t("steps.liveness.again");
    $("#liveness-finish").hidden = result.verdict === "live";
  }

  async conclude() {
    const view = await api("POST", `/v1/proofing-sessions/${this.id}/conclude`, { key: newKey() });
    await this.onDecided(view);
  }

  stopAll() {
    for (const camera of Object.values(this.cameras)) camera.close();
  }
}

export { ApiError };
