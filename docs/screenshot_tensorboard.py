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

ROOT = Path(__file__).resolve().parent.parent
OUTPUT = ROOT / "docs" / "img" / "tensorboard.png"
# Chromium started as the machine's own checks start it: no sandbox (root), no GPU, no background network.
# The TIME SERIES dashboard, every logged scalar of the run.
VIEW = "#timeseries"
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync",
                  "--hide-scrollbars", "--run-all-compositor-stages-before-draw", "--window-size=1400,1000",
                  "--virtual-time-budget=20000"]  # fmt: skip


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
            subprocess.run([chromium, *CHROMIUM_FLAGS, f"--screenshot={OUTPUT}", url + VIEW], check=True,
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
        finally:
            server.terminate()
            server.wait()
    print(f"wrote {OUTPUT}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
