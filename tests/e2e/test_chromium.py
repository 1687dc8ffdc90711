"""Finding Chromium for the browser tests, without starting it: where there is none, they skip and say why."""

import pytest

from tests.e2e import chromium
from tests.e2e.chromium import chromium_find, chromium_or_skip


@pytest.fixture
def no_system_chromium(monkeypatch):
    monkeypatch.delenv("CHROMIUM_PATH", raising=False)
    monkeypatch.setattr(chromium, "STANDARD_LOCATIONS", ("/nonexistent/chromium",))
    monkeypatch.setattr(chromium.shutil, "which", lambda name: None)


@pytest.fixture
def executable(tmp_path):
    path = tmp_path / "chromium"
    path.write_text("#!/bin/sh\n")
    path.chmod(0o755)
    return path


def test_a_chromium_path_naming_nothing_gives_the_skip_reason(monkeypatch):
    # given
    monkeypatch.setenv("CHROMIUM_PATH", "/nonexistent")

    # when
    with pytest.raises(pytest.skip.Exception) as skipped:
        chromium_or_skip()

    # then
    assert chromium_find() is None
    assert str(skipped.value) == (
        "Chromium not found: install Debian's chromium package (apt-get install chromium) or set CHROMIUM_PATH; "
        ".ci/run installs it (CHROMIUM_PATH=/nonexistent is not an executable file)"
    )


def test_without_any_chromium_the_tests_skip_with_the_install_hint(no_system_chromium):
    # when
    with pytest.raises(pytest.skip.Exception) as skipped:
        chromium_or_skip()

    # then
    assert chromium_find() is None
    assert str(skipped.value) == (
        "Chromium not found: install Debian's chromium package (apt-get install chromium) or set CHROMIUM_PATH; "
        ".ci/run installs it"
    )


def test_chromium_path_wins_over_the_standard_locations(monkeypatch, executable):
    # given
    monkeypatch.setenv("CHROMIUM_PATH", str(executable))
    monkeypatch.setattr(chromium, "STANDARD_LOCATIONS", ("/bin/sh",))

    # then
    assert chromium_find() == str(executable)


def test_a_file_that_is_not_executable_is_not_chromium(monkeypatch, executable):
    # given
    executable.chmod(0o644)
    monkeypatch.setenv("CHROMIUM_PATH", str(executable))

    # then
    assert chromium_find() is None


def test_the_standard_debian_location_comes_before_the_path(no_system_chromium, monkeypatch, executable):
    # given
    monkeypatch.setattr(chromium, "STANDARD_LOCATIONS", (str(executable),))
    monkeypatch.setattr(chromium.shutil, "which", lambda name: "/elsewhere/chromium")

    # then
    assert chromium_find() == str(executable)


def test_the_path_is_searched_last(no_system_chromium, monkeypatch):
    # given
    monkeypatch.setattr(chromium.shutil, "which", lambda name: "/opt/bin/chromium" if name == "chromium" else None)

    # then
    assert chromium_find() == "/opt/bin/chromium"
