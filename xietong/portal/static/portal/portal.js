// Registers the portal's service worker (installable web app), where the browser supports it.
(function () {
  var script = document.currentScript;
  if ("serviceWorker" in navigator && script && script.dataset.sw) {
    navigator.serviceWorker.register(script.dataset.sw, { scope: "/portal/" }).catch(function () {});
  }
})();
