// The portal's service worker: shows a pushed notice as a notification and opens its page when
// tapped (the photo or answer page, which asks for a login, or an acknowledgement link).
// A push carries only what the notification shows: {title, body, url, tag} (webpush/payload.py).
"use strict";

self.addEventListener("install", () => self.skipWaiting());
self.addEventListener("activate", (event) => event.waitUntil(self.clients.claim()));

self.addEventListener("push", (event) => {
  let shown = {};
  try {
    shown = event.data ? event.data.json() : {};
  } catch (error) {
    shown = {};
  }
  event.waitUntil(
    self.registration.showNotification(shown.title || "見守り", {
      body: shown.body || "",
      tag: shown.tag, // the same notice sent twice replaces itself
      icon: "/static/webpush/icon-192.png",
      data: { url: shown.url || "/" },
    }),
  );
});

self.addEventListener("notificationclick", (event) => {
  event.notification.close();
  const url = new URL(event.notification.data.url, self.location.origin);
  event.waitUntil(self.clients.openWindow(url.href));
});
