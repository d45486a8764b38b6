// Posting a vlog: shows upload progress and refuses an oversized selection before sending.
// Without this script the form posts as usual and the server answers the same way.
(function () {
  "use strict";
  var form = document.querySelector("form[data-upload]");
  if (!form || !window.FormData || !window.XMLHttpRequest) return;
  var bar = form.querySelector("[data-progress]");
  var text = form.querySelector("[data-progress-text]");
  var limit = parseInt(form.getAttribute("data-max-bytes"), 10) || 0;

  // Show one empty picture row after the last filled one; the others stay hidden until needed.
  var rows = Array.prototype.slice.call(form.querySelectorAll("[data-image-row]"));
  function refreshRows() {
    var lastFilled = -1;
    rows.forEach(function (row, i) {
      var file = row.querySelector("input[type=file]");
      var alt = row.querySelector("input[type=text]");
      if ((file && file.files.length) || (alt && alt.value) || row.classList.contains("has-error")) lastFilled = i;
    });
    rows.forEach(function (row, i) { row.hidden = i > lastFilled + 1; });
  }
  form.addEventListener("change", refreshRows);
  refreshRows();

  function selectedBytes() {
    var total = 0;
    Array.prototype.forEach.call(form.querySelectorAll("input[type=file]"), function (input) {
      Array.prototype.forEach.call(input.files, function (f) { total += f.size; });
    });
    return total;
  }

  form.addEventListener("submit", function (event) {
    var total = selectedBytes();
    if (limit && total > limit) {
      event.preventDefault();
      text.textContent = "These files are too large together (" + Math.round(total / 1048576) +
        " MB; at most " + Math.round(limit / 1048576) + " MB). Choose smaller files.";
      return;
    }
    if (!total) return; // nothing to show progress for: a plain post
    event.preventDefault();
    var request = new XMLHttpRequest();
    request.open("POST", form.action);
    bar.hidden = false;
    request.upload.addEventListener("progress", function (e) {
      if (!e.lengthComputable) return;
      var percent = Math.round(100 * e.loaded / e.total);
      bar.value = percent;
      text.textContent = "Uploading: " + percent + " %";
    });
    request.addEventListener("load", function () {
      // The server answers with a redirect (followed: the new vlog) or the form again.
      if (request.responseURL && request.responseURL.indexOf("/vlogs/new") === -1) {
        window.location.assign(request.responseURL);
      } else {
        document.open();
        document.write(request.responseText);
        document.close();
      }
    });
    request.addEventListener("error", function () {
      bar.hidden = true;
      text.textContent = "The upload failed: check your connection and try again.";
    });
    request.send(new FormData(form));
  });
})();
