/*
 * ninbai web chat (住宅ローンのご相談) — plain JS, no dependencies, nothing loaded from outside.
 *
 * Contract with bot/channels/web.py:
 *   POST {api}/events   JSON + X-CSRFToken  -> 202 {"accepted": true, "event_id": ...} | 400 | 429
 *   GET  {api}/messages?after=<id>         -> {"messages": [...], "quick_replies": [...],
 *                                              "pending": bool, "operator": null | {"name": ...}}
 * All user/bot text is inserted with textContent (never innerHTML).
 */
(function () {
  "use strict";

  var POLL_IDLE_MS = 2000;
  var POLL_FAST_MS = 300;
  var POLL_HIDDEN_MS = 10000;
  var FAST_WINDOW_MS = 60000; // poll fast at most this long after a send
  var NO_ANSWER_GIVE_UP_MS = 8000; // stop waiting when the server is idle and said nothing
  var MAX_BACKOFF_MS = 15000;
  var SEND_ATTEMPTS = 6;
  var START_FLAG = "ninbai.webchat.start-sent";

  var app = document.getElementById("wc-app");
  if (!app) return;
  var API = (app.getAttribute("data-api") || "/chat/api").replace(/\/+$/, "");
  var AVATAR = app.getAttribute("data-avatar") || "";
  var csrfMeta = document.querySelector('meta[name="csrf-token"]');
  var CSRF = csrfMeta ? csrfMeta.getAttribute("content") || "" : "";

  var el = {
    main: document.getElementById("wc-main"),
    log: document.getElementById("wc-log"),
    typing: document.getElementById("wc-typing"),
    banner: document.getElementById("wc-banner"),
    operator: document.getElementById("wc-operator"),
    chips: document.getElementById("wc-chips"),
    form: document.getElementById("wc-form"),
    input: document.getElementById("wc-input"),
    send: document.getElementById("wc-send"),
    picker: document.getElementById("wc-datepicker"),
    pickerLabel: document.getElementById("wc-date-label"),
    date: document.getElementById("wc-date"),
    dateOk: document.getElementById("wc-date-ok"),
    dateCancel: document.getElementById("wc-date-cancel")
  };

  // ---- state ---------------------------------------------------------------
  var lastId = 0; // highest numeric message id seen
  var seen = Object.create(null); // message ids already rendered
  var localPending = []; // optimistic user bubbles waiting for their server copy
  var awaiting = false; // the user said something; the answer is not in yet
  var acceptedAt = 0; // when the server accepted the latest event (0 = not yet)
  var outSinceSend = false; // a bot/operator message was rendered since the latest send
  var fastSince = 0;
  var serverPending = false;
  var operatorName = null;
  var chipsKey = null;
  var latestChips = [];
  var pollTimer = null;
  var polling = false;
  var pollAgain = false;
  var failures = 0;
  var historyLoaded = false;
  var lastActionAt = 0;
  var sendChain = Promise.resolve();
  var pickerAction = null;

  // ---- small helpers ---------------------------------------------------------
  function h(tag, className, text) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }

  function str(v) {
    return v === undefined || v === null ? "" : String(v);
  }

  function sleep(ms) {
    return new Promise(function (resolve) { setTimeout(resolve, ms); });
  }

  function pad2(n) {
    return (n < 10 ? "0" : "") + n;
  }

  function timeLabel(iso) {
    if (!iso) return "";
    var d = new Date(iso);
    if (isNaN(d.getTime())) return "";
    return pad2(d.getHours()) + ":" + pad2(d.getMinutes());
  }

  function nowLabel() {
    var d = new Date();
    return pad2(d.getHours()) + ":" + pad2(d.getMinutes());
  }

  function dateLabel(iso) {
    var m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(iso || "");
    if (!m) return str(iso);
    return m[1] + "年" + Number(m[2]) + "月" + Number(m[3]) + "日";
  }

  function safeUri(uri) {
    var u = str(uri).trim();
    if (/^(https?:|tel:|mailto:)/i.test(u)) return u;
    if (/^\/(?!\/)/.test(u)) return u; // same-site path
    return null;
  }

  function param(name) {
    try {
      var v = new URLSearchParams(window.location.search).get(name);
      return v ? v.slice(0, 200) : null;
    } catch (e) {
      return null;
    }
  }

  // ---- scrolling ---------------------------------------------------------------
  function nearBottom() {
    var m = el.main;
    return m.scrollHeight - m.scrollTop - m.clientHeight < 140;
  }

  function scrollToBottom() {
    window.requestAnimationFrame(function () {
      el.main.scrollTop = el.main.scrollHeight;
    });
  }

  // ---- indicators ----------------------------------------------------------------
  function setBanner(on) {
    el.banner.hidden = !on;
  }

  function updateTyping() {
    var stick = nearBottom();
    // While an operator owns the conversation only the server's "pending" counts.
    var show = serverPending || (awaiting && !operatorName);
    if (el.typing.hidden === !show) return;
    el.typing.hidden = !show;
    if (show && stick) scrollToBottom();
  }

  function setOperator(op) {
    var name = op && op.name ? String(op.name) : null;
    operatorName = name;
    if (name) {
      el.operator.textContent = name;
      el.operator.hidden = false;
    } else {
      el.operator.textContent = "";
      el.operator.hidden = true;
    }
  }

  // ---- rendering: rows -------------------------------------------------------------
  function lastRow() {
    return el.log.lastElementChild;
  }

  function userRow(text, iso, id) {
    var li = h("li", "wc-row wc-row--user");
    if (id !== undefined && id !== null) li.setAttribute("data-id", String(id));
    var body = h("div", "wc-row__body");
    var bubble = h("p", "wc-bubble", text);
    body.appendChild(bubble);
    body.appendChild(h("span", "wc-row__time", iso ? timeLabel(iso) : nowLabel()));
    li.appendChild(body);
    el.log.appendChild(li);
    return li;
  }

  function operatorInitial(name) {
    var n = str(name);
    var i = n.search(/[：:]/);
    var rest = (i >= 0 ? n.slice(i + 1) : n).trim();
    return rest ? rest.charAt(0) : "担";
  }

  function incomingRow(m) {
    var sender = m.sender === "operator" ? "operator" : "bot";
    var prev = lastRow();
    var continued = prev && prev.getAttribute("data-sender") === sender;
    var li = h("li", "wc-row wc-row--" + sender + (continued ? " wc-row--cont" : ""));
    li.setAttribute("data-id", String(m.id));
    li.setAttribute("data-sender", sender);

    var avatar;
    if (sender === "operator") {
      avatar = h("span", "wc-avatar wc-avatar--operator", operatorInitial(operatorName));
      avatar.setAttribute("aria-hidden", "true");
    } else {
      avatar = h("img", "wc-avatar");
      avatar.src = AVATAR;
      avatar.alt = "";
      avatar.width = 36;
      avatar.height = 36;
    }
    if (continued) avatar.classList.add("wc-avatar--spacer");
    li.appendChild(avatar);

    var body = h("div", "wc-row__body");
    var who = sender === "operator" ? (operatorName || "担当者") : "相談ボット";
    var name = h("span", sender === "operator" ? "wc-row__name" : "wc-visually-hidden", who);
    if (continued && sender !== "operator") name.className = "wc-visually-hidden";
    body.appendChild(name);

    var items = m.answer && Array.isArray(m.answer.messages) ? m.answer.messages : null;
    if (items && items.length) {
      items.forEach(function (item) { body.appendChild(renderItem(item)); });
    } else {
      body.appendChild(h("p", "wc-bubble", str(m.text)));
    }
    body.appendChild(h("span", "wc-row__time", timeLabel(m.created_at)));
    li.appendChild(body);
    el.log.appendChild(li);
  }

  function systemRow(m) {
    var li = h("li", "wc-system");
    li.setAttribute("data-id", String(m.id));
    li.setAttribute("data-sender", "system");
    var text = str(m.text);
    if (!text && m.answer && m.answer.messages && m.answer.messages[0]) {
      text = str(m.answer.messages[0].text || m.answer.messages[0].alt_text);
    }
    li.appendChild(h("p", "wc-system__text", text));
    el.log.appendChild(li);
  }

  // ---- rendering: answer items ----------------------------------------------------
  function renderItem(item) {
    if (!item || typeof item !== "object") return h("p", "wc-bubble", "");
    if (item.type === "card") return renderCard(item);
    if (item.type === "table") return renderTable(item);
    if (item.type === "text") return h("p", "wc-bubble", str(item.text));
    return h("p", "wc-bubble", str(item.text || item.alt_text));
  }

  function renderCard(c) {
    var tone = c.tone === "warning" || c.tone === "urgent" ? c.tone : "info";
    var card = h("article", "wc-card wc-card--" + tone);
    card.setAttribute("aria-label", str(c.title || c.alt_text));
    var head = h("div", "wc-card__head");
    head.appendChild(h("p", "wc-card__title", str(c.title)));
    if (c.subtitle) head.appendChild(h("p", "wc-card__subtitle", str(c.subtitle)));
    card.appendChild(head);

    var rows = Array.isArray(c.rows) ? c.rows : [];
    var paras = Array.isArray(c.paragraphs) ? c.paragraphs : [];
    if (rows.length || paras.length) {
      var bodyEl = h("div", "wc-card__body");
      if (rows.length) {
        var dl = h("dl", "wc-card__rows");
        rows.forEach(function (r) {
          var pair = Array.isArray(r) ? r : [r, ""];
          dl.appendChild(h("dt", null, str(pair[0])));
          dl.appendChild(h("dd", null, str(pair[1])));
        });
        bodyEl.appendChild(dl);
      }
      paras.forEach(function (p) { bodyEl.appendChild(h("p", "wc-card__para", str(p))); });
      card.appendChild(bodyEl);
    }

    var buttons = Array.isArray(c.buttons) ? c.buttons : [];
    if (buttons.length) {
      var bar = h("div", "wc-card__buttons");
      buttons.forEach(function (b) {
        var node = actionElement(b, "wc-card__button");
        if (node) bar.appendChild(node);
      });
      if (bar.childNodes.length) card.appendChild(bar);
    }
    return card;
  }

  function renderTable(t) {
    var wrap = h("div", "wc-tablecard");
    var titleId = "wc-t-" + Math.random().toString(36).slice(2, 10);
    var title = h("p", "wc-tablecard__title", str(t.title));
    title.id = titleId;
    wrap.appendChild(title);
    var scroll = h("div", "wc-tablecard__scroll");
    scroll.setAttribute("role", "region");
    scroll.setAttribute("aria-labelledby", titleId);
    scroll.tabIndex = 0; // keyboard users can scroll a wide table
    var table = h("table", "wc-table");
    var columns = Array.isArray(t.columns) ? t.columns : [];
    if (columns.length) {
      var thead = h("thead");
      var tr = h("tr");
      columns.forEach(function (col) {
        var th = h("th", null, str(col));
        th.scope = "col";
        tr.appendChild(th);
      });
      thead.appendChild(tr);
      table.appendChild(thead);
    }
    var tbody = h("tbody");
    (Array.isArray(t.rows) ? t.rows : []).forEach(function (row) {
      var tr2 = h("tr");
      (Array.isArray(row) ? row : [row]).forEach(function (cell, i) {
        var c = h(i === 0 ? "th" : "td", null, str(cell));
        if (i === 0) c.scope = "row";
        tr2.appendChild(c);
      });
      tbody.appendChild(tr2);
    });
    table.appendChild(tbody);
    scroll.appendChild(table);
    wrap.appendChild(scroll);
    if (t.note) wrap.appendChild(h("p", "wc-tablecard__note", str(t.note)));
    return wrap;
  }

  // ---- actions (quick-reply chips and card buttons) -----------------------------------
  function actionElement(qr, className) {
    if (!qr || !qr.label) return null;
    var kind = qr.kind || "postback";
    if (kind === "uri") {
      var href = safeUri(qr.uri);
      if (!href) return null;
      var a = h("a", className + " " + "wc-chip--uri", str(qr.label));
      a.href = href;
      if (!/^(tel:|mailto:|\/)/i.test(href)) {
        a.target = "_blank";
        a.rel = "noopener noreferrer";
      }
      return a;
    }
    var b = h("button", className + (kind === "date" ? " wc-chip--date" : ""), str(qr.label));
    b.type = "button";
    b.addEventListener("click", function () { runAction(qr); });
    return b;
  }

  function runAction(qr) {
    var now = Date.now();
    if (now - lastActionAt < 700) return; // double tap
    lastActionAt = now;
    var kind = qr.kind || "postback";
    if (kind === "message") {
      sendText(str(qr.text || qr.label));
    } else if (kind === "date") {
      openPicker(qr);
    } else if (qr.data) {
      var shown = str(qr.text || qr.label);
      sendEvent({ type: "postback", data: str(qr.data), display_text: shown }, shown);
    }
  }

  function renderChips(list) {
    latestChips = Array.isArray(list) ? list : [];
    var key = JSON.stringify(latestChips);
    if (key === chipsKey) return;
    chipsKey = key;
    var stick = nearBottom();
    el.chips.textContent = "";
    latestChips.forEach(function (qr) {
      var node = actionElement(qr, "wc-chip");
      if (node) el.chips.appendChild(node);
    });
    el.chips.scrollLeft = 0;
    el.chips.hidden = el.chips.childNodes.length === 0;
    if (stick) scrollToBottom();
  }

  function hideChips() {
    el.chips.hidden = true;
    chipsKey = null;
  }

  // ---- date picker ------------------------------------------------------------------
  function openPicker(qr) {
    pickerAction = qr;
    el.pickerLabel.textContent = str(qr.label) || "日付を選んでください";
    el.date.min = qr.min || "";
    el.date.max = qr.max || "";
    el.date.value = qr.initial || "";
    el.picker.hidden = false;
    el.date.focus();
    try {
      if (typeof el.date.showPicker === "function") el.date.showPicker();
    } catch (e) {
      /* showPicker needs a user gesture in some browsers; the field stays usable */
    }
  }

  function closePicker() {
    el.picker.hidden = true;
    pickerAction = null;
  }

  el.dateOk.addEventListener("click", function () {
    var qr = pickerAction;
    var v = el.date.value;
    if (!qr) return closePicker();
    if (!/^\d{4}-\d{2}-\d{2}$/.test(v) || (el.date.min && v < el.date.min) || (el.date.max && v > el.date.max)) {
      el.date.focus();
      return;
    }
    closePicker();
    var shown = dateLabel(v);
    sendEvent({ type: "postback", data: str(qr.data), display_text: shown, params: { date: v } }, shown);
  });
  el.dateCancel.addEventListener("click", function () {
    closePicker();
    el.input.focus();
  });

  // ---- sending -----------------------------------------------------------------------
  function postEvent(payload) {
    return fetch(API + "/events", {
      method: "POST",
      credentials: "same-origin",
      cache: "no-store",
      headers: {
        "Content-Type": "application/json",
        "Accept": "application/json",
        "X-CSRFToken": CSRF
      },
      body: JSON.stringify(payload)
    });
  }

  function markFailed(entry, message) {
    if (!entry) return;
    var bubble = entry.li.querySelector(".wc-bubble");
    bubble.classList.remove("wc-bubble--sending");
    bubble.classList.add("wc-bubble--failed");
    var status = h("span", "wc-row__status", message);
    status.setAttribute("role", "alert");
    entry.li.querySelector(".wc-row__body").appendChild(status);
    var i = localPending.indexOf(entry);
    if (i >= 0) localPending.splice(i, 1);
  }

  async function deliver(payload, entry) {
    for (var attempt = 1; attempt <= SEND_ATTEMPTS; attempt++) {
      var res = null;
      try {
        res = await postEvent(payload);
      } catch (e) {
        res = null; // network error: retry quietly
      }
      if (res && res.ok) {
        setBanner(false);
        if (entry) entry.li.querySelector(".wc-bubble").classList.remove("wc-bubble--sending");
        if (entry) entry.accepted = true;
        return true;
      }
      if (res && res.status === 429) {
        var ra = Number(res.headers.get("Retry-After"));
        await sleep(ra > 0 ? Math.min(ra * 1000, 10000) : 1200 * attempt);
        continue;
      }
      if (res && res.status >= 400 && res.status < 500) {
        var msg = res.status === 400 ? "送信できませんでした。内容を確かめてもう一度お試しください。" :
          "送信できませんでした。ページを再読み込みしてください。";
        markFailed(entry, msg);
        return false;
      }
      setBanner(true);
      await sleep(Math.min(1000 * Math.pow(2, attempt - 1), MAX_BACKOFF_MS));
    }
    markFailed(entry, "送信できませんでした。通信環境を確かめてもう一度お試しください。");
    return false;
  }

  function sendEvent(payload, bubbleText) {
    var entry = null;
    if (bubbleText) {
      var li = userRow(bubbleText, null, null);
      li.querySelector(".wc-bubble").classList.add("wc-bubble--sending");
      entry = { li: li, text: bubbleText, accepted: false };
      localPending.push(entry);
      scrollToBottom();
    }
    closePicker();
    hideChips();
    awaiting = true;
    acceptedAt = 0;
    outSinceSend = false;
    fastSince = Date.now();
    updateTyping();
    sendChain = sendChain.then(function () {
      return deliver(payload, entry).then(function (ok) {
        if (ok) {
          acceptedAt = Date.now();
          fastSince = Date.now();
          schedule(POLL_FAST_MS);
        } else {
          awaiting = false;
          updateTyping();
          renderChips(latestChips);
        }
      });
    });
    return sendChain;
  }

  function sendText(text) {
    var t = str(text).replace(/\s+$/, "").replace(/^\s+/, "");
    if (!t) return;
    sendEvent({ type: "text", text: t }, t);
  }

  // ---- polling -------------------------------------------------------------------------
  function adoptLocal(m) {
    if (!localPending.length) return false;
    var text = str(m.text).trim();
    var idx = -1;
    for (var i = 0; i < localPending.length; i++) {
      if (localPending[i].text.trim() === text) { idx = i; break; }
    }
    if (idx < 0) idx = 0; // postbacks may be stored differently; per-user order is kept
    var entry = localPending.splice(idx, 1)[0];
    entry.li.setAttribute("data-id", String(m.id));
    entry.li.querySelector(".wc-bubble").classList.remove("wc-bubble--sending");
    var t = entry.li.querySelector(".wc-row__time");
    if (t && m.created_at) t.textContent = timeLabel(m.created_at) || t.textContent;
    return true;
  }

  function applyUpdate(data, startedAt) {
    var stick = nearBottom();
    var msgs = Array.isArray(data.messages) ? data.messages.slice() : [];
    msgs.sort(function (a, b) { return Number(a.id) - Number(b.id); });
    setOperator(data.operator);
    var added = 0;
    msgs.forEach(function (m) {
      if (!m || m.id === undefined || m.id === null) return;
      var key = String(m.id);
      var n = Number(m.id);
      if (!isNaN(n) && n > lastId) lastId = n;
      if (seen[key]) return;
      seen[key] = true;
      added++;
      if (m.sender === "system") {
        systemRow(m);
      } else if (m.direction === "in" || m.sender === "user") {
        if (!adoptLocal(m)) userRow(str(m.text), m.created_at, m.id);
      } else {
        incomingRow(m);
        outSinceSend = true;
      }
    });

    serverPending = data.pending === true;
    // The answer is in when a poll that began after the server accepted the event
    // finds nothing pending and a bot/operator message has arrived since the send.
    if (awaiting && acceptedAt && startedAt >= acceptedAt && !serverPending && !localPending.some(function (e) { return !e.accepted; })) {
      if (outSinceSend || Date.now() - acceptedAt > NO_ANSWER_GIVE_UP_MS) awaiting = false;
    }
    updateTyping();
    if (!awaiting) {
      renderChips(operatorName ? [] : data.quick_replies);
    }
    if (added && stick) scrollToBottom();
  }

  function nextDelay() {
    if (failures) return Math.min(POLL_IDLE_MS * Math.pow(2, failures - 1), MAX_BACKOFF_MS);
    if (document.hidden) return POLL_HIDDEN_MS;
    if ((awaiting || serverPending) && Date.now() - fastSince < FAST_WINDOW_MS) return POLL_FAST_MS;
    return POLL_IDLE_MS;
  }

  function schedule(ms) {
    if (polling) { pollAgain = true; return; }
    clearTimeout(pollTimer);
    pollTimer = setTimeout(poll, ms === undefined ? nextDelay() : ms);
  }

  async function poll() {
    if (polling) { pollAgain = true; return; }
    polling = true;
    pollAgain = false;
    clearTimeout(pollTimer);
    var startedAt = Date.now();
    try {
      var res = await fetch(API + "/messages?after=" + encodeURIComponent(String(lastId)), {
        credentials: "same-origin",
        cache: "no-store",
        headers: { "Accept": "application/json" }
      });
      if (!res.ok) throw new Error("HTTP " + res.status);
      var data = await res.json();
      failures = 0;
      setBanner(false);
      applyUpdate(data || {}, startedAt);
      if (!historyLoaded) {
        historyLoaded = true;
        maybeStart(data || {});
      }
    } catch (e) {
      failures++;
      setBanner(true);
    } finally {
      polling = false;
      schedule(pollAgain ? POLL_FAST_MS : undefined);
    }
  }

  function maybeStart(data) {
    var empty = !(Array.isArray(data.messages) && data.messages.length);
    var already = false;
    try { already = window.sessionStorage.getItem(START_FLAG) === "1"; } catch (e) { /* private mode */ }
    if (!empty || already) return;
    try { window.sessionStorage.setItem(START_FLAG, "1"); } catch (e) { /* ignore */ }
    sendEvent({
      type: "start",
      utm_source: param("utm_source"),
      utm_campaign: param("utm_campaign"),
      referrer: document.referrer ? document.referrer.slice(0, 500) : null
    }, null);
  }

  // ---- input -------------------------------------------------------------------------
  var composing = false;
  el.input.addEventListener("compositionstart", function () { composing = true; });
  el.input.addEventListener("compositionend", function () { composing = false; });
  el.input.addEventListener("keydown", function (e) {
    if (e.key !== "Enter" || e.shiftKey || e.altKey || e.ctrlKey || e.metaKey) return;
    // IME: Enter that confirms a kana-kanji conversion must not send.
    if (e.isComposing || composing || e.keyCode === 229) return;
    e.preventDefault();
    submit();
  });
  el.form.addEventListener("submit", function (e) {
    e.preventDefault();
    submit();
  });

  function submit() {
    var text = el.input.value;
    if (!text.trim()) return;
    el.input.value = "";
    sendText(text);
    el.input.focus();
  }

  document.addEventListener("keydown", function (e) {
    if (e.key === "Escape" && !el.picker.hidden) closePicker();
  });
  document.addEventListener("visibilitychange", function () {
    if (!document.hidden) schedule(0);
  });
  window.addEventListener("online", function () { schedule(0); });

  poll();
})();
