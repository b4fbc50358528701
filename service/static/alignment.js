// The alignment page's script, inlined by service/alignment_view.py (hashed in its CSP).
(function () {
  function clear(cls) {
    document.querySelectorAll('.s.' + cls).forEach(function (el) { el.classList.remove(cls); });
  }
  function mark(el, cls) {
    var id = el.getAttribute('data-partner');
    var partner = id && document.getElementById(id);
    el.classList.add(cls);
    if (partner) { partner.classList.add(cls); }
    return partner;
  }
  document.querySelectorAll('.s').forEach(function (el) {
    el.addEventListener('click', function (ev) {
      if (ev.target.closest('a')) { clear('active'); mark(el, 'active'); return; }
      clear('active');
      var partner = mark(el, 'active');
      if (partner) { partner.scrollIntoView({block: 'nearest'}); }
    });
    el.addEventListener('mouseenter', function () { clear('partner-hover'); mark(el, 'partner-hover'); });
    el.addEventListener('mouseleave', function () { clear('partner-hover'); });
  });
})();
