"""Screenshots of a built documentation site, to look at before publishing it.

Builds nothing: give it the folder ``mkdocs build`` wrote. It serves that folder on
localhost and takes PNG screenshots with headless Chromium (Debian's ``chromium``)
of the home page, a tutorial with figures (t5, scrolled to its first figure) and
an API page (``snnax_torchlike.nn``)::

    SNNAX_DOCS_NOTEBOOKS=site-notebooks mkdocs build --strict      # into site/
    python docs/screenshots.py site                                # into site-screenshots/
    python docs/screenshots.py site shots tutorials/t2_leaky_neuron/#leak-the-decay-beta core/

More pages are paths under the site, each optionally with the ``#id`` of an element
to scroll to. The site is served over HTTP, as a reader gets it; nothing is
fetched from outside.

Chromium is driven over its DevTools protocol (``--remote-debugging-pipe``), not with
``--screenshot``, because headless ``--screenshot`` paints a page scrolled to an
anchor wrongly (a blank band above a displaced header).
"""

from __future__ import annotations

import argparse
import base64
import fcntl
import functools
import http.server
import json
import os
import re
import select
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

# Chromium as the machine's own checks start it: no sandbox (root), no GPU, no background network.
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync",
                  "--hide-scrollbars", "--window-size=1400,1000"]  # fmt: skip
WIDTH, HEIGHT = 1400, 1000
FIRST_FIGURE = "first-figure"  # stands for the page's first inline figure, in place of an element id
# (file name, page under the site, element to scroll to: an id, FIRST_FIGURE, or "" for the top)
DEFAULT_PAGES = [
    ("home", "", ""),
    ("tutorial-t5", "tutorials/t5_training_with_fit/", FIRST_FIGURE),
    ("api-nn", "api/nn/", ""),
]
# Scrolls the target into view below Material's fixed header; returns whether it was found.
_SCROLL = """(() => {{
  const target = {target} === {first_figure} ? document.querySelector('img[src^="data:image/"]')
                                             : document.getElementById({target});
  if (!target) return false;
  target.scrollIntoView({{block: "start"}});
  window.scrollBy(0, -80);
  return true;
}})()"""


class Chromium:
    """Headless Chromium, driven over the DevTools protocol through a pair of pipes (its fds 3 and 4)."""

    def __init__(self, executable: str, timeout: float = 60.0):
        commands_read, self._commands = os.pipe()
        self._replies, replies_write = os.pipe()

        def child_fds() -> None:
            # Chromium reads commands on fd 3 and writes replies on fd 4. Duplicates above 10 first, so
            # that neither dup2 overwrites the other pipe's end.
            read = fcntl.fcntl(commands_read, fcntl.F_DUPFD, 10)
            write = fcntl.fcntl(replies_write, fcntl.F_DUPFD, 10)
            os.dup2(read, 3)
            os.dup2(write, 4)

        self._process = subprocess.Popen(
            [executable, *CHROMIUM_FLAGS, "--remote-debugging-pipe", "about:blank"], preexec_fn=child_fds,
            close_fds=False, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        os.close(commands_read)
        os.close(replies_write)
        self._timeout, self._buffer, self._last_id = timeout, b"", 0
        target = self.call("Target.createTarget", {"url": "about:blank"})["targetId"]
        self._session = self.call("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
        self.call("Page.enable", session=True)
        metrics = {"width": WIDTH, "height": HEIGHT, "deviceScaleFactor": 1, "mobile": False}
        self.call("Emulation.setDeviceMetricsOverride", metrics, session=True)

    def _receive(self) -> dict:
        deadline = time.monotonic() + self._timeout
        while b"\0" not in self._buffer:
            if not select.select([self._replies], [], [], max(0.0, deadline - time.monotonic()))[0]:
                raise TimeoutError(f"Chromium did not answer within {self._timeout} s")
            chunk = os.read(self._replies, 1 << 20)
            if not chunk:
                raise RuntimeError("Chromium exited")
            self._buffer += chunk
        message, _, self._buffer = self._buffer.partition(b"\0")
        return json.loads(message)

    def call(self, method: str, params: dict | None = None, *, session: bool = False, until: str = "") -> dict:
        """Send one DevTools command and return its result.

        **Arguments:**

        - `method`, `params`: the command, e.g. ``"Page.navigate"``, ``{"url": ...}``.
        - `session`: send it to the page (rather than the browser).
        - `until`: also wait for this event (e.g. ``"Page.loadEventFired"``) after the result.

        **Returns:** the command's result.
        """
        self._last_id += 1
        message = {"id": self._last_id, "method": method, "params": params or {}}
        if session:
            message["sessionId"] = self._session
        os.write(self._commands, json.dumps(message).encode() + b"\0")
        result = None
        while result is None or until:
            reply = self._receive()
            if reply.get("id") == self._last_id:
                if "error" in reply:
                    raise RuntimeError(f"{method}: {reply['error']}")
                result = reply["result"]
            elif until and reply.get("method") == until:
                until = ""
        return result

    def capture(self, url: str, target: Path, *, element: str = "", settle: float = 0.5) -> Path:
        """Load ``url`` and write a PNG screenshot of it to ``target``.

        **Arguments:**

        - `url`: the page.
        - `target`: the PNG file to write.
        - `element`: the id of an element to scroll to first (or ``FIRST_FIGURE``); ``""``: the top.
        - `settle`: seconds to wait before the screenshot, for scripts that draw after loading.

        **Returns:** ``target``.

        **Raises:** ``FileNotFoundError`` when the page has no such element.
        """
        self.call("Page.navigate", {"url": url}, session=True, until="Page.loadEventFired")
        self.evaluate("document.fonts.ready.then(() => true)")
        scroll = _SCROLL.format(target=json.dumps(element), first_figure=json.dumps(FIRST_FIGURE))
        if element and not self.evaluate(scroll):
            raise FileNotFoundError(f"{url} has no element {element!r}")
        time.sleep(settle)  # Material's header and table of contents follow the scroll position
        screenshot = self.call("Page.captureScreenshot", {"format": "png"}, session=True)["data"]
        target.write_bytes(base64.b64decode(screenshot))
        return target

    def evaluate(self, expression: str):
        """The value of a JavaScript expression in the page (promises awaited)."""
        params = {"expression": expression, "returnByValue": True, "awaitPromise": True}
        return self.call("Runtime.evaluate", params, session=True)["result"].get("value")

    def close(self) -> None:
        try:
            self.call("Browser.close")
        except (RuntimeError, TimeoutError, OSError):
            self._process.kill()
        self._process.wait(timeout=30)
        os.close(self._commands)
        os.close(self._replies)


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args) -> None:  # noqa: A002 (the base class's name)
        pass  # one line per request would bury the list of screenshots


def _serve(folder: Path) -> tuple[http.server.ThreadingHTTPServer, str]:
    """Serve ``folder`` on a free localhost port in a daemon thread; returns the server and its base URL."""
    handler = functools.partial(_QuietHandler, directory=str(folder))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}/"


