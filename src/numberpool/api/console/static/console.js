// numberpool console: partial updates. Every page works without this file; with it, an element
// marked data-refresh="SECONDS" (with an id) is refreshed in place from the same page every
// SECONDS while the tab is visible: the state counts of the Overview, the hit counts of Faults,
// an import's progress. It stops once the fresh copy is no longer marked (the import has ended).
// A live region inside it (role="status" or aria-live, with an id) stays the same node and only
// its content changes: a screen reader announces what changes in a region it already knows, not
// a region put in anew.
// An element marked data-scroll-end starts scrolled to its right end (the latest hours of a chart
// that scrolls sideways on a narrow screen).
"use strict";

(function () {
  const LIVE = "[role='status'][id], [aria-live][id]";

  function holdsLive(node) {
    return node.nodeType === Node.ELEMENT_NODE && (node.matches(LIVE) || node.querySelector(LIVE) !== null);
  }

  // Gives `current` the content of `fresh` (its copy from the fresh page). A child holding a live
  // region that the fresh copy still has (same id, same tag) is kept in place, never moved (its
  // attributes stay as they were), and patched the same way; every other child is replaced.
  function patch(current, fresh) {
    if (current.innerHTML === fresh.innerHTML) {
      return;
    }
    if (current.matches(LIVE) || !current.querySelector(LIVE)) {
      current.replaceChildren(...Array.from(fresh.childNodes, function (node) { return document.importNode(node, true); }));
      return;
    }
    const kept = new Map();  // fresh child -> current child, for the children holding a live region
    Array.from(current.children).filter(holdsLive).forEach(function (child) {
      const region = child.matches(LIVE) ? child : child.querySelector(LIVE);
      let counterpart = fresh.querySelector("#" + CSS.escape(region.id));
      while (counterpart && counterpart.parentNode !== fresh) {
        counterpart = counterpart.parentNode;
      }
      if (counterpart && counterpart.tagName === child.tagName && !kept.has(counterpart)) {
        kept.set(counterpart, child);
      }
    });
    const staying = new Set(kept.values());
    Array.from(current.childNodes).forEach(function (node) {
      if (!staying.has(node)) {
        node.remove();
      }
    });
    let anchor = current.firstChild;  // the next kept child: new nodes go in before it
    Array.from(fresh.childNodes).forEach(function (node) {
      const child = kept.get(node);
      if (child && child === anchor) {
        patch(child, node);
        anchor = child.nextSibling;
      } else {
        current.insertBefore(document.importNode(node, true), anchor);
      }
    });
    while (anchor) {  // kept children that the fresh copy has in another order: their new copies came in
      const next = anchor.nextSibling;
      if (staying.has(anchor)) {
        anchor.remove();
      }
      anchor = next;
    }
  }

  function refresh(element, seconds) {
    window.setTimeout(async function () {
      if (!document.hidden) {
        try {
          const response = await fetch(window.location.href, { credentials: "same-origin", headers: { "Accept": "text/html" } });
          if (response.ok) {
            const page = new DOMParser().parseFromString(await response.text(), "text/html");
            const fresh = page.getElementById(element.id);
            if (fresh) {
              patch(element, fresh);
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
