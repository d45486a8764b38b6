// Drag and drop to reorder blocks. The up/down buttons do the same without this script.
(function () {
  "use strict";
  var list = document.getElementById("block-list");
  if (!list) return;
  var dragged = null;
  list.addEventListener("dragstart", function (e) {
    dragged = e.target.closest(".block-item");
    if (dragged) { dragged.classList.add("dragging"); e.dataTransfer.effectAllowed = "move"; }
  });
  list.addEventListener("dragover", function (e) {
    var over = e.target.closest(".block-item");
    if (!dragged || !over || over === dragged) return;
    e.preventDefault();
    var box = over.getBoundingClientRect();
    over.parentNode.insertBefore(dragged, e.clientY > box.top + box.height / 2 ? over.nextSibling : over);
  });
  list.addEventListener("dragend", function () {
    if (!dragged) return;
    dragged.classList.remove("dragging");
    dragged = null;
    var body = new URLSearchParams();
    body.append("csrf_token", list.dataset.csrf);
    body.append("page", list.dataset.page);
    list.querySelectorAll(".block-item").forEach(function (item) { body.append("keys", item.dataset.key); });
    fetch(list.dataset.reorder, {method: "POST", body: body, credentials: "same-origin",
                                 headers: {"Accept": "application/json"}})
      .then(function (r) { if (!r.ok) window.location.reload(); })
      .catch(function () { window.location.reload(); });
  });
})();
