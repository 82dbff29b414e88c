"""Regenerate ``docs/img/tensorboard.png``: TensorBoard showing a real run logged by ``TensorBoardLogger``.

Trains the demo network (``examples/demo.py``, 15 epochs on scikit-learn's digits)
with ``--tensorboard``, serves the event files with TensorBoard on localhost and
takes a screenshot with headless Chromium. Needs the ``tensorboard`` and ``demo``
extras, the ``tensorboard`` package and Debian's ``chromium``::

    pip install -e ".[demo,tensorboard]" tensorboard && apt-get install chromium
    python docs/screenshot_tensorboard.py
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from screenshots import Chromium  # docs/screenshots.py: headless Chromium over its DevTools pipe

ROOT = Path(__file__).resolve().parent.parent
OUTPUT = ROOT / "docs" / "img" / "tensorboard.png"
# TensorBoard's TIME SERIES dashboard, every logged scalar of the run.
VIEW = "#timeseries"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _wait_until_served(url: str, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            if time.monotonic() > deadline:
                raise
        time.sleep(0.5)


def main() -> int:
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        print("screenshot_tensorboard: Debian's chromium is needed (apt-get install chromium)", file=sys.stderr)
        return 1
    with tempfile.TemporaryDirectory() as logdir:
        subprocess.run([sys.executable, str(ROOT / "examples" / "demo.py"), "--tensorboard", logdir], check=True)
        port = _free_port()
        server = subprocess.Popen(
            [sys.executable, "-m", "tensorboard.main", "--logdir", logdir, "--host", "127.0.0.1", "--port", str(port)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        try:
            url = f"http://127.0.0.1:{port}/"
            _wait_until_served(url + "data/environment")
            OUTPUT.parent.mkdir(parents=True, exist_ok=True)
            browser = Chromium(chromium)
            try:
                browser.capture(url + VIEW, OUTPUT, settle=8.0)  # TensorBoard fetches and draws after loading
            finally:
                browser.close()
        finally:
            server.terminate()
            server.wait()
    print(f"wrote {OUTPUT}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
