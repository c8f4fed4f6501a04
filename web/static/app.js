// Small progressive touches; every page works without this file.
(function () {
  "use strict";
  // A backup link's time left counts down, and the page turns into the
  // expired page when the time is up.
  var left = document.querySelector("[data-expires-in]");
  if (left) {
    var end = Date.now() + 1000 * parseInt(left.getAttribute("data-expires-in"), 10);
    var tick = function () {
      var s = Math.round((end - Date.now()) / 1000);
      if (s <= 0) { location.assign(location.pathname); return; }
      var m = Math.floor(s / 60);
      if (m >= 2) { left.textContent = left.textContent.replace(/\d+/, String(m)); }
      setTimeout(tick, 10000);
    };
    setTimeout(tick, 10000);
  }
  // Home: the doors' state refreshes while the page is open.
  var doors = document.getElementById("doors");
  if (doors && window.fetch && window.DOMParser) {
    setInterval(function () {
      if (document.visibilityState !== "visible") { return; }
      fetch(location.pathname, { credentials: "same-origin", headers: { "Accept": "text/html" } })
        .then(function (r) { return r.ok ? r.text() : null; })
        .then(function (html) {
          if (!html) { return; }
          var fresh = new DOMParser().parseFromString(html, "text/html").getElementById("doors");
          if (fresh && fresh.innerHTML !== doors.innerHTML) { doors.innerHTML = fresh.innerHTML; }
        })
        .catch(function () {});
    }, 15000);
  }
})();
