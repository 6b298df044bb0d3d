/* 任売相談 コンソール: live inbox and conversation view (no inline scripts: CSP). */
(function () {
  "use strict";

  var csrf = (document.querySelector('meta[name="csrf-token"]') || {}).content || "";

  function $(id) { return document.getElementById(id); }

  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined && text !== null) e.textContent = String(text);
    return e;
  }

  var toastTimer = null;
  function toast(message, kind) {
    var t = $("cs-toast");
    if (!t) { window.alert(message); return; }
    t.textContent = message;
    t.className = "cs-toast cs-toast--" + (kind || "error");
    t.hidden = false;
    clearTimeout(toastTimer);
    toastTimer = setTimeout(function () { t.hidden = true; }, 6000);
  }

  function api(url, options) {
    options = options || {};
    var init = {
      method: options.method || "GET",
      credentials: "same-origin",
      headers: { "Accept": "application/json" }
    };
    if (init.method !== "GET") {
      init.headers["X-CSRFToken"] = csrf;
      init.headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(options.body || {});
    }
    return fetch(url, init).then(function (res) {
      if (res.status === 401) {
        window.location.href = "/console/login?next=" + encodeURIComponent(window.location.pathname);
        throw new Error("login");
      }
      return res.json().catch(function () { return {}; }).then(function (data) {
        if (!res.ok) {
          var err = new Error(data.error || ("エラーが発生しました（" + res.status + "）"));
          err.status = res.status;
          throw err;
        }
        return data;
      });
    });
  }

  /* What the server found wrong with a form sent as JSON, under its field (null: clear). */
  function fieldError(input, message) {
    var id = input.id + "-error", box = $(id);
    if (!message) {
      if (box) box.remove();
      input.removeAttribute("aria-invalid");
      input.removeAttribute("aria-describedby");
      return;
    }
    if (!box) {
      box = el("span", "cs-field__error");
      box.id = id;
      box.setAttribute("role", "alert");
      input.insertAdjacentElement("afterend", box);
    }
    box.textContent = message;
    input.setAttribute("aria-invalid", "true");
    input.setAttribute("aria-describedby", id);
  }

  /* -- confirm before destructive form posts -------------------------------- */
  document.addEventListener("submit", function (ev) {
    var form = ev.target;
    if (form && form.dataset && form.dataset.confirm && !window.confirm(form.dataset.confirm)) {
      ev.preventDefault();
    }
  });

  /* -- alerts: badge and sound ------------------------------------------------ */
  var audioCtx = null;
  var lastAlertId = null;
  function soundOn() { return window.localStorage && localStorage.getItem("cs-sound") === "1"; }
  function beep() {
    if (!soundOn()) return;
    try {
      audioCtx = audioCtx || new (window.AudioContext || window.webkitAudioContext)();
      var o = audioCtx.createOscillator(), g = audioCtx.createGain();
      o.type = "sine"; o.frequency.value = 880;
      g.gain.setValueAtTime(0.001, audioCtx.currentTime);
      g.gain.exponentialRampToValueAtTime(0.2, audioCtx.currentTime + 0.02);
      g.gain.exponentialRampToValueAtTime(0.001, audioCtx.currentTime + 0.4);
      o.connect(g); g.connect(audioCtx.destination);
      o.start(); o.stop(audioCtx.currentTime + 0.45);
    } catch (e) { /* no audio: the badge is enough */ }
  }
  /* desktop notifications (Notification API): permission asked once, on a click */
  function canNotify() { return "Notification" in window; }
  function setupNotify() {
    var btn = $("cs-notify");
    if (!btn || !canNotify()) return;
    var asked = window.localStorage && localStorage.getItem("cs-notify-asked") === "1";
    btn.hidden = Notification.permission !== "default" || asked;
    btn.addEventListener("click", function () {
      localStorage.setItem("cs-notify-asked", "1");
      btn.hidden = true;
      Promise.resolve(Notification.requestPermission()).then(function (p) {
        toast(p === "granted" ? "デスクトップ通知をオンにしました" : "デスクトップ通知はオフのままです",
              p === "granted" ? "ok" : "error");
      });
    });
  }
  function desktopNotify(a) {
    if (!canNotify() || Notification.permission !== "granted") return;
    try {
      var n = new Notification("任売相談: " + a.label, {
        body: (a.name ? a.name + "さん" : "#" + a.conversation_id) + "（受信箱で確認してください）",
        tag: "ninbai-alert-" + a.id
      });
      n.onclick = function () { window.focus(); window.location.href = "/console/c/" + a.conversation_id; };
    } catch (e) { /* e.g. Android Chrome needs a service worker: the badge still shows */ }
  }

  function updateAlerts(alerts) {
    if (!alerts) return;
    var badge = $("cs-alert-badge");
    if (badge) {
      badge.textContent = alerts.unseen;
      badge.hidden = !alerts.unseen;
    }
    if (lastAlertId === null) lastAlertId = parseInt(document.body.dataset.alertLatest, 10) || 0;
    if (alerts.latest_id > lastAlertId) {
      beep();
      (alerts.items || []).filter(function (a) { return a.id > lastAlertId; })
        .reverse().forEach(desktopNotify);
    }
    lastAlertId = Math.max(lastAlertId || 0, alerts.latest_id || 0);
    var list = $("cs-alert-list");
    if (list) {
      list.textContent = "";
      (alerts.items || []).forEach(function (a) {
        var li = el("li", "cs-alert-list__item cs-alert-list__item--" + a.kind);
        var link = el("a", null, a.name + "さん: " + a.label);
        link.href = "/console/c/" + a.conversation_id;
        li.appendChild(link);
        li.appendChild(document.createTextNode(" "));
        li.appendChild(el("span", "cs-muted", a.ago));
        list.appendChild(li);
      });
      list.hidden = !alerts.unseen;
    }
    var seen = $("cs-alerts-seen");
    if (seen) seen.hidden = !alerts.unseen;
    document.title = document.title.replace(/^\(\d+\) /, "");
    if (alerts.unseen) document.title = "(" + alerts.unseen + ") " + document.title;
  }

  function setupSound() {
    var box = $("cs-sound");
    if (!box) return;
    box.checked = soundOn();
    box.addEventListener("change", function () {
      localStorage.setItem("cs-sound", box.checked ? "1" : "0");
      if (box.checked) {
        try {
          audioCtx = audioCtx || new (window.AudioContext || window.webkitAudioContext)();
          audioCtx.resume();
        } catch (e) { /* ignore */ }
      }
    });
  }

  /* -- polling helper ------------------------------------------------------------ */
  function poller(fn, interval) {
    var timer = null, busy = false, failures = 0;
    function run() {
      clearTimeout(timer);
      if (busy) { timer = setTimeout(run, interval); return; }
      busy = true;
      Promise.resolve().then(fn).then(function () {
        failures = 0;
      }, function (err) {
        failures += 1;
        if (failures === 3) toast("サーバーとの通信が不安定です。再接続しています…");
        if (err && err.message !== "login" && window.console) console.warn(err);
      }).then(function () {
        busy = false;
        timer = setTimeout(run, document.hidden ? interval * 4 : interval);
      });
    }
    document.addEventListener("visibilitychange", function () { if (!document.hidden) run(); });
    run();
    return { now: function () { if (!busy) run(); } };
  }

  /* -- inbox ------------------------------------------------------------------------------- */
  function setupInbox(root) {
    var list = $("cs-rows"), empty = $("cs-empty"), count = $("cs-count");
    var form = $("cs-filters");
    var interval = parseInt(root.dataset.poll, 10) || 2500;
    var lastJson = "";

    function query() {
      var params = new URLSearchParams(new FormData(form));
      return params.toString();
    }

    function render(rows, html) {
      if (html === lastJson) return;
      lastJson = html;
      list.innerHTML = html;  /* rendered (and escaped) by the server: console/_rows.html */
      empty.hidden = rows.length > 0;
      count.textContent = rows.length + "件";
    }

    var p = poller(function () {
      return api(root.dataset.api + "?" + query()).then(function (data) {
        render(data.rows || [], data.rows_html || "");
        updateAlerts(data.alerts);
      });
    }, interval);

    form.addEventListener("change", function () {
      window.history.replaceState(null, "", "?" + query());
      lastJson = "";
      p.now();
    });
    form.addEventListener("submit", function (ev) { ev.preventDefault(); p.now(); });

    var seen = $("cs-alerts-seen");
    if (seen) seen.addEventListener("click", function () {
      api(root.dataset.seenApi, { method: "POST" }).then(function (d) { updateAlerts(d.alerts); p.now(); },
        function (err) { toast(err.message); });
    });
  }

  /* -- one conversation ---------------------------------------------------------------------- */
  function setupConversation(root) {
    var base = root.dataset.api;
    var me = parseInt(root.dataset.me, 10);
    var isAdmin = root.dataset.admin === "1";
    var lastTasks = null;
    var version = root.dataset.version;
    var lastId = 0;
    var state = null;
    var log = $("cs-log");
    var reply = $("cs-reply"), send = $("cs-send"), note = $("cs-composer-note");
    var interval = parseInt(root.dataset.poll, 10) || 2000;
    var seenIds = {};

    function atBottom() {
      return log.scrollHeight - log.scrollTop - log.clientHeight < 80;
    }

    function addMessage(m) {
      if (seenIds[m.id]) return;
      seenIds[m.id] = true;
      var li = el("li", "cs-msg cs-msg--" + m.sender);
      li.dataset.id = m.id;
      var head = el("div", "cs-msg__head");
      head.appendChild(el("span", "cs-msg__who", m.label));
      var t = el("time", "cs-msg__time", m.time);
      t.title = m.at;
      head.appendChild(t);
      li.appendChild(head);
      (m.parts || []).forEach(function (part) {
        li.appendChild(el("p", "cs-msg__part cs-msg__part--" + part.type, part.text));
      });
      log.appendChild(li);
      lastId = Math.max(lastId, m.id);
    }

    function renderNotes(notes) {
      var ul = $("cs-notes");
      ul.textContent = "";
      notes.forEach(function (n) {
        var li = el("li", "cs-note");
        li.appendChild(el("p", "cs-note__text", n.text));
        li.appendChild(el("p", "cs-muted cs-small", n.by + "・" + n.at));
        ul.appendChild(li);
      });
    }

    function renderState(s) {
      state = s;
      var status = $("cs-status");
      status.textContent = s.status_label;
      status.className = "cs-status cs-status--" + s.status;
      $("cs-owner").textContent = s.owner ? "担当: " + s.owner : "担当なし";
      var mine = s.status === "operator" && s.owner_id === me;
      var others = s.status === "operator" && !mine && !isAdmin;  /* a colleague's case */
      $("cs-takeover").hidden = !(s.status === "bot" || s.status === "waiting");
      $("cs-handback").hidden = s.status !== "operator" || others;
      $("cs-close").hidden = s.status === "closed" || others;
      $("cs-reopen").hidden = s.status !== "closed";
      $("cs-assign").closest("label").hidden = s.status === "closed" || others;
      $("cs-composer").classList.toggle("cs-composer--off", !mine);
      reply.disabled = !mine;
      send.disabled = !mine;
      if (mine) note.textContent = s.channel === "line" ? "LINEで送信されます" : "ウェブチャットに表示されます";
      else if (s.status === "operator") note.textContent = (s.owner || "他の担当者") + "さんが対応中です";
      else if (s.status === "closed") note.textContent = "終了した相談です";
      else note.textContent = "返信するには「対応する」を押してください（押すまでボットが応答します）";
      root.dataset.status = s.status;
    }

    function refresh() {
      return api(base + "?after=" + lastId + "&version=" + encodeURIComponent(version)).then(function (d) {
        var stick = atBottom() || lastId === 0;
        (d.messages || []).forEach(addMessage);
        if (stick && d.messages && d.messages.length) log.scrollTop = log.scrollHeight;
        renderState(d.state);
        if (d.card_html !== undefined) {
          $("cs-card").innerHTML = d.card_html;
          version = String(d.state.version);
        }
        renderNotes(d.notes || []);
        renderTasks(d.tasks_html);
        updateAlerts(d.alerts);
      });
    }

    function renderTasks(html) {
      if (html === undefined || html === lastTasks) return;
      lastTasks = html;
      $("cs-tasks").innerHTML = html;  /* rendered (and escaped) by the server: console/_tasks.html */
    }

    var p = poller(refresh, interval);

    function act(path, body, okMessage) {
      return api(base + "/" + path, { method: "POST", body: body || {} }).then(function (d) {
        if (d.state) renderState(d.state);
        if (okMessage) toast(okMessage, "ok");
        p.now();
        return d;
      }, function (err) {
        toast(err.message);
        p.now();
        throw err;
      });
    }

    $("cs-actions").addEventListener("click", function (ev) {
      var btn = ev.target.closest("button[data-action]");
      if (!btn) return;
      var action = btn.dataset.action;
      btn.disabled = true;
      var done = function () { btn.disabled = false; };
      var promise;
      if (action === "takeover") promise = act("takeover", {}, "対応を開始しました。ボットは応答を止めています");
      else if (action === "handback") {
        if (!window.confirm("ボットに戻しますか？ お客さまには自動応答が再開したことを伝えます。")) { done(); return; }
        promise = act("handback", {}, "ボットに戻しました");
      } else if (action === "close") {
        if (!window.confirm("この相談を終了しますか？")) { done(); return; }
        promise = act("status", { status: "closed" }, "終了しました");
      } else if (action === "reopen") promise = act("status", { status: "open" }, "再開しました");
      if (promise) promise.then(done, done); else done();
    });

    $("cs-assign").addEventListener("change", function (ev) {
      var v = ev.target.value;
      if (!v) return;
      act("assign", { user_id: v }, "担当を変更しました").then(null, function () {}).then(function () {
        ev.target.value = "";
      });
    });

    $("cs-canned").addEventListener("change", function (ev) {
      var opt = ev.target.selectedOptions[0];
      if (opt && opt.dataset.text !== undefined) {
        var s = reply.selectionStart || reply.value.length, e = reply.selectionEnd || reply.value.length;
        reply.value = reply.value.slice(0, s) + opt.dataset.text + reply.value.slice(e);
        reply.focus();
      }
      ev.target.value = "";
    });

    var sending = false;
    function submitReply() {
      var text = reply.value.trim();
      if (!text || sending) return;
      sending = true;
      send.disabled = true;
      act("reply", { text: text }).then(function () {
        reply.value = "";
      }, function () {}).then(function () {
        sending = false;
        if (state) renderState(state);
        reply.focus();
      });
    }
    $("cs-composer").addEventListener("submit", function (ev) { ev.preventDefault(); submitReply(); });
    reply.addEventListener("keydown", function (ev) {
      if (ev.key === "Enter" && (ev.ctrlKey || ev.metaKey) && !ev.isComposing) {
        ev.preventDefault();
        submitReply();
      }
    });

    $("cs-tasks").addEventListener("click", function (ev) {
      var btn = ev.target.closest("button");
      if (!btn) return;
      if (btn.dataset.proposal) {
        btn.disabled = true;
        var yes = btn.dataset.confirmValue === "1";
        api(base + "/proposals/" + btn.dataset.proposal, { method: "POST", body: { confirm: yes } }).then(function (d) {
          if (d.card_html !== undefined) $("cs-card").innerHTML = d.card_html;
          toast(yes ? "連絡先として確定しました（チャットで入力）" : "候補から外しました", "ok");
          p.now();
        }, function (err) { toast(err.message); btn.disabled = false; });
      } else if (btn.dataset.followupDone) {
        btn.disabled = true;
        api(root.dataset.doneBase + btn.dataset.followupDone + "/done", { method: "POST" }).then(function () {
          toast("完了にしました", "ok");
          p.now();
        }, function (err) { toast(err.message); btn.disabled = false; });
      }
    });

    $("cs-callback").addEventListener("submit", function (ev) {
      ev.preventDefault();
      var at = $("cs-callback-at"), memo = $("cs-callback-note");
      if (!at.value) return;
      api(root.dataset.followups, { method: "POST", body: { due_at: at.value, note: memo.value } }).then(function () {
        at.value = "";
        memo.value = "";
        fieldError(at, null);
        toast("折り返しの予定を追加しました", "ok");
        p.now();
      }, function (err) { if (err.status === 400) fieldError(at, err.message); else toast(err.message); });
    });

    $("cs-note-form").addEventListener("submit", function (ev) {
      ev.preventDefault();
      var box = $("cs-note"), text = box.value.trim();
      if (!text) return;
      api(base + "/notes", { method: "POST", body: { text: text } }).then(function (d) {
        box.value = "";
        fieldError(box, null);
        renderNotes(d.notes || []);
      }, function (err) { if (err.status === 400) fieldError(box, err.message); else toast(err.message); });
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    setupSound();
    setupNotify();
    var inbox = $("cs-inbox");
    if (inbox) setupInbox(inbox);
    var conv = $("cs-conv");
    if (conv) setupConversation(conv);
  });
})();
