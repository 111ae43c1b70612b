// Progressive enhancement for /register: show the enterprise fieldset only
// when "enterprise" is chosen. Without this script every field is shown and
// the server ignores the enterprise fields for other kinds.
(function () {
  'use strict';
  var form = document.getElementById('register-form');
  var fieldset = document.getElementById('enterprise-fields');
  if (!form || !fieldset) return;
  var radios = form.querySelectorAll('input[type="radio"][name="kind"]');

  function chosenKind() {
    for (var i = 0; i < radios.length; i++) {
      if (radios[i].checked) return radios[i].value;
    }
    return null;
  }

  function update() {
    var kind = chosenKind();
    // Nothing chosen yet: keep the fields visible rather than guess.
    var show = kind === null || kind === 'enterprise';
    fieldset.hidden = !show;
    // Disabled controls are not submitted, so hidden values cannot leak into the request.
    fieldset.disabled = !show;
  }

  for (var i = 0; i < radios.length; i++) {
    radios[i].addEventListener('change', update);
  }
  update();
  // Browsers may restore the chosen radio when coming back through the history.
  window.addEventListener('pageshow', update);
})();
