// The member portal's service worker: lets the phone install the app; member pages are never
// cached (they always come from the network); offline, a short Chinese notice is shown.
self.addEventListener("install", (event) => self.skipWaiting());
self.addEventListener("activate", (event) => event.waitUntil(self.clients.claim()));
self.addEventListener("fetch", (event) => {
  if (event.request.mode !== "navigate") return;
  event.respondWith(
    fetch(event.request).catch(() =>
      new Response("<!doctype html><meta charset=utf-8><meta name=viewport content='width=device-width'><p style='font:18px sans-serif;padding:2em'>网络不可用，请联网后重试。</p>", {
        headers: { "Content-Type": "text/html; charset=utf-8" },
      })
    )
  );
});
