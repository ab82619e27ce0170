"""The script of an embedded inbound form, served by ``GET /f/<slug>/<key>.js``.

It lives in a Python module (not a static file) so it ships with the package as code; the
view wraps it as ``(function (TWOFOLD_FORM) { SCRIPT })(<the form's JSON config>);``.
"""

SCRIPT = r"""/* Twofold embedded form, served by GET /f/<slug>/<key>.js with its config as TWOFOLD_FORM.
 *
 * Pasted as one <script> tag, it draws the form where the tag is, or enhances a
 * <form data-twofold-form="<key>"> already on the page. A submission posts to the form's
 * endpoint with the page's UTM values and referrer and an Idempotency-Key made once per
 * submission (a double click or a retry after a lost answer sends the same key, so the
 * CRM creates one lead), then shows the thanks or each field's error beside its input.
 * No inline handlers, no eval: it runs under a strict Content-Security-Policy.
 */
(function (config, script) {
  "use strict";
  var UTM = ["utm_source", "utm_medium", "utm_campaign", "utm_term", "utm_content"];
  var prefix = "twofold-" + config.key + "-";

  function newKey() {
    if (window.crypto && window.crypto.randomUUID) return window.crypto.randomUUID();
    var bytes = new Uint8Array(16);
    (window.crypto || window.msCrypto).getRandomValues(bytes);
    return Array.prototype.map.call(bytes, function (b) {
      return ("0" + b.toString(16)).slice(-2);
    }).join("");
  }

  function el(tag, attrs, text) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (name) { node.setAttribute(name, attrs[name]); });
    if (text) node.textContent = text;
    return node;
  }

  function render() {
    var form = el("form", { method: "post", action: config.action, "data-twofold-form": config.key,
                            "class": "twofold-form" });
    config.fields.forEach(function (f) {
      var row = el("p", { "class": "twofold-field" });
      row.appendChild(el("label", { "for": prefix + f.name }, f.label));
      var attrs = { id: prefix + f.name, name: f.name, type: f.input };
      if (f.required) attrs.required = "required";
      if (f.input === "email") attrs.autocomplete = "email";
      if (f.input === "tel") attrs.autocomplete = "tel";
      row.appendChild(el("input", attrs));
      form.appendChild(row);
    });
    form.appendChild(el("button", { type: "submit" }, config.submit));
    var parent = script && script.parentNode;
    if (parent && parent !== document.head) {
      parent.insertBefore(form, script.nextSibling);
    } else {
      document.body.appendChild(form);
    }
    return form;
  }

  function status(form) {
    var box = form.querySelector(".twofold-status");
    if (!box) {
      box = el("p", { "class": "twofold-status", role: "status", "aria-live": "polite" });
      form.appendChild(box);
    }
    return box;
  }

  function clearErrors(form) {
    Array.prototype.forEach.call(form.querySelectorAll(".twofold-error"), function (node) {
      node.parentNode.removeChild(node);
    });
    Array.prototype.forEach.call(form.querySelectorAll("[aria-invalid]"), function (input) {
      input.removeAttribute("aria-invalid");
      input.removeAttribute("aria-describedby");
    });
  }

  function showErrors(form, errors) {
    var byField = {};
    config.fields.forEach(function (f) { byField[f.field] = f.name; });
    var general = [];
    var first = null;
    Object.keys(errors).forEach(function (field) {
      var messages = [].concat(errors[field]).join(" ");
      var input = form.elements[byField[field] || field];
      if (!input || !input.parentNode) {
        general.push(messages);
        return;
      }
      var note = el("span", { "class": "twofold-error", id: prefix + "error-" + input.name }, messages);
      input.setAttribute("aria-invalid", "true");
      input.setAttribute("aria-describedby", note.id);
      input.parentNode.insertBefore(note, input.nextSibling);
      first = first || input;
    });
    status(form).textContent = general.length ? general.join(" ") : config.fix;
    if (first) first.focus();
  }

  function values(form) {
    var data = new URLSearchParams();
    Array.prototype.forEach.call(form.elements, function (input) {
      if (!input.name || input.disabled || input.type === "submit" || input.type === "button") return;
      if ((input.type === "checkbox" || input.type === "radio") && !input.checked) return;
      data.append(input.name, input.value);
    });
    var page = new URLSearchParams(window.location.search);
    UTM.forEach(function (name) {
      if (config.extras.indexOf(name) >= 0 && page.get(name) && !data.get(name)) {
        data.set(name, page.get(name));
      }
    });
    if (config.extras.indexOf("referrer") >= 0 && !data.get("referrer")) {
      data.set("referrer", document.referrer || window.location.href);
    }
    return data;
  }

  function submit(event) {
    var form = event.currentTarget;
    event.preventDefault();
    if (form.getAttribute("data-sending")) return; // a second click while the first is on its way
    if (!form.getAttribute("data-idempotency-key")) form.setAttribute("data-idempotency-key", newKey());
    form.setAttribute("data-sending", "1");
    form.setAttribute("aria-busy", "true");
    clearErrors(form);
    status(form).textContent = config.sending;
    window.fetch(config.action, {
      method: "POST",
      mode: "cors",
      headers: { "Idempotency-Key": form.getAttribute("data-idempotency-key"),
                 "Content-Type": "application/x-www-form-urlencoded" },
      body: values(form).toString()
    }).then(function (response) {
      return response.json().catch(function () { return {}; }).then(function (body) {
        if (response.ok) {
          form.removeAttribute("data-idempotency-key"); // the next submission is a new lead
          form.reset();
          status(form).textContent = config.success;
        } else if (response.status === 422) {
          form.removeAttribute("data-idempotency-key"); // nothing was created: a new try
          showErrors(form, body.errors || {});
        } else {
          status(form).textContent = (body.error && body.error.message) || config.failed;
        }
      });
    }).catch(function () {
      status(form).textContent = config.failed; // the key is kept: a retry cannot make a second lead
    }).then(function () {
      form.removeAttribute("data-sending");
      form.removeAttribute("aria-busy");
    });
  }

  function start() {
    var form = document.querySelector('form[data-twofold-form="' + config.key + '"]') || render();
    if (form.getAttribute("data-twofold-ready")) return;
    form.setAttribute("data-twofold-ready", "1");
    form.addEventListener("submit", submit);
  }

  if (script && script.parentNode && script.parentNode !== document.head) {
    start();
  } else if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})(TWOFOLD_FORM, document.currentScript);
"""
