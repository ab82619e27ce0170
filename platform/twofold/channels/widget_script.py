"""The website chat widget's script, served by ``GET /chat/<channel id>/widget.js``.

Kept in a Python module (not a static file) so that it ships with the package as code; the
view wraps it as ``(function (TWOFOLD_CHAT) { SCRIPT })(<the channel's JSON config>);``,
with :func:`style` in the config for the script to inject.
"""

# Every rule under .twofold-chat: the widget must not restyle the page that embeds it.
_STYLE = """
.twofold-chat{position:fixed;right:20px;bottom:20px;z-index:2147483000;
  font:14px/1.4 system-ui,sans-serif;color:#1f2328}
.twofold-chat *{box-sizing:border-box}
.twofold-chat__launcher{width:56px;height:56px;border-radius:50%;border:0;background:COLOR;
  color:#fff;font-size:24px;cursor:pointer;box-shadow:0 4px 14px rgba(0,0,0,.25)}
.twofold-chat button:focus-visible,.twofold-chat__input:focus-visible{
  outline:3px solid #0969da;outline-offset:2px}
.twofold-chat__panel{position:absolute;right:0;bottom:68px;width:340px;max-width:calc(100vw - 40px);
  height:460px;max-height:calc(100vh - 110px);display:flex;flex-direction:column;background:#fff;
  border-radius:12px;box-shadow:0 8px 30px rgba(0,0,0,.25);overflow:hidden}
.twofold-chat__panel[hidden]{display:none}
.twofold-chat__head{display:flex;align-items:center;justify-content:space-between;
  padding:10px 14px;background:COLOR;color:#fff;font-weight:600}
.twofold-chat__close{border:0;background:transparent;color:#fff;font-size:20px;cursor:pointer}
.twofold-chat__log{flex:1;overflow-y:auto;padding:12px;display:flex;flex-direction:column;gap:8px;
  background:#f6f8fa}
.twofold-chat__empty{color:#656d76;text-align:center;margin:auto 0}
.twofold-chat__msg{max-width:85%;padding:8px 11px;border-radius:10px;white-space:pre-wrap;
  overflow-wrap:break-word}
.twofold-chat__msg--client{align-self:flex-end;background:COLOR;color:#fff}
.twofold-chat__msg--bot,.twofold-chat__msg--human{align-self:flex-start;background:#fff;
  border:1px solid #d0d7de}
.twofold-chat__msg--pending{opacity:.6}
.twofold-chat__msg--error{align-self:center;background:#ffebe9;border:1px solid #ff8182;font-size:12px}
.twofold-chat__choices{display:flex;flex-wrap:wrap;gap:6px;padding:0 12px 8px;background:#f6f8fa}
.twofold-chat__choices:empty{display:none}
.twofold-chat__choice{border:1px solid COLOR;background:#fff;color:COLOR;border-radius:14px;
  padding:4px 12px;cursor:pointer}
.twofold-chat__form{display:flex;gap:6px;padding:10px;border-top:1px solid #d0d7de}
.twofold-chat__input{flex:1;min-width:0;padding:8px 10px;border:1px solid #d0d7de;border-radius:8px;
  font:inherit}
.twofold-chat__send{border:0;border-radius:8px;padding:0 14px;background:COLOR;color:#fff;
  font:inherit;cursor:pointer}
"""


def style(color: str) -> str:
    """The widget's CSS in the channel's colour (a ``#rrggbb`` the caller has checked)."""
    return _STYLE.replace("COLOR", color).strip()

