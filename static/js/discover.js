// Likes and passes in place: the forms work without this; with it the card goes away and a
// short message says what happened. Keys: L likes, P passes the first card.
(function () {
  "use strict";
  var results = document.getElementById("discover-results");
  if (!results) return;
  var live = document.createElement("p");
  live.setAttribute("role", "status");
  live.className = "muted";
  results.parentNode.insertBefore(live, results);

  function send(form) {
    var card = form.closest(".dancer-card");
    fetch(form.action, {method: "POST", body: new FormData(form), credentials: "same-origin",
                        headers: {"Accept": "application/json"}})
      .then(function (r) { return r.json().then(function (body) { return [r.ok, body]; }); })
      .then(function (answer) {
        var body = answer[1];
        live.textContent = body.message || body.error || "";
        if (answer[0] && card) card.remove();
        if (body.matched) window.location.href = "/matches";
      })
      .catch(function () { form.submit(); });
  }

  results.addEventListener("submit", function (event) {
    var form = event.target;
    if (!form.classList.contains("swipe")) return;
    event.preventDefault();
    send(form);
  });

  document.addEventListener("keydown", function (event) {
    if (event.target.closest("input, select, textarea") || event.ctrlKey || event.metaKey) return;
    var key = event.key.toLowerCase();
    var direction = key === "l" ? "like" : key === "p" ? "pass" : null;
    if (!direction) return;
    var form = results.querySelector('.dancer-card form.swipe[data-direction="' + direction + '"]');
    if (form) { event.preventDefault(); send(form); }
  });
})();
