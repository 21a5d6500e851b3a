/* plantwatch pages: the little behaviour they have, bound by id or data- attribute.
   One file served from /static (the Content-Security-Policy allows no inline script or on*=
   handler); each part does nothing on pages without its elements. */
(function () {
  'use strict';

  /* site page: picking a plan overlay reloads the map (a Show button remains in <noscript>) */
  document.querySelectorAll('select[data-autosubmit]').forEach(function (select) {
    select.addEventListener('change', function () { select.form.submit(); });
  });

  /* error page: "Back" goes back where there is a page to go back to, else home (its href) */
  document.querySelectorAll('a[data-action=back]').forEach(function (link) {
    link.addEventListener('click', function (e) {
      if (window.history.length > 1) { e.preventDefault(); window.history.back(); }
    });
  });

  /* checklist run: answer every still-unanswered item OK */
  document.querySelectorAll('[data-action=mark-rest-ok]').forEach(function (button) {
    button.addEventListener('click', function () {
      var form = button.form || document;
      form.querySelectorAll('input[type=radio][value=ok]').forEach(function (radio) {
        var answered = Array.prototype.some.call(
          form.querySelectorAll('input[type=radio]'),
          function (r) { return r.name === radio.name && r.checked; });
        if (!answered && !radio.disabled) radio.checked = true;
      });
    });
  });

  /* photo upload: say the size before sending (the server refuses more than data-max-bytes) */
  var files = document.getElementById('ph-files');
  var size = document.getElementById('ph-size');
  if (files && size) {
    files.addEventListener('change', function () {
      var total = 0;
      for (var i = 0; i < files.files.length; i++) total += files.files[i].size;
      var text = files.files.length + ' file(s), ' + (total / 1048576).toFixed(1) + ' MiB';
      var max = Number(files.dataset.maxBytes || 0);
      if (max && total > max) text += ' (over the ' + (max / 1048576).toFixed(0) + ' MiB limit)';
      size.textContent = text;
    });
  }

  /* photo page: draw a finding's region. Boxes are stored in photo pixels; the image is shown
     scaled, so convert both ways. */
  var img = document.getElementById('photo');
  var stage = document.getElementById('stage');
  var draft = document.getElementById('draft');
  if (img && stage && draft) {
    var scale = function () { return img.naturalWidth ? img.clientWidth / img.naturalWidth : 1; };
    var place = function (el, x, y, w, h) {
      var k = scale();
      el.style.left = x * k + 'px'; el.style.top = y * k + 'px';
      el.style.width = w * k + 'px'; el.style.height = h * k + 'px';
    };
    var layout = function () {
      document.querySelectorAll('.box[data-finding]').forEach(function (b) {
        place(b, +b.dataset.x, +b.dataset.y, +b.dataset.w, +b.dataset.h);
      });
    };
    img.addEventListener('load', layout);
    window.addEventListener('resize', layout);
    if (img.complete) layout();
    var start = null;
    var point = function (e) {
      var r = img.getBoundingClientRect(), k = scale();
      return {
        x: Math.max(0, Math.min(img.naturalWidth, (e.clientX - r.left) / k)),
        y: Math.max(0, Math.min(img.naturalHeight, (e.clientY - r.top) / k))
      };
    };
    var field = function (id) { return document.getElementById(id); };
    stage.addEventListener('pointerdown', function (e) {
      if (!field('fx')) return;  /* no finding form: this role may not record findings */
      start = point(e); stage.setPointerCapture(e.pointerId); e.preventDefault();
    });
    stage.addEventListener('pointermove', function (e) {
      if (!start) return;
      var p = point(e);
      var x = Math.min(start.x, p.x), y = Math.min(start.y, p.y);
      var w = Math.abs(p.x - start.x), h = Math.abs(p.y - start.y);
      draft.hidden = false; place(draft, x, y, w, h);
      field('fx').value = Math.round(x); field('fy').value = Math.round(y);
      field('fw').value = Math.max(1, Math.round(w)); field('fh').value = Math.max(1, Math.round(h));
    });
    stage.addEventListener('pointerup', function () { start = null; });
  }
})();
