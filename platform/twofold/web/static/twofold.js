/* Twofold's small behaviours, without inline handlers (CSP-friendly).
 *
 * - forms with data-confirm ask before they submit (delete, merge, disable a pack);
 * - an inline cell editor closes with Escape;
 * - kanban boards: cards drag between columns (SortableJS); a drop posts the move with
 *   htmx, and a refused move (409) puts the card back where it was before the answer,
 *   which shows the unmet requirements, replaces it.
 */
(function () {
  "use strict";

  document.addEventListener("submit", function (event) {
    var form = event.target;
    var question = form.getAttribute && form.getAttribute("data-confirm");
    if (question && !window.confirm(question)) {
      event.preventDefault();
      event.stopImmediatePropagation();
    }
  }, true);

  document.addEventListener("keydown", function (event) {
    if (event.key !== "Escape") return;
    var form = event.target.closest && event.target.closest(".cell-form");
    if (!form) return;
    var cancel = form.querySelector("[data-cancel]");
    if (cancel) {
      event.preventDefault();
      cancel.click();
    }
  });

  function putBack(card) {
    var origin = card._twofoldOrigin;
    if (!origin) return;
    var list = origin.from;
    var before = list.children[origin.index] || null;
    if (before !== card) list.insertBefore(card, before);
    card._twofoldOrigin = null;
  }

  function initColumn(list) {
    if (list._twofoldSortable || typeof window.Sortable === "undefined") return;
    list._twofoldSortable = window.Sortable.create(list, {
      group: "board-" + list.getAttribute("data-board-column"),
      sort: false,
      animation: 150,
      draggable: ".kanban-card",
      filter: ".card-move",
      preventOnFilter: false,
      delay: 150,
      delayOnTouchOnly: true,
      ghostClass: "dragging",
      onEnd: function (event) {
        if (event.from === event.to) return;
        var card = event.item;
        card._twofoldOrigin = { from: event.from, index: event.oldIndex };
        card.classList.add("moving");
        window.htmx.ajax("POST", card.getAttribute("data-move-url"), {
          source: card,
          target: card,
          swap: "outerHTML",
          values: { stage: event.to.getAttribute("data-stage-id") }
        });
      }
    });
  }

  document.addEventListener("htmx:beforeSwap", function (event) {
    var card = event.detail.elt;
    if (!card || !card._twofoldOrigin) return;
    if (event.detail.xhr.status === 409) {
      putBack(card);
    } else if (event.detail.xhr.status >= 400) {
      putBack(card);
      card.classList.remove("moving");
      window.alert("The card could not be moved; please reload the page.");
    }
  });

  document.addEventListener("htmx:sendError", function (event) {
    var card = event.detail.elt;
    if (card && card._twofoldOrigin) {
      putBack(card);
      card.classList.remove("moving");
    }
  });

  function init(root) {
    var lists = root.querySelectorAll ? root.querySelectorAll("[data-board-column]") : [];
    Array.prototype.forEach.call(lists, initColumn);
  }

  document.addEventListener("DOMContentLoaded", function () {
    init(document);
    if (window.htmx) window.htmx.onLoad(init);
  });
})();

/* Automation rule builder: add and remove condition and action rows from a <template>. */
(function () {
  document.addEventListener("click", function (event) {
    var add = event.target.closest ? event.target.closest("[data-auto-add]") : null;
    if (add) {
      var name = add.getAttribute("data-auto-add");
      var form = add.closest("form");
      var tpl = form.querySelector('template[data-auto-template="' + name + '"]');
      var rows = form.querySelector('[data-auto-rows="' + name + '"]');
      if (tpl && rows) rows.appendChild(tpl.content.cloneNode(true));
      return;
    }
    var remove = event.target.closest ? event.target.closest("[data-auto-remove]") : null;
    if (remove) {
      var row = remove.closest("[data-auto-row]");
      if (row) row.remove();
    }
  });
})();

/* Settings → Integrations: a [data-copy="<id>"] button copies the text of that element
 * (a secret shown once, an embed snippet) and says so. */
(function () {
  document.addEventListener("click", function (event) {
    var button = event.target.closest ? event.target.closest("[data-copy]") : null;
    if (!button) return;
    var source = document.getElementById(button.getAttribute("data-copy"));
    if (!source || !navigator.clipboard) return;
    navigator.clipboard.writeText(source.textContent).then(function () {
      var label = button.textContent;
      button.textContent = "Copied";
      window.setTimeout(function () { button.textContent = label; }, 1500);
    });
  });
})();

/* Inbox: Ctrl+Enter (Cmd+Enter on a Mac) sends a reply; a new message arriving by a poll
 * and by a reply's answer at once shows once; the reply box keeps the focus after sending. */
(function () {
  document.addEventListener("keydown", function (event) {
    if (event.key !== "Enter" || !(event.ctrlKey || event.metaKey)) return;
    var box = event.target.closest ? event.target.closest("[data-send-on-ctrl-enter]") : null;
    if (!box || !box.form) return;
    event.preventDefault();
    if (box.form.requestSubmit) box.form.requestSubmit(); else box.form.submit();
  });

  document.addEventListener("htmx:afterSettle", function () {
    var transcript = document.getElementById("transcript");
    if (!transcript) return;
    var seen = {};
    Array.prototype.forEach.call(transcript.querySelectorAll(".bubble[id]"), function (bubble) {
      if (seen[bubble.id]) bubble.remove(); else seen[bubble.id] = true;
    });
    var placeholder = document.getElementById("no-messages");
    if (placeholder && transcript.querySelector(".bubble")) placeholder.remove();
  });

  document.addEventListener("htmx:afterSwap", function (event) {
    var target = event.detail.target;
    if (!target || target.id !== "reply") return;
    var box = document.getElementById("f-text");
    if (box) box.focus();
    var transcript = document.getElementById("transcript");
    if (transcript) transcript.scrollTop = transcript.scrollHeight;
  });
})();
