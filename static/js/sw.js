// The service worker: shows each push and opens its page when the notification is clicked.
// Served from /sw.js so that its scope is the whole site.
"use strict";

self.addEventListener("push", function (event) {
  var data = {};
  try { data = event.data ? event.data.json() : {}; } catch (e) { data = {body: event.data.text()}; }
  var url = typeof data.url === "string" && data.url.charAt(0) === "/" && data.url.charAt(1) !== "/" ? data.url : "/notifications";
  event.waitUntil(self.registration.showNotification(data.title || "iDance", {
    body: data.body || "", tag: data.tag || undefined, renotify: !!data.tag,
    data: {url: url}
  }));
});

self.addEventListener("notificationclick", function (event) {
  event.notification.close();
  var url = new URL(event.notification.data && event.notification.data.url || "/notifications", self.location.origin).href;
  event.waitUntil(self.clients.matchAll({type: "window", includeUncontrolled: true}).then(function (tabs) {
    for (var i = 0; i < tabs.length; i++) {
      if (tabs[i].url === url && "focus" in tabs[i]) return tabs[i].focus();
    }
    return self.clients.openWindow(url);
  }));
});

self.addEventListener("activate", function (event) { event.waitUntil(self.clients.claim()); });
