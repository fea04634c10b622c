// The camera: getUserMedia into a <video> under an oval (face) or card-shaped guide, live hints
// from a light in-page detector (the server's checks stay authoritative), stills as JPEG, and
// the liveness recording with the challenge's prompts shown one at a time in their slots.

const SAMPLE_W = 96;
const SAMPLE_H = 72;
// The oval guide, as fractions of the frame (the same numbers as .guide-face in app.css).
const OVAL = { cx: 0.5, cy: 0.49, rx: 0.23, ry: 0.35 };

import { t } from "./i18n.js";

export class CameraError extends Error {}

export function cameraProblem(err) {
  const name = err && err.name;
  if (name === "NotAllowedError" || name === "SecurityError") {
    return t("camera.refused");
  }
  if (name === "NotFoundError" || name === "OverconstrainedError" || name === "absent") {
    return t("camera.none");
  }
  if (name === "NotReadableError") {
    return t("camera.busy");
  }
  return t("camera.failed", { name: name || err });
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

export class Camera {
  constructor(root, mode) {
    this.root = root;
    this.mode = mode; // "face" or "card"
    this.video = root.querySelector("video");
    this.hint = root.querySelector(".hint");
    this.stream = null;
    this.timer = null;
    this.previous = null;
    this.canvas = document.createElement("canvas");
    this.canvas.width = SAMPLE_W;
    this.canvas.height = SAMPLE_H;
    this.detector = "FaceDetector" in window ? new window.FaceDetector({ fastMode: true }) : null;
    this.ok = false;
  }

  async open() {
    if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) {
      const err = new CameraError("no camera API");
      err.name = "absent";
      throw err;
    }
    this.close();
    this.setHint(t("camera.starting"), false);
    const facingMode = this.mode === "card" ? "environment" : "user";
    this.stream = await navigator.mediaDevices.getUserMedia({
      audio: false,
      video: { facingMode, width: { ideal: 1280 }, height: { ideal: 720 } },
    });
    this.video.srcObject = this.stream;
    await this.video.play();
    while (this.video.videoWidth === 0) await sleep(20);
    this.root.classList.add("live");
    this.setHint("", false);
    this.timer = setInterval(() => this.updateHint(), 300);
    this.updateHint();
    return this.stream;
  }

  close() {
    clearInterval(this.timer);
    this.timer = null;
    if (this.stream) for (const track of this.stream.getTracks()) track.stop();
    this.stream = null;
    this.video.srcObject = null;
    this.root.classList.remove("live");
    this.previous = null;
    this.setHint("", false);
  }

  // The current frame, full size, as a JPEG blob.
  snapshot(quality = 0.92) {
    if (!this.stream || !this.video.videoWidth) {
      return Promise.reject(new CameraError(t("camera.not_ready")));
    }
    const canvas = document.createElement("canvas");
    canvas.width = this.video.videoWidth;
    canvas.height = this.video.videoHeight;
    canvas.getContext("2d").drawImage(this.video, 0, 0);
    return new Promise((resolve) => canvas.toBlob(resolve, "image/jpeg", quality));
  }

  setHint(text, ok) {
    this.ok = ok;
    if (this.hint.textContent !== text) this.hint.textContent = text;
    this.hint.classList.toggle("ok", ok);
  }

  async updateHint() {
    if (!this.stream || this.video.readyState < 2) return;
    const stats = this.measure();
    let face = null;
    if (this.detector && this.mode === "face") {
      try {
        face = await this.detector.detect(this.video);
      } catch (err) {
        this.detector = null;
      }
    }
    const [text, ok] = this.mode === "card" ? cardHint(stats) : faceHint(stats, face, this.video);
    this.setHint(text, ok);
  }

  // Brightness, skin-coloured share and centre inside the oval, and motion, on a tiny copy.
  measure() {
    const ctx = this.canvas.getContext("2d", { willReadFrequently: true });
    ctx.drawImage(this.video, 0, 0, SAMPLE_W, SAMPLE_H);
    const px = ctx.getImageData(0, 0, SAMPLE_W, SAMPLE_H).data;
    const luma = new Float32Array(SAMPLE_W * SAMPLE_H);
    let sum = 0;
    let ovalSum = 0;
    let ovalN = 0;
    let skin = 0;
    let sx = 0;
    let sy = 0;
    for (let y = 0; y < SAMPLE_H; y += 1) {
      for (let x = 0; x < SAMPLE_W; x += 1) {
        const i = y * SAMPLE_W + x;
        const r = px[4 * i];
        const g = px[4 * i + 1];
        const b = px[4 * i + 2];
        const l = 0.299 * r + 0.587 * g + 0.114 * b;
        luma[i] = l;
        sum += l;
        const dx = (x / SAMPLE_W - OVAL.cx) / OVAL.rx;
        const dy = (y / SAMPLE_H - OVAL.cy) / OVAL.ry;
        if (dx * dx + dy * dy > 1) continue;
        ovalSum += l;
        ovalN += 1;
        // A classic YCbCr skin rule: cheap, tone-agnostic enough for a hint, never a decision.
        const cb = 128 - 0.1687 * r - 0.3313 * g + 0.5 * b;
        const cr = 128 + 0.5 * r - 0.4187 * g - 0.0813 * b;
        if (cb >= 77 && cb <= 127 && cr >= 133 && cr <= 173 && l > 35) {
          skin += 1;
          sx += x / SAMPLE_W;
          sy += y / SAMPLE_H;
        }
      }
    }
    let motion = 0;
    if (this.previous) {
      for (let i = 0; i < luma.length; i += 1) motion += Math.abs(luma[i] - this.previous[i]);
      motion /= luma.length;
    }
    this.previous = luma;
    return {
      brightness: sum / luma.length,
      ovalBrightness: ovalSum / Math.max(ovalN, 1),
      skinShare: skin / Math.max(ovalN, 1),
      skinX: skin ? sx / skin : 0.5,
      skinY: skin ? sy / skin : 0.5,
      motion,
    };
  }

  // The liveness capture: record while prompting action k from k x slot_s seconds.
  async record(challenge, onPrompt) {
    const slotMs = (challenge.slot_s || 2.5) * 1000;
    const prompts = challenge.prompts;
    const totalMs = prompts.length * slotMs + 500;
    const type = ["video/webm;codecs=vp8", "video/webm;codecs=vp9", "video/webm"].find(
      (t) => window.MediaRecorder && MediaRecorder.isTypeSupported(t));
    if (!type) return this.burst(prompts, slotMs, totalMs, onPrompt);
    const recorder = new MediaRecorder(this.stream,
      { mimeType: type, videoBitsPerSecond: 2500000 });
    const chunks = [];
    recorder.ondataavailable = (event) => {
      if (event.data.size) chunks.push(event.data);
    };
    const stopped = new Promise((resolve) => { recorder.onstop = resolve; });
    const started = new Promise((resolve) => { recorder.onstart = resolve; });
    recorder.start();
    await started;
    await showPrompts(prompts, slotMs, totalMs, onPrompt);
    recorder.stop();
    await stopped;
    return { video: new Blob(chunks, { type: "video/webm" }) };
  }

  // No MediaRecorder: JPEG stills at 8 per second, uploaded with their rate.
  async burst(prompts, slotMs, totalMs, onPrompt) {
    const fps = 8;
    const stills = [];
    const start = performance.now();
    const prompting = showPrompts(prompts, slotMs, totalMs, onPrompt);
    while (performance.now() - start < totalMs) {
      const due = start + (stills.length * 1000) / fps;
      await sleep(Math.max(0, due - performance.now()));
      stills.push(await this.snapshot(0.85));
    }
    await prompting;
    return { stills, fps };
  }
}

