// The addresses page's "Notify this device": registers the service worker, asks for permission,
// subscribes with the page's VAPID public key and posts the subscription in the page's form.
// The form stays hidden where the browser has no push (an iPhone's Safari outside the home screen).
"use strict";

function applicationServerKey(base64url) {
  const text = atob(base64url.replace(/-/g, "+").replace(/_/g, "/") + "=".repeat((4 - (base64url.length % 4)) % 4));
  return Uint8Array.from(text, (c) => c.charCodeAt(0));
}

function sameKey(buffer, key) {
  const given = new Uint8Array(buffer || new ArrayBuffer(0));
  return given.length === key.length && given.every((byte, i) => byte === key[i]);
}

async function subscribe(form) {
  const registration = await navigator.serviceWorker.register("/sw.js", { scope: "/" });
  await navigator.serviceWorker.ready;
  if ((await Notification.requestPermission()) !== "granted") {
    throw new Error("denied");
  }
  const key = applicationServerKey(form.dataset.key);
  const old = await registration.pushManager.getSubscription();
  if (old && !sameKey(old.options.applicationServerKey, key)) {
    await old.unsubscribe(); // made with a key rotated since: subscribe() refuses another key
  }
  const subscription = await registration.pushManager.subscribe({ userVisibleOnly: true, applicationServerKey: key });
  form.elements.subscription.value = JSON.stringify(subscription.toJSON());
  form.submit();
}

document.addEventListener("DOMContentLoaded", () => {
  const form = document.getElementById("webpush-form");
  if (!form || !("serviceWorker" in navigator) || !("PushManager" in window) || !("Notification" in window)) {
    return;
  }
  document.getElementById("webpush").hidden = false;
  navigator.serviceWorker.register("/sw.js", { scope: "/" }).catch(() => {});
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const problem = document.getElementById("webpush-problem");
    problem.textContent = "";
    subscribe(form).catch((error) => {
      problem.textContent = error.message === "denied" ? form.dataset.denied : form.dataset.failed;
    });
  });
});
