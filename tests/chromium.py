"""Where the browser tests find headless Chromium: where `.ci/run` looks for it.

`.ci/run` installs Debian's `chromium` unless `/usr/bin/chromium` exists or a `chromium` is
on the PATH; the tests take the same one, so they never skip while CI has a browser.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

DEBIAN_CHROMIUM = Path("/usr/bin/chromium")


def chromium_path() -> Path | None:
    """Debian's `/usr/bin/chromium`, else a `chromium` on the PATH, else None."""
    if DEBIAN_CHROMIUM.is_file() and os.access(DEBIAN_CHROMIUM, os.X_OK):
        return DEBIAN_CHROMIUM
    found = shutil.which("chromium")
    return Path(found) if found else None


SKIP_REASON = (
    "headless Chromium not installed (/usr/bin/chromium or `chromium` on the PATH; "
    "`apt-get install chromium`, as .ci/run does)"
)

#: Headless Chromium in a container, quiet: no sandbox (root), no GPU, no calls home.
CHROME_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
]
