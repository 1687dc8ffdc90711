"""Where the browser tests find Chromium. They drive Debian's chromium package (which .ci/run installs), never a
browser downloaded by `playwright install`: this machine cannot reach Playwright's CDN."""

import os
import shutil
from pathlib import Path

import pytest

CHROMIUM_PATH_VARIABLE = "CHROMIUM_PATH"
STANDARD_LOCATIONS = ("/usr/bin/chromium", "/usr/bin/chromium-browser")
COMMAND_NAMES = ("chromium", "chromium-browser")
NOT_FOUND_MESSAGE = (
    "Chromium not found: install Debian's chromium package (apt-get install chromium) or set CHROMIUM_PATH; "
    ".ci/run installs it"
)


def _is_executable_file(path: str) -> bool:
    return Path(path).is_file() and os.access(path, os.X_OK)


def chromium_find() -> str | None:
    """CHROMIUM_PATH when set (and then only it: a path set by hand that names nothing is a mistake to report, not
    to paper over with another browser), else the standard Debian locations, else the first on PATH."""
    configured = os.environ.get(CHROMIUM_PATH_VARIABLE)
    if configured:
        return configured if _is_executable_file(configured) else None
    for location in STANDARD_LOCATIONS:
        if _is_executable_file(location):
            return location
    for name in COMMAND_NAMES:
        found = shutil.which(name)
        if found:
            return found
    return None


def chromium_not_found_reason() -> str:
    configured = os.environ.get(CHROMIUM_PATH_VARIABLE)
    if configured:
        return f"{NOT_FOUND_MESSAGE} ({CHROMIUM_PATH_VARIABLE}={configured} is not an executable file)"
    return NOT_FOUND_MESSAGE


def chromium_or_skip() -> str:
    """The browser tests' Chromium, or a skip of the calling test (or fixture) with the reason."""
    path = chromium_find()
    if path is None:
        pytest.skip(chromium_not_found_reason())
    return path
