// The notifications list (its page, and her home): following an unread item's link marks it
// read on the way, and a notification that arrives on the live stream is added at the top (an
// empty list shows itself and hides its empty state).
(function () {
  "use strict";
  var list = document.getElementById("notification-list");
  var token = list && list.dataset.csrf;

  document.addEventListener("click", function (event) {
    var link = event.target.closest(".notification.unread > a");
    if (!link || !token || !link.parentElement.dataset.keys) return;
    var item = link.parentElement;
    var body = new URLSearchParams();
    body.append("csrf_token", token);
    item.dataset.keys.split(" ").forEach(function (k) { body.append("ids", k); });
    fetch("/notifications/read", {method: "POST", body: body, keepalive: true,
      credentials: "same-origin", headers: {"Accept": "application/json"}});
  });

  document.addEventListener("idance:notification", function (event) {
    var n = event.detail || {};
    if (!list || typeof n.url !== "string" || n.url.charAt(0) !== "/") return;
    var item = document.createElement("li");
    item.className = "notification unread";
    item.dataset.kind = n.kind || "";
    item.dataset.keys = String(n.id || "").replace(/^notification:/, "");
    var link = document.createElement("a");
    link.href = n.url;
    link.textContent = n.text || "";
    item.appendChild(link);
    list.insertBefore(item, list.firstChild);
    list.hidden = false;
    var empty = document.getElementById("notifications-empty");
    if (empty) empty.hidden = true;
  });
})();
