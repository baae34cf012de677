"""Headless Chromium driven over the DevTools protocol on a pipe: open a page, see what it logs, look.

``chromium --remote-debugging-pipe`` reads protocol messages (JSON, each ended by a NUL byte)
from its file descriptor 3 and writes its answers and events to descriptor 4, so no websocket
library and no network port are needed. The tests use it to check that a report renders
(every picture decodes, nothing is logged as an error, nothing is fetched), and
``benchmarks/screenshot.py`` to take the README's screenshot.
"""

from __future__ import annotations

import base64
import json
import os
import select
import shutil
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

#: Names of the Chromium binary, in the order they are looked for on PATH.
BINARIES = ("chromium", "chromium-browser", "chromium-headless-shell", "google-chrome")

#: What a page may load: itself and what it embeds; anything else is a fetch the report must not make.
LOCAL_SCHEMES = ("file:", "data:", "about:")

#: JavaScript run in the page once it has loaded: each picture's state, and the page's width.
CHECK = """(() => {
  const images = Array.from(document.images).map(img => ({
    alt: img.alt, complete: img.complete, width: img.naturalWidth, height: img.naturalHeight}));
  return {images, scrollWidth: document.documentElement.scrollWidth, innerWidth: window.innerWidth,
          title: document.title, sections: Array.from(document.querySelectorAll('section')).map(s => s.id)};
})()"""


def find_chromium() -> str | None:
    """Path of a Chromium binary on PATH, or None."""
    return next((path for path in map(shutil.which, BINARIES) if path), None)


class BrowserError(RuntimeError):
    """Chromium could not be started or did not answer."""


