// Reordering blocks in place: drag and drop, and the Up/Down buttons without a page load, the
// focus staying on the moved block's button so a keyboard can go on moving it. The buttons
// post their forms (and the page comes back at the block) without this script.
(function () {
  "use strict";
  var list = document.getElementById("block-list");
  if (!list) return;
  var status = document.getElementById("block-order-status");
  var dragged = null;

  function items() { return Array.prototype.slice.call(list.querySelectorAll(".block-item")); }
  function moveForm(item, direction) { return item.querySelector('form[data-action="' + direction + '"]'); }

  // The first block has no Up, the last no Down.
  function fitButtons() {
    var all = items();
    all.forEach(function (item, i) {
      moveForm(item, "up").hidden = i === 0;
      moveForm(item, "down").hidden = i === all.length - 1;
    });
  }

  // One save at a time, the newest order last: two requests in flight could land in either
  // order. The list is aria-busy until the order shown is the one saved.
  var saving = false, again = false;
  function save() {
    if (saving) { again = true; return; }
    saving = true;
    list.setAttribute("aria-busy", "true");
    var body = new URLSearchParams();
    body.append("csrf_token", list.dataset.csrf);
    body.append("page", list.dataset.page);
    items().forEach(function (item) { body.append("keys", item.dataset.key); });
    fetch(list.dataset.reorder, {method: "POST", body: body, credentials: "same-origin",
                                 headers: {"Accept": "application/json"}})
      .then(function (r) {
        if (!r.ok) { window.location.reload(); return; }
        saving = false;
        if (again) { again = false; save(); } else list.removeAttribute("aria-busy");
      })
      .catch(function () { window.location.reload(); });
  }

  list.addEventListener("submit", function (e) {
    var direction = e.target.dataset.action;
    if (direction !== "up" && direction !== "down") return;
    e.preventDefault();
    var item = e.target.closest(".block-item");
    var other = direction === "up" ? item.previousElementSibling : item.nextElementSibling;
    if (!other) return;
    list.insertBefore(item, direction === "up" ? other : other.nextSibling);
    fitButtons();
    // Moving DOM nodes drops their focus: give it back to the same button, or, at an end of
    // the list, to the one that still moves the block.
    var form = moveForm(item, direction);
    if (form.hidden) form = moveForm(item, direction === "up" ? "down" : "up");
    if (!form.hidden) form.querySelector("button").focus();
    if (status) {
      status.textContent = "Moved " + item.dataset.name + " to place " +
        (items().indexOf(item) + 1) + " of " + items().length + ".";
    }
    save();
  });

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
    fitButtons();
    save();
  });
})();
