// The service desk's camera scanner (issue 12 §5): reads the e-card's QR code from the device's
// camera with jsQR (served from node_modules like the other vendor files) and submits it as the
// scanner gun does, into the same "token" field. No inline script: the CSP forbids it.
(() => {
  "use strict";
  const PAUSE_AFTER_READ_MS = 5000; // a phone held up a little longer is not checked twice
  const MAX_WIDTH = 640; // frames are scaled down before decoding: fast enough on a desk PC

  function setUp(form) {
    const token = form.querySelector("input[name=token]");
    const video = form.querySelector("[data-camera-video]");
    const start = form.querySelector("[data-camera-start]");
    const stop = form.querySelector("[data-camera-stop]");
    const status = form.querySelector("[data-camera-status]");
    const canvas = document.createElement("canvas");
    const context = canvas.getContext("2d", { willReadFrequently: true });
    const seen = new Set(); // codes already submitted on this page
    let stream = null;
    let pausedUntil = 0;

    // The text of the QR code in a frame (a video, an image or a canvas), or "".
    function decode(source, width, height) {
      if (!window.jsQR || !width || !height) return "";
      const scale = Math.min(1, MAX_WIDTH / width);
      canvas.width = Math.round(width * scale);
      canvas.height = Math.round(height * scale);
      context.drawImage(source, 0, 0, canvas.width, canvas.height);
      const image = context.getImageData(0, 0, canvas.width, canvas.height);
      const code = window.jsQR(image.data, image.width, image.height, { inversionAttempts: "attemptBoth" });
      return code && code.data ? code.data.trim() : "";
    }

    function submit(text) {
      if (!text || seen.has(text) || Date.now() < pausedUntil) return;
      seen.add(text);
      pausedUntil = Date.now() + PAUSE_AFTER_READ_MS;
      token.value = text;
      form.requestSubmit();
    }

    function tick() {
      if (!stream) return;
      if (video.readyState >= 2) submit(decode(video, video.videoWidth, video.videoHeight));
      window.setTimeout(tick, 150);
    }

    function stopCamera() {
      if (stream) stream.getTracks().forEach((track) => track.stop());
      stream = null;
      video.classList.add("d-none");
      stop.classList.add("d-none");
      start.classList.remove("d-none");
      status.textContent = "";
    }

    async function startCamera() {
      if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) {
        status.textContent = status.dataset.noCamera;
        return;
      }
      try {
        stream = await navigator.mediaDevices.getUserMedia({
          video: { facingMode: "environment" },
          audio: false,
        });
      } catch (error) {
        status.textContent = status.dataset.noCamera;
        return;
      }
      video.srcObject = stream;
      video.classList.remove("d-none");
      stop.classList.remove("d-none");
      start.classList.add("d-none");
      status.textContent = status.dataset.scanning;
      await video.play().catch(() => {});
      tick();
    }

    start.addEventListener("click", startCamera);
    stop.addEventListener("click", stopCamera);
    window.addEventListener("pagehide", stopCamera);
    // After each answer the fields are cleared for the next member; the scanner gun types into the token box.
    form.addEventListener("htmx:afterRequest", () => {
      form.querySelectorAll("input[name=token], input[name=card_number], input[name=id_last4]").forEach((input) => {
        input.value = "";
      });
      if (!stream) token.focus();
    });
    // For an image rather than the camera (a photo of the code): decode it the same way.
    form.deskScanner = { decodeImage: (image) => submit(decode(image, image.naturalWidth || image.width, image.naturalHeight || image.height)) };
  }

  document.addEventListener("DOMContentLoaded", () => {
    document.querySelectorAll("[data-desk-form]").forEach(setUp);
  });
})();
