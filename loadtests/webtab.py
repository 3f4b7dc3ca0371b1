"""The Lambda tab's charts inside Locust's own UI.

Locust's stock web UI (2.x, the React one) draws an extended tab as a table of text:
`extendedTabs` / `extendedTables` / `extended_stats` (locust/webui/README.md: "By default, the
extended tabs will display the provided data in a table"); any other content needs a UI built
with the `locust-ui` npm library. Rather than ship a build of our own, the page Locust serves
at `/` gets one small script (`TAB_SCRIPT`, served at `/lambda/tab.js`): while the Lambda tab is
the selected one, it shows the Lambda page (`/lambda`, loadtests/report.py: the SVG charts,
offline) in a frame above the tab's table, sized to its content.
"""

from __future__ import annotations

SCRIPT_PATH = "/lambda/tab.js"
FRAME_ID = "lambda-charts"

TAB_SCRIPT = """
(function () {
  var FRAME = "__FRAME__";
  function selectedTab() {
    var tab = document.querySelector('[role="tab"][aria-selected="true"]');
    return tab ? tab.textContent.trim().toLowerCase() : "";
  }
  function fit(frame) {
    try {
      var body = frame.contentDocument && frame.contentDocument.body;
      if (body) frame.style.height = (body.scrollHeight + 24) + "px";
    } catch (e) { /* not loaded yet */ }
  }
  function place() {
    var frame = document.getElementById(FRAME);
    if (selectedTab() !== "lambda") {
      if (frame) frame.remove();
      return;
    }
    var table = document.querySelector("table");
    if (!table) return;
    var container = table.closest(".MuiTableContainer-root") || table;
    if (frame && frame.nextSibling === container) return;
    if (frame) frame.remove();
    frame = document.createElement("iframe");
    frame.id = FRAME;
    frame.title = "Lambda charts";
    frame.src = "./lambda";
    frame.style.cssText = "width:100%;height:1200px;border:0;display:block";
    frame.addEventListener("load", function () { fit(frame); });
    container.parentNode.insertBefore(frame, container);
  }
  new MutationObserver(place).observe(document.body, { childList: true, subtree: true });
  place();
})();
""".replace("__FRAME__", FRAME_ID)


def inject(page: str) -> str:
    """Locust's index page with the tab script loaded last."""
    tag = f'<script src=".{SCRIPT_PATH}" defer></script>'
    if tag in page or "</body>" not in page:
        return page
    return page.replace("</body>", tag + "</body>", 1)
