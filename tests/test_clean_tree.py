"""`make test` leaves the working tree clean: the browser tests save their screenshots
outside it (only `make screenshots` refreshes the README's, in docs/screenshots)."""

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.browser import conftest as browser

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.skipif(os.environ.get("SCREENSHOT_DIR"), reason="make screenshots: into the tree")
def test_the_browser_tests_save_screenshots_outside_the_tree():
    assert ROOT not in browser.SCREENSHOTS.resolve().parents
    assert browser.SCREENSHOTS.resolve() != browser.README_SCREENSHOTS.resolve()


@pytest.mark.skipif(shutil.which("make") is None, reason="needs GNU make")
def test_make_screenshots_is_the_one_command_that_writes_the_readme_pictures():
    result = subprocess.run(
        ["make", "-n", "screenshots", "test"], cwd=ROOT, capture_output=True, text=True, check=True
    )
    screenshots, test = result.stdout.split("SCREENSHOT_DIR=", 1)[1], result.stdout
    assert screenshots.startswith(f"{ROOT}/docs/screenshots ")
    assert test.count("SCREENSHOT_DIR=") == 1  # `make test` does not set it


def test_the_readme_pictures_are_tracked_and_each_is_one_a_browser_test_takes():
    names = {path.stem for path in browser.README_SCREENSHOTS.glob("*.png")}
    sources = " ".join(path.read_text() for path in (ROOT / "tests" / "browser").glob("*.py"))
    assert names
    untaken = sorted(name for name in names if f'"{name}"' not in sources)
    assert untaken == [], "README pictures no browser test takes"
