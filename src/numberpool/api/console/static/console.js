// numberpool console: partial updates. Every page works without this file; with it, an element
// marked data-refresh="SECONDS" (with an id) is refreshed in place from the same page every
// SECONDS while the tab is visible: the state counts of the Overview, the hit counts of Faults,
// an import's progress. It stops once the fresh copy is no longer marked (the import has ended).
// An element marked data-scroll-end starts scrolled to its right end (the latest hours of a chart
// that scrolls sideways on a narrow screen).
"use strict";

(function () {
  function refresh(element, seconds) {
    window.setTimeout(async function () {
      if (!document.hidden) {
        try {
          const response = await fetch(window.location.href, { credentials: "same-origin", headers: { "Accept": "text/html" } });
          if (response.ok) {
            const page = new DOMParser().parseFromString(await response.text(), "text/html");
            const fresh = page.getElementById(element.id);
            if (fresh && fresh.innerHTML !== element.innerHTML) {
              element.replaceChildren(...Array.from(fresh.childNodes).map(function (node) { return document.importNode(node, true); }));
            }
            if (fresh && !fresh.hasAttribute("data-refresh")) {
              element.removeAttribute("data-refresh");
              return;
            }
          }
        } catch (error) {
          // The server is restarting or the network is down: try again at the next tick.
        }
      }
      refresh(element, seconds);
    }, seconds * 1000);
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("[data-scroll-end]").forEach(function (element) {
      element.scrollLeft = element.scrollWidth;
    });
    document.querySelectorAll("[data-refresh][id]").forEach(function (element) {
      const seconds = Number(element.getAttribute("data-refresh"));
      if (seconds > 0) {
        refresh(element, seconds);
      }
    });
  });
})();
