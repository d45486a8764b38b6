// The navigation's disclosure buttons: "Menu" (narrow screens) and her own menu. The CSS shows
// them and folds what they control whenever scripting is on (app.css); without scripts every
// link shows. Here a button opens and closes what its aria-controls names (Enter and Space,
// being a <button>); Escape closes the innermost open one and gives the focus back to its
// button; a click or the keyboard's focus landing outside closes it too. The Menu button's
// [data-nav-unread] shows the sum of the [data-badge] counts it folds away, following
// live.js's updates. A header swapped in later (public sites, session-header.js) announces
// itself with the document event "idance:header".
(function () {
  "use strict";

  function expanded(button) { return button.getAttribute("aria-expanded") === "true"; }
  function visible(el) { return el.getClientRects().length > 0; }

  function enhance(nav) {
    if (nav.dataset.enhanced) return;
    nav.dataset.enhanced = "true";
    function panel(button) { return nav.querySelector("#" + button.getAttribute("aria-controls")); }
    var buttons = Array.prototype.filter.call(nav.querySelectorAll("button[aria-controls]"), panel);
    // A button's scope: itself, what it opens and what sits around them (her menu's item).
    function scope(button) { return button.parentElement; }

    function setOpen(button, open) {
      button.setAttribute("aria-expanded", String(open));
      if (!open) {  // what was open inside goes too, so it is closed when next shown
        buttons.forEach(function (inner) {
          if (inner !== button && panel(button).contains(inner)) setOpen(inner, false);
        });
      }
    }

    buttons.forEach(function (button) {
      button.addEventListener("click", function () { setOpen(button, !expanded(button)); });
      var total = button.querySelector("[data-nav-unread]");
      if (total) sumBadges(panel(button), total);
    });

    nav.addEventListener("keydown", function (e) {
      if (e.key !== "Escape") return;
      var active = document.activeElement;
      // Buttons come in document order, so the last match is the innermost.
      var open = buttons.filter(function (b) {
        return expanded(b) && visible(b) && (b === active || panel(b).contains(active));
      }).pop();
      if (!open) return;
      e.preventDefault();
      setOpen(open, false);
      open.focus();
    });

    function closeOutside(target) {
      buttons.forEach(function (b) {
        if (expanded(b) && target && !scope(b).contains(target)) setOpen(b, false);
      });
    }
    document.addEventListener("click", function (e) { closeOutside(e.target); });
    // Only the keyboard's focus moves close it: a press elsewhere moves the focus on
    // pointerdown, and closing then would shift the page under the pointer before its click.
    nav.addEventListener("focusout", function (e) { if (byKeyboard) closeOutside(e.relatedTarget); });
  }

  function sumBadges(panel, total) {
    function update() {
      var n = 0;
      panel.querySelectorAll("[data-badge]").forEach(function (badge) {
        if (!badge.hidden) n += Number(badge.textContent) || 0;
      });
      total.querySelector("[data-count]").textContent = String(n);
      total.hidden = n === 0;
    }
    update();
    new MutationObserver(update).observe(panel, {subtree: true, childList: true,
                                                 characterData: true, attributes: true,
                                                 attributeFilter: ["hidden"]});
  }

  var byKeyboard = false;
  document.addEventListener("keydown", function () { byKeyboard = true; }, true);
  document.addEventListener("pointerdown", function () { byKeyboard = false; }, true);

  function enhanceAll() {
    document.querySelectorAll("[data-nav]").forEach(enhance);
  }

  enhanceAll();
  document.addEventListener("idance:header", enhanceAll);
})();