def take_screenshots(site: Path, out: Path, extra_pages: list[str]) -> list[Path]:
    """Serve ``site`` and write one PNG (1400x1000) per page into ``out``.

    **Arguments:**

    - `site`: a folder that ``mkdocs build`` wrote.
    - `out`: the folder for the PNG files (created if missing).
    - `extra_pages`: more pages, after the default three, as paths under the site,
      each optionally with the id of an element to scroll to
      (``core/``, ``tutorials/t2_leaky_neuron/#leak-the-decay-beta``).

    **Returns:** the PNG files written.

    **Raises:** ``FileNotFoundError`` when Chromium, a page or an element to scroll
    to is missing; ``RuntimeError``/``TimeoutError`` when Chromium fails.
    """
    executable = shutil.which("chromium") or shutil.which("chromium-browser")
    if executable is None:
        raise FileNotFoundError("Debian's chromium is needed (apt-get install chromium)")
    pages = [*DEFAULT_PAGES]
    for extra in extra_pages:
        path, _, element = extra.partition("#")
        pages.append((re.sub(r"[^A-Za-z0-9]+", "-", extra).strip("-") or "home", path, element))
    for _, path, _ in pages:
        if not (site / path / "index.html" if not path or path.endswith("/") else site / path).exists():
            raise FileNotFoundError(f"{site / path} is not in the site; build the site first")
    out.mkdir(parents=True, exist_ok=True)
    server, base = _serve(site)
    browser = Chromium(executable)
    written = []
    try:
        for name, path, element in pages:
            target = browser.capture(base + path, out / f"{name}.png", element=element)
            written.append(target)
            print(f"{base + path}{'#' + element if element else ''} -> {target}", flush=True)
    finally:
        browser.close()
        server.shutdown()
    return written


def _main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("site", type=Path, help="the built site (mkdocs build's folder, e.g. site)")
    parser.add_argument("out", type=Path, nargs="?", default=Path("site-screenshots"),
                        help="folder for the PNG files (default: site-screenshots)")  # fmt: skip
    parser.add_argument(
        "pages", nargs="*", help="more pages under the site, e.g. core/ or api/snn/#snnax_torchlike.snn"
    )
    args = parser.parse_args()
    try:
        take_screenshots(args.site, args.out, args.pages)
    except (FileNotFoundError, RuntimeError, TimeoutError) as error:
        print(f"screenshots: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(_main())
