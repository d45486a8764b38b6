// A chat in place: the form works without this script; with it a message is sent with fetch
// (one idempotency key per message, kept across retries, so a retry never makes two), new,
// edited and deleted messages and read receipts arrive as the DOM events `idance:message` and
// `idance:read` (dispatched by the live stream's script), the view stays pinned to the bottom,
// and what she sees while the page is visible is marked read.
(function () {
  "use strict";
  var root = document.getElementById("chat");
  if (!root) return;
  var list = document.getElementById("messages");
  var form = document.getElementById("chat-form");
  var status = document.getElementById("chat-status");
  var me = root.dataset.me;
  var members = JSON.parse(root.dataset.members || "{}");
  var csrf = (document.querySelector("#chat input[name=csrf_token]") || {}).value || "";
  var latestPage = !new URLSearchParams(window.location.search).has("before");
  var pending = null;  // {body, key} of the message being sent, until it is stored
  var readTimer = null;
  var unreadSeen = root.dataset.unread !== "0";

  function nearBottom() {
    return list.scrollHeight - list.scrollTop - list.clientHeight < 80;
  }
  function pin() { list.scrollTop = list.scrollHeight; }

  function keyOf(id) { return id.replace(/^message:/, "").replace(/^⟨|⟩$/g, ""); }

  function actions(m) {
    var span = document.createElement("span");
    span.className = "message-actions";
    var base = root.dataset.chatUrl + "/messages/" + encodeURIComponent(keyOf(m.id));
    var edit = document.createElement("a");
    edit.href = base + "/edit";
    edit.textContent = "Edit";
    var del = document.createElement("form");
    del.method = "post";
    del.action = base + "/delete";
    del.className = "inline";
    var token = document.createElement("input");
    token.type = "hidden";
    token.name = "csrf_token";
    token.value = csrf;
    var button = document.createElement("button");
    button.type = "submit";
    button.className = "link";
    button.textContent = "Delete";
    del.append(token, button);
    span.append(edit, " ", del);
    return span;
  }

  // One message's element, made from the `message` payload. `html` is the server's sanitized
  // rendering of the body (links, emphasis, line breaks); everything else goes in as text.
  function render(m) {
    var own = m.author === me;
    var li = document.createElement("li");
    li.className = "message" + (own ? " own" : "") + (m.deleted ? " deleted" : "");
    li.id = "m-" + keyOf(m.id);
    li.dataset.id = m.id;
    li.dataset.created = m.created_at;
    if (root.dataset.kind === "group" && !own) {
      var author = document.createElement("span");
      author.className = "author";
      author.textContent = m.author_name;
      li.append(author);
    }
    var body;
    if (m.deleted) {
      body = document.createElement("p");
      body.className = "body muted";
      var em = document.createElement("em");
      em.textContent = "Message deleted";
      body.append(em);
    } else {
      body = document.createElement("div");
      body.className = "body";
      body.innerHTML = m.html;
    }
    var meta = document.createElement("span");
    meta.className = "meta muted";
    var time = document.createElement("time");
    time.dateTime = m.created_at;
    time.textContent = new Date(m.created_at).toLocaleString([], {day: "2-digit", month: "short",
                                                                  hour: "2-digit", minute: "2-digit"});
    meta.append(time);
    if (m.edited) {
      var edited = document.createElement("span");
      edited.className = "edited";
      edited.textContent = "edited";
      meta.append(" · ", edited);
    }
    li.append(body, meta);
    if (own && !m.deleted) li.append(actions(m));
    return li;
  }

  // Add a new message or replace the one it changes (edited, deleted); in time order.
  function upsert(m) {
    var wasNear = nearBottom();
    var fresh = render(m);
    var old = document.getElementById(fresh.id);
    if (old) {
      var seen = old.querySelector(".seen");
      if (seen) fresh.querySelector(".meta").append(" · ", seen);
      old.replaceWith(fresh);
      return false;
    }
    if (!latestPage) return false;
    var empty = document.getElementById("no-messages");
    if (empty) empty.remove();
    var after = null;
    var items = list.querySelectorAll("li.message");
    for (var i = items.length - 1; i >= 0; i--) {
      if (items[i].dataset.created <= m.created_at) { after = items[i]; break; }
    }
    if (after) after.after(fresh); else list.prepend(fresh);
    if (wasNear || m.author === me) pin();
    return true;
  }

  // "Seen" under her latest message that another member has read (group: by whom).
  function showSeen() {
    var own = list.querySelectorAll("li.message.own");
    list.querySelectorAll(".seen").forEach(function (s) {
      var prev = s.previousSibling;
      if (prev && prev.nodeType === 3 && prev.textContent === " · ") prev.remove();
      s.remove();
    });
    for (var i = own.length - 1; i >= 0; i--) {
      var created = own[i].dataset.created;
      var names = Object.keys(members).filter(function (ref) {
        var at = members[ref].read_at;
        return ref !== me && at && new Date(at) >= new Date(created);
      }).map(function (ref) { return members[ref].name; });
      if (names.length) {
        var seen = document.createElement("span");
        seen.className = "seen";
        seen.textContent = root.dataset.kind === "group" ? "Seen by " + names.join(", ") : "Seen";
        own[i].querySelector(".meta").append(" · ", seen);
        return;
      }
    }
  }

  function setBadges(count) {
    document.querySelectorAll("[data-badge=chat]").forEach(function (b) {
      b.textContent = count;
      b.hidden = !count;
    });
  }

  function markRead() {
    if (document.visibilityState !== "visible" || !latestPage || !unreadSeen) return;
    clearTimeout(readTimer);
    readTimer = setTimeout(function () {
      unreadSeen = false;
      var data = new FormData();
      data.append("csrf_token", csrf);
      // Read up to the newest message shown, not one that has not arrived yet.
      var shown = list.querySelectorAll("li.message");
      if (shown.length) data.append("up_to", keyOf(shown[shown.length - 1].dataset.id));
      fetch(root.dataset.readUrl, {method: "POST", body: data, credentials: "same-origin",
                                   headers: {"Accept": "application/json"}})
        .then(function (r) { return r.ok ? r.json() : null; })
        .then(function (answer) {
          if (answer && typeof answer.badge === "number") setBadges(answer.badge);
          var button = document.querySelector(".chat-read");
          if (button) button.remove();
        })
        .catch(function () { unreadSeen = true; });
    }, 300);
  }

  function say(text, isError) {
    if (!status) return;
    status.textContent = text;
    status.classList.toggle("field-error", !!isError);
  }

  function send(event) {
    event.preventDefault();
    var box = form.querySelector("textarea[name=body]");
    var body = box.value;
    if (!body.trim()) { say("Write a message first.", true); return; }
    if (!pending || pending.body !== body) {
      pending = {body: body, key: window.crypto.randomUUID()};
    }
    var attempt = pending;
    say("Sending…");
    fetch(root.dataset.sendUrl, {
      method: "POST", credentials: "same-origin",
      headers: {"Content-Type": "application/json", "Accept": "application/json",
                "X-CSRFToken": csrf},
      body: JSON.stringify({body: attempt.body, idempotency_key: attempt.key})
    }).then(function (r) {
      return r.json().catch(function () { return {}; }).then(function (answer) {
        if (r.ok) {
          if (pending === attempt) {
            pending = null;
            if (box.value === attempt.body) box.value = "";
          }
          upsert(answer);
          showSeen();
          say("Sent.");
        } else {
          // The text stays in the box, and the same key goes with the next try.
          say(answer.error || "Not sent. Try again.", true);
        }
      });
    }).catch(function () {
      say("Not sent: check your connection and press Send again.", true);
    });
  }

  if (form) {
    form.addEventListener("submit", send);
    form.querySelector("textarea[name=body]").addEventListener("keydown", function (event) {
      if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) send(event);
    });
  }

  document.addEventListener("idance:message", function (event) {
    var m = event.detail || {};
    if (m.chat !== root.dataset.chat) return;
    var added = upsert(m);
    if (added && m.author !== me) {
      unreadSeen = true;
      markRead();
    }
    showSeen();
  });

  document.addEventListener("idance:read", function (event) {
    var r = event.detail || {};
    if (r.chat !== root.dataset.chat || r.member === me) return;
    if (!members[r.member]) members[r.member] = {name: "", read_at: null};
    members[r.member].read_at = r.read_at;
    showSeen();
  });

  document.addEventListener("visibilitychange", markRead);
  pin();
  if (window.location.hash === "#latest") pin();
  markRead();
})();
