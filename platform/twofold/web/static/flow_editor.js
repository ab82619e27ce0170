/* Settings → Channels. The connect form lists every kind's fields; this shows only the
 * chosen kind's (without JavaScript they all show, and the server reads the right ones). */
(function () {
  "use strict";

  function showKindFields(form) {
    var select = form.querySelector("[data-channel-kind]");
    if (!select) return;
    var groups = form.querySelectorAll("[data-kind-fields]");
    for (var i = 0; i < groups.length; i++) {
      groups[i].hidden = groups[i].getAttribute("data-kind-fields") !== select.value;
    }
  }

  document.addEventListener("change", function (event) {
    var target = event.target;
    if (target && target.matches && target.matches("[data-channel-kind]")) {
      showKindFields(target.form);
    }
  });

  document.addEventListener("DOMContentLoaded", function () {
    var forms = document.querySelectorAll("[data-channel-form]");
    for (var i = 0; i < forms.length; i++) showKindFields(forms[i]);
  });
})();