SCRIPT = r"""/* Twofold website chat, served by GET /chat/<channel id>/widget.js with its config.
 *
 * Pasted as one <script src="..." async> tag on any site. It draws a floating button that
 * opens a chat box, posts the visitor's messages (with the page, the referrer and the UTM
 * values it landed with) to the channel's endpoint on the script's own origin, shows the
 * bot's answer at once, and polls for a manager's replies while the box is open. The
 * visitor's random id lives in localStorage, so a reload re-opens the same conversation.
 * No inline handlers, no eval, no framework: it runs under a strict Content-Security-Policy.
 */
(function (config) {
  "use strict";
  if (window["__twofoldChat_" + config.channel]) return; // the tag pasted twice
  window["__twofoldChat_" + config.channel] = true;

  var UTM = ["utm_source", "utm_medium", "utm_campaign", "utm_term", "utm_content"];
  var ID_RE = /^[A-Za-z0-9_-]{16,48}$/;
  var KEY = "twofold-chat-" + config.channel;
  var NS = "twofold-chat";

  function findScript() {
    if (document.currentScript) return document.currentScript;
    var all = document.getElementsByTagName("script");
    for (var i = 0; i < all.length; i++) {
      if ((all[i].src || "").indexOf(config.script) !== -1) return all[i];
    }
    return null;
  }

  // The API lives where the script came from, whatever site embeds it.
  var script = findScript();
  var endpoint = new URL(config.messages, (script && script.src) || window.location.href).href;

  var memory = {};
  function load(name) {
    try { return window.localStorage.getItem(KEY + "-" + name); } catch (e) { return memory[name] || null; }
  }
  function save(name, value) {
    memory[name] = value;
    try { window.localStorage.setItem(KEY + "-" + name, value); } catch (e) { /* private mode */ }
  }

  function newId() {
    var bytes = new Uint8Array(18);
    (window.crypto || window.msCrypto).getRandomValues(bytes);
    return Array.prototype.map.call(bytes, function (b) {
      return ("0" + b.toString(16)).slice(-2);
    }).join("");
  }

  var visitor = load("visitor");
  if (!visitor || !ID_RE.test(visitor)) {
    visitor = newId();
    save("visitor", visitor);
  }

  // UTM values of this page, or of the page the visitor landed on earlier in this browser.
  function utm() {
    var params = new URLSearchParams(window.location.search);
    var found = {};
    UTM.forEach(function (name) {
      var value = params.get(name);
      if (value) found[name] = value.slice(0, 200);
    });
    if (Object.keys(found).length) {
      save("utm", JSON.stringify(found));
      return found;
    }
    try { return JSON.parse(load("utm") || "{}") || {}; } catch (e) { return {}; }
  }
  var landing = utm();
  if (!load("referrer") && document.referrer) save("referrer", document.referrer.slice(0, 500));

  var css = config.css; // namespaced under .twofold-chat, so the host page is untouched

  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined) node.textContent = text;
    return node;
  }

  var root = el("div", NS);
  var panelId = NS + "-" + config.channel;
  var launcher = el("button", NS + "__launcher", "\uD83D\uDCAC");
  launcher.type = "button";
  launcher.setAttribute("aria-label", config.labels.open);
  launcher.setAttribute("aria-controls", panelId);
  launcher.setAttribute("aria-expanded", "false");
  var panel = el("div", NS + "__panel");
  panel.id = panelId;
  panel.hidden = true;
  panel.setAttribute("role", "dialog");
  panel.setAttribute("aria-label", config.title);
  var head = el("div", NS + "__head");
  head.appendChild(el("span", "", config.title));
  var closer = el("button", NS + "__close", "\u00D7");
  closer.type = "button";
  closer.setAttribute("aria-label", config.labels.close);
  head.appendChild(closer);
  var log = el("div", NS + "__log");
  log.setAttribute("role", "log");
  log.setAttribute("aria-live", "polite");
  var empty = el("p", NS + "__empty", config.labels.empty);
  log.appendChild(empty);
  var choices = el("div", NS + "__choices");
  var form = el("form", NS + "__form");
  var input = el("input", NS + "__input");
  input.type = "text";
  input.maxLength = 4000;
  input.autocomplete = "off";
  input.placeholder = config.labels.placeholder;
  input.setAttribute("aria-label", config.labels.placeholder);
  var sendButton = el("button", NS + "__send", config.labels.send);
  sendButton.type = "submit";
  form.appendChild(input);
  form.appendChild(sendButton);
  panel.appendChild(head);
  panel.appendChild(log);
  panel.appendChild(choices);
  panel.appendChild(form);
  root.appendChild(panel);
  root.appendChild(launcher);

  var shown = {};     // message ids already on screen
  var lastSeen = "";  // the newest message id the server listed, for ?after=
  var pending = null; // an unanswered send: a retry reuses its id, so it is stored once
  var timer = null;

  function scrollDown() { log.scrollTop = log.scrollHeight; }

  function showChoices(list) {
    while (choices.firstChild) choices.removeChild(choices.firstChild);
    (list || []).forEach(function (choice) {
      var button = el("button", NS + "__choice", choice);
      button.type = "button";
      button.addEventListener("click", function () { send(choice); });
      choices.appendChild(button);
    });
  }

  function render(message) {
    if (!message || shown[message.id]) return;
    shown[message.id] = true;
    if (empty.parentNode) empty.parentNode.removeChild(empty);
    log.appendChild(el("div", NS + "__msg " + NS + "__msg--" + message.author, message.text));
    showChoices(message.author === "client" ? [] : message.choices);
    scrollDown();
  }

  function request(method, url, body) {
    var options = { method: method, headers: {}, credentials: "omit" };
    if (body) {
      options.headers["Content-Type"] = "application/json";
      options.body = JSON.stringify(body);
    }
    return fetch(url, options).then(function (response) {
      return response.json().catch(function () { return {}; }).then(function (data) {
        if (!response.ok) throw data;
        return data;
      });
    });
  }

  function poll() {
    var url = endpoint + "?visitor=" + encodeURIComponent(visitor) +
      (lastSeen ? "&after=" + encodeURIComponent(lastSeen) : "");
    return request("GET", url).then(function (data) {
      (data.messages || []).forEach(function (message) {
        render(message);
        lastSeen = message.id;
      });
    }).catch(function () { /* offline for a moment: the next poll catches up */ });
  }

  function send(text) {
    text = (text || "").trim();
    if (!text) return;
    if (!pending || pending.text !== text) pending = { text: text, id: newId() };
    var mine = pending;
    showChoices([]);
    var bubble = el("div", NS + "__msg " + NS + "__msg--client " + NS + "__msg--pending", text);
    if (empty.parentNode) empty.parentNode.removeChild(empty);
    log.appendChild(bubble);
    scrollDown();
    input.value = "";
    request("POST", endpoint, {
      visitor: visitor, text: text, message_id: mine.id, page: window.location.href.slice(0, 500),
      referrer: load("referrer") || document.referrer.slice(0, 500), utm: landing
    }).then(function (data) {
      if (pending === mine) pending = null;
      bubble.parentNode.removeChild(bubble);
      render(data.message);
      (data.replies || []).forEach(render);
    }).catch(function (data) {
      bubble.parentNode.removeChild(bubble);
      var error = data && data.errors ? Object.keys(data.errors).map(function (k) {
        return data.errors[k].join(" ");
      }).join(" ") : config.labels.failed;
      log.appendChild(el("div", NS + "__msg " + NS + "__msg--error", error));
      if (!input.value) input.value = text;
      scrollDown();
    });
  }

  function setOpen(open) {
    panel.hidden = !open;
    launcher.setAttribute("aria-expanded", open ? "true" : "false");
    save("open", open ? "1" : "");
    if (timer) { window.clearInterval(timer); timer = null; }
    if (open) {
      poll();
      timer = window.setInterval(poll, config.poll_seconds * 1000);
      input.focus();
    }
  }

  launcher.addEventListener("click", function () { setOpen(panel.hidden); });
  closer.addEventListener("click", function () { setOpen(false); launcher.focus(); });
  panel.addEventListener("keydown", function (event) {
    if (event.key === "Escape") { setOpen(false); launcher.focus(); }
  });
  form.addEventListener("submit", function (event) {
    event.preventDefault();
    send(input.value);
  });

  function start() {
    var style = el("style");
    style.textContent = css;
    document.head.appendChild(style);
    document.body.appendChild(root);
    if (load("open")) setOpen(true); // it was open before the reload: history comes back
  }
  if (document.body) start(); else document.addEventListener("DOMContentLoaded", start);
})(TWOFOLD_CHAT);
"""
