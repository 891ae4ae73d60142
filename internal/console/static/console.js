// A little enhancement; every page works without it. Forms that remove or
// lock ask first, and a submitted form's button is disabled so that a
// double click does not post twice.
document.addEventListener('submit', function (e) {
  var f = e.target, b = f.querySelector('button.danger');
  if (b && f.dataset.asked !== '1' && !window.confirm(b.textContent)) { e.preventDefault(); return; }
  f.dataset.asked = '1';
  var s = f.querySelector('button[type=submit]');
  if (s && f.method.toLowerCase() === 'post') { setTimeout(function () { s.disabled = true; }, 0); }
});
