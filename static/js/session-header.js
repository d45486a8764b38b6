// Public pages are cached and shared: they carry no personal header. A signed-in member's
// header (with her name and a sign-out form) is fetched here and swapped in.
(function () {
  "use strict";
  var slot = document.getElementById("session-header");
  if (!slot || !document.cookie.match(/(^|; )session=/) && !navigator.cookieEnabled) return;
  fetch(slot.dataset.src, {credentials: "same-origin", headers: {"Accept": "text/html"}})
    .then(function (r) { return r.ok ? r.text() : null; })
    .then(function (html) {
      if (!html) return;
      var doc = new DOMParser().parseFromString(html, "text/html");
      var header = doc.querySelector("header");
      if (!header) return;
      slot.replaceChildren(document.importNode(header, true));
      document.dispatchEvent(new CustomEvent("idance:header"));  // nav.js enhances it
    })
    .catch(function () {});
})();
