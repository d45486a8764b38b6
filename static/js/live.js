// Live updates on every signed-in page: one EventSource (/events) per browser, held by a leader
// tab (Web Locks) and shared with the other tabs through a BroadcastChannel. Each event reaches
// every tab as document event "idance:<type>" (detail: the payload); "badges" also updates the
// [data-badge=NAME] elements (the count as text, hidden at 0); "reload" reloads the page unless
// a listener calls preventDefault(). Pages work without it.
(function () {
  "use strict";
  var TYPES = ["message", "read", "notification", "badges", "reload"];
  var URL = "/events";
  var channel = "BroadcastChannel" in window ? new BroadcastChannel("idance-live") : null;
  var lastId = null;  // the last event id seen by this tab (the next leader resumes from it)
  var lastBadges = null;

  function updateBadges(counts) {
    lastBadges = counts;
    Object.keys(counts).forEach(function (name) {
      var n = Number(counts[name]) || 0;
      document.querySelectorAll('[data-badge="' + name + '"]').forEach(function (el) {
        el.textContent = String(n);
        el.hidden = n === 0;
      });
    });
  }

  function dispatch(type, detail, id) {
    if (id) lastId = id;
    if (type === "badges") updateBadges(detail);
    var event = new CustomEvent("idance:" + type, {detail: detail, cancelable: type === "reload"});
    var proceed = document.dispatchEvent(event);
    if (type === "reload" && proceed) window.location.reload();
  }

  function connect(onEvent, wait) {
    // EventSource resends Last-Event-ID itself after a dropped connection; a new leader
    // resumes from what this tab saw through the query string.
    var source = new EventSource(
      lastId ? URL + "?last_event_id=" + encodeURIComponent(lastId) : URL);
    TYPES.forEach(function (type) {
      source.addEventListener(type, function (e) {
        var detail;
        try { detail = JSON.parse(e.data); } catch (err) { return; }
        onEvent(type, detail, e.lastEventId);
      });
    });
    source.addEventListener("open", function () { wait = 0; });
    source.addEventListener("error", function () {
      // A refused stream (401 signed out, 429 too many, 503 busy) is not retried by the
      // browser: try again later, less and less often.
      if (source.readyState === EventSource.CLOSED) {
        wait = Math.min((wait || 15000) * 2, 300000);
        setTimeout(function () { connect(onEvent, wait); }, wait);
      }
    });
    return source;
  }

  function lead() {
    connect(function (type, detail, id) {
      dispatch(type, detail, id);
      if (channel) channel.postMessage({type: type, detail: detail, id: id});
    });
    if (channel) {
      channel.addEventListener("message", function (e) {
        if (e.data && e.data.hello && lastBadges) {
          channel.postMessage({type: "badges", detail: lastBadges, id: lastId});
        }
      });
    }
  }

  if (!channel || !(navigator.locks && navigator.locks.request)) {
    lead();  // no way to share: this tab keeps a stream of its own
    return;
  }
  channel.addEventListener("message", function (e) {
    if (e.data && e.data.type) dispatch(e.data.type, e.data.detail, e.data.id);
  });
  channel.postMessage({hello: true});
  // The lock is held until this tab closes; the next tab waiting for it then leads.
  navigator.locks.request("idance-live", function () {
    lead();
    return new Promise(function () {});
  });
})();
