// City type-ahead: suggests cities as she types and records the chosen one's id.
// Without this script the form still works: the server resolves the typed name.
(function () {
  "use strict";
  var input = document.querySelector("input[data-typeahead]");
  var hidden = document.getElementById("city_id");
  if (!input || !hidden) return;
  var list = document.createElement("ul");
  list.id = "city-suggestions";
  list.className = "suggestions";
  list.setAttribute("role", "listbox");
  list.hidden = true;
  input.after(list);
  input.setAttribute("role", "combobox");
  input.setAttribute("aria-autocomplete", "list");
  input.setAttribute("aria-controls", list.id);
  input.setAttribute("aria-expanded", "false");
  var timer = null;
  var last = "";

  function close() { list.hidden = true; input.setAttribute("aria-expanded", "false"); }

  function choose(city) {
    input.value = city.label;
    hidden.value = city.id;
    close();
  }

  function show(cities) {
    list.replaceChildren();
    cities.forEach(function (city, i) {
      var item = document.createElement("li");
      item.setAttribute("role", "option");
      item.id = "city-option-" + i;
      item.textContent = city.label;  // text, never HTML
      item.addEventListener("mousedown", function (e) { e.preventDefault(); choose(city); });
      list.appendChild(item);
    });
    list.hidden = cities.length === 0;
    input.setAttribute("aria-expanded", String(!list.hidden));
  }

  input.addEventListener("input", function () {
    hidden.value = "";  // typed text no longer matches the chosen city
    var q = input.value.trim();
    clearTimeout(timer);
    if (q.length < 2) { close(); return; }
    timer = setTimeout(function () {
      last = q;
      fetch(input.dataset.typeahead + "?q=" + encodeURIComponent(q), {headers: {"Accept": "application/json"}})
        .then(function (r) { return r.ok ? r.json() : []; })
        .then(function (cities) { if (q === last) show(cities); })
        .catch(close);
    }, 150);
  });
  input.addEventListener("keydown", function (e) {
    if (e.key === "Escape") close();
    if (e.key === "Enter" && !list.hidden && list.firstChild) {
      e.preventDefault();
      list.firstChild.dispatchEvent(new MouseEvent("mousedown"));
    }
  });
  input.addEventListener("blur", close);
})();
