// Progressive enhancement only: every page works without this file.
(function () {
  "use strict";
  var fmt = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "short" });

  function localTimes(root) {
    root.querySelectorAll("time[datetime]").forEach(function (el) {
      var d = new Date(el.getAttribute("datetime"));
      if (!isNaN(d)) { el.textContent = fmt.format(d); }
    });
  }

  function left(ms) {
    if (ms <= 0) { return "closed now"; }
    var m = Math.floor(ms / 60000);
    if (m < 1) { return "under a minute left"; }
    var h = Math.floor(m / 60);
    m = m % 60;
    return (h ? h + " h " + String(m).padStart(2, "0") + " min" : m + " min") + " left";
  }

  function countdowns() {
    document.querySelectorAll("[data-expires]").forEach(function (el) {
      el.textContent = left(new Date(el.getAttribute("data-expires")) - Date.now());
    });
  }

  function autorefresh(list) {
    var seconds = parseInt(list.getAttribute("data-autorefresh"), 10);
    if (!seconds || !window.fetch || !window.DOMParser) { return; }
    setInterval(function () {
      if (document.hidden) { return; }
      fetch(window.location.href, { credentials: "same-origin" }).then(function (r) {
        return r.ok ? r.text() : null;
      }).then(function (html) {
        if (!html) { return; }
        var fresh = new DOMParser().parseFromString(html, "text/html").getElementById("lead-list");
        if (fresh && fresh.innerHTML !== list.innerHTML) {
          list.innerHTML = fresh.innerHTML;
          localTimes(list);
        }
      }).catch(function () {});
    }, seconds * 1000);
  }

  document.addEventListener("DOMContentLoaded", function () {
    localTimes(document);
    countdowns();
    setInterval(countdowns, 30000);
    var tz = Intl.DateTimeFormat().resolvedOptions().timeZone;
    document.querySelectorAll("input[data-tz]").forEach(function (el) { if (!el.value) { el.value = tz; } });
    document.querySelectorAll("[data-select]").forEach(function (el) {
      el.addEventListener("focus", function () { el.select(); });
    });
    var list = document.getElementById("lead-list");
    if (list) { autorefresh(list); }
  });
})();