class Chromium:
    """One headless Chromium process; use as a context manager.

    Parameters
    ----------
    binary : str, optional
        The browser (default: :func:`find_chromium`).
    timeout : float
        Seconds to wait for any one answer or event.
    """

    def __init__(self, binary: str | None = None, timeout: float = 30.0) -> None:
        binary = binary or find_chromium()
        if binary is None:
            raise BrowserError(f"no Chromium on PATH (looked for {', '.join(BINARIES)}); "
                               "install Debian's chromium package")
        self.timeout, self._next_id, self._buffer, self.events = timeout, 0, b"", []
        self._profile = tempfile.mkdtemp(prefix="pipeline-chromium-")
        to_chrome, self._out = os.pipe()
        self._in, from_chrome = os.pipe()
        args = [binary, "--headless", "--remote-debugging-pipe", f"--user-data-dir={self._profile}",
                "--no-first-run", "--no-default-browser-check", "--disable-gpu", "--disable-dev-shm-usage",
                "--disable-extensions", "--disable-background-networking", "--disable-sync", "--mute-audio"]
        if os.geteuid() == 0:
            args.append("--no-sandbox")  # Chromium refuses to run as root inside its sandbox

        def wire() -> None:  # in the child: the pipe ends where Chromium expects them
            os.dup2(to_chrome, 3)
            os.dup2(from_chrome, 4)

        self.process = subprocess.Popen(args, preexec_fn=wire, pass_fds=(3, 4), stdin=subprocess.DEVNULL,
                                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        os.close(to_chrome)
        os.close(from_chrome)
        self.session = None

    def __enter__(self) -> Chromium:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Ask the browser to quit, then make sure it has; remove its profile."""
        if self.process.poll() is None:
            try:
                self._write({"id": 0, "method": "Browser.close"})
                self.process.wait(timeout=10)
            except (OSError, subprocess.TimeoutExpired):
                self.process.kill()
                self.process.wait()
        for fd in (self._in, self._out):
            try:
                os.close(fd)
            except OSError:
                pass
        shutil.rmtree(self._profile, ignore_errors=True)

    def _write(self, message: dict) -> None:
        os.write(self._out, json.dumps(message).encode() + b"\0")

    def _read(self, deadline: float) -> dict:
        while b"\0" not in self._buffer:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([self._in], [], [], left)[0]:
                raise BrowserError(f"Chromium did not answer within {self.timeout:g} s")
            chunk = os.read(self._in, 1 << 20)
            if not chunk:
                raise BrowserError(f"Chromium exited (status {self.process.poll()})")
            self._buffer += chunk
        raw, self._buffer = self._buffer.split(b"\0", 1)
        return json.loads(raw)

    def send(self, method: str, **params: Any) -> dict:
        """Call ``method`` (in the page's session once :meth:`open` attached one); its result."""
        self._next_id += 1
        message = {"id": self._next_id, "method": method, "params": params}
        if self.session and not method.startswith(("Target.", "Browser.")):
            message["sessionId"] = self.session
        self._write(message)
        deadline = time.monotonic() + self.timeout
        while True:
            answer = self._read(deadline)
            if answer.get("id") == self._next_id:
                if "error" in answer:
                    raise BrowserError(f"{method}: {answer['error'].get('message')}")
                return answer.get("result", {})
            self.events.append(answer)

    def wait_for(self, event: str) -> dict:
        """The first ``event`` (already received or still to come)."""
        for i, seen in enumerate(self.events):
            if seen.get("method") == event:
                return self.events.pop(i)
        deadline = time.monotonic() + self.timeout
        while True:
            message = self._read(deadline)
            if message.get("method") == event:
                return message
            self.events.append(message)

    def open(self, path: Path, width: int = 1200, height: int = 900) -> None:
        """Open the local file ``path`` in a ``width`` x ``height`` window, and wait until it has loaded."""
        target = self.send("Target.createTarget", url="about:blank")["targetId"]
        self.session = self.send("Target.attachToTarget", targetId=target, flatten=True)["sessionId"]
        for domain in ("Page", "Runtime", "Log", "Network"):
            self.send(f"{domain}.enable")
        self.resize(width, height)
        self.events.clear()
        self.send("Page.navigate", url=Path(path).resolve().as_uri())
        self.wait_for("Page.loadEventFired")

    def resize(self, width: int, height: int) -> None:
        """Make the viewport ``width`` x ``height`` CSS pixels."""
        self.send("Emulation.setDeviceMetricsOverride", width=width, height=height, deviceScaleFactor=1,
                  mobile=False)

    def evaluate(self, expression: str) -> Any:
        """The value of a JavaScript expression in the page (DevTools may run it whatever the page's CSP)."""
        result = self.send("Runtime.evaluate", expression=expression, returnByValue=True, awaitPromise=True)
        if "exceptionDetails" in result:
            raise BrowserError(f"evaluating in the page failed: {result['exceptionDetails'].get('text')}")
        return result["result"].get("value")

    def problems(self) -> list[str]:
        """Errors, warnings, failed loads and non-local fetches the page caused so far, one line each."""
        found = []
        for event in self.events:
            method, params = event.get("method"), event.get("params", {})
            if method == "Runtime.exceptionThrown":
                found.append(f"exception: {params['exceptionDetails'].get('text')}")
            elif method == "Runtime.consoleAPICalled" and params.get("type") in ("error", "warning", "assert"):
                found.append(f"console.{params['type']}: {params.get('args')}")
            elif method == "Log.entryAdded" and params["entry"].get("level") in ("error", "warning"):
                found.append(f"log {params['entry']['level']}: {params['entry'].get('text')}")
            elif method == "Network.loadingFailed":
                found.append(f"load failed: {params.get('errorText')}")
            elif method == "Network.requestWillBeSent":
                url = params["request"]["url"]
                if not url.startswith(LOCAL_SCHEMES):
                    found.append(f"fetch: {url}")
        return found

    def screenshot(self, full_page: bool = True) -> bytes:
        """The page as PNG bytes: the whole page, or just the viewport."""
        params: dict[str, Any] = {"format": "png"}
        if full_page:
            size = self.send("Page.getLayoutMetrics")["cssContentSize"]
            params |= {"captureBeyondViewport": True,
                       "clip": {"x": 0, "y": 0, "width": size["width"], "height": size["height"], "scale": 1}}
        return base64.b64decode(self.send("Page.captureScreenshot", **params)["data"])

    def pdf(self) -> bytes:
        """The page printed to PDF, as the browser's print dialog would."""
        return base64.b64decode(self.send("Page.printToPDF", printBackground=True)["data"])