async function showPrompts(prompts, slotMs, totalMs, onPrompt) {
  const start = performance.now();
  for (let k = 0; k < prompts.length; k += 1) {
    await sleep(Math.max(0, start + k * slotMs - performance.now()));
    onPrompt(k, prompts[k]);
  }
  await sleep(Math.max(0, start + totalMs - performance.now()));
  onPrompt(prompts.length, null);
}

function faceHint(s, faces, video) {
  if (s.ovalBrightness < 60) return [t("hint.more_light"), false];
  if (s.ovalBrightness > 215) return [t("hint.too_bright"), false];
  if (faces) {
    if (faces.length === 0) return [t("hint.face_camera"), false];
    if (faces.length > 1) return [t("hint.only_you"), false];
    const box = faces[0].boundingBox;
    const width = box.width / video.videoWidth;
    const dx = (box.x + box.width / 2) / video.videoWidth - 0.5;
    const dy = (box.y + box.height / 2) / video.videoHeight - 0.5;
    if (width < 0.25) return [t("hint.closer"), false];
    if (width > 0.7) return [t("hint.back"), false];
    if (Math.abs(dx) > 0.12 || Math.abs(dy) > 0.15) return [t("hint.centre"), false];
  } else {
    if (s.skinShare < 0.12) return [t("hint.into_oval"), false];
    if (s.skinShare < 0.3) return [t("hint.closer"), false];
    if (Math.abs(s.skinX - 0.5) > 0.12 || Math.abs(s.skinY - 0.5) > 0.15) {
      return [t("hint.centre"), false];
    }
  }
  if (s.motion > 14) return [t("hint.hold_still"), false];
  return [t("hint.good"), true];
}

function cardHint(s) {
  if (s.brightness < 60) return [t("hint.card_light"), false];
  if (s.brightness > 225) return [t("hint.card_glare"), false];
  if (s.motion > 14) return [t("hint.card_still"), false];
  return [t("hint.card_ok"), true];
}
