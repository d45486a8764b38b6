// "Notify me on this device": subscribes this browser to Web Push through the service worker
// at /sw.js and gives the subscription to the server; unticking removes it again.
(function () {
  "use strict";
  var box = document.getElementById("push-switch");
  var status = document.getElementById("push-status");
  if (!box || !box.dataset.key) return;
  var STORE = "idance-push-device";

  function say(state, text) { status.dataset.state = state; status.textContent = text; }

  function keyBytes(b64) {
    var text = atob((b64 + "===".slice((b64.length + 3) % 4)).replace(/-/g, "+").replace(/_/g, "/"));
    var out = new Uint8Array(text.length);
    for (var i = 0; i < text.length; i++) out[i] = text.charCodeAt(i);
    return out;
  }

  function send(method, url, body) {
    return fetch(url, {method: method, credentials: "same-origin", body: body,
      headers: {"Content-Type": "application/json", "X-CSRFToken": box.dataset.csrf,
                "Accept": "application/json"}});
  }

  if (!("serviceWorker" in navigator) || !("PushManager" in window)) {
    say("unsupported", "This browser cannot receive push notifications.");
    return;
  }
  var ready = navigator.serviceWorker.register("/sw.js", {scope: "/"})
    .then(function () { return navigator.serviceWorker.ready; });

  ready.then(function (reg) { return reg.pushManager.getSubscription(); }).then(function (sub) {
    box.checked = !!sub;
    box.disabled = false;
    say(sub ? "on" : "off", sub ? "This device gets notifications." : "This device gets no notifications.");
  }).catch(function () { say("error", "Push notifications could not be set up here."); });

  box.addEventListener("change", function () {
    box.disabled = true;
    var done = box.checked ? subscribe() : unsubscribe();
    done.catch(function (err) {
      box.checked = !box.checked;
      say("error", err && err.message ? err.message : "That did not work. Try again.");
    }).then(function () { box.disabled = false; });
  });

  function subscribe() {
    return Notification.requestPermission().then(function (answer) {
      if (answer !== "granted") throw new Error("Notifications are blocked for this site in the browser.");
      return ready;
    }).then(function (reg) {
      return reg.pushManager.subscribe({userVisibleOnly: true, applicationServerKey: keyBytes(box.dataset.key)});
    }).then(function (sub) {
      return send("POST", box.dataset.endpoint, JSON.stringify(sub.toJSON()));
    }).then(function (r) {
      if (!r.ok) throw new Error("The server refused this device.");
      return r.json();
    }).then(function (data) {
      localStorage.setItem(STORE, data.id);
      say("on", "This device gets notifications.");
    });
  }

  function unsubscribe() {
    return ready.then(function (reg) { return reg.pushManager.getSubscription(); })
      .then(function (sub) { return sub ? sub.unsubscribe() : true; })
      .then(function () {
        var id = localStorage.getItem(STORE);
        localStorage.removeItem(STORE);
        return id ? send("DELETE", box.dataset.endpoint + "/" + encodeURIComponent(id)) : null;
      })
      .then(function () { say("off", "This device gets no notifications."); });
  }
})();
