"""report.html: written by a real sweep, self-contained, and checked in a real browser
(Playwright driving the system's Chromium, the network blocked): no console errors, every image
decoded, the table's numbers equal comparison.csv, and one cell's rerun command reproduces its
run's metrics."""

import json
import os
import re
import shlex
import shutil
import subprocess
from pathlib import Path

import pandas as pd
import pytest

from dlrun.report import build_report
from dlrun.report.html import report_html

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
LAUNCH_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SWEEP = [
    "model=logistic",
    "dataset=breast_cancer",
    "seed=0,1",
    "optimizer.lr=0.01,0.1",
    "trainer.max_epochs=1",
]


@pytest.fixture(scope="module")
def sweep(tmp_path_factory):
    """A real four-job sweep through the installed entry point."""
    directory = tmp_path_factory.mktemp("sweep")
    subprocess.run(
        ["dlrun", "-m", *SWEEP, f"hydra.sweep.dir={directory}"],
        check=True,
        capture_output=True,
        cwd=directory,
    )
    return directory


def test_the_sweep_writes_one_self_contained_page(sweep):
    text = (sweep / "report.html").read_text()
    # nothing is fetched: no script, stylesheet or image from anywhere but the page itself
    assert "<script" not in text and "http" not in re.sub(r'xmlns="[^"]*"', "", text)
    assert re.search(r'<img [^>]*src="data:image/png;base64,', text)
    assert "95% t interval" in text and "Seed advisor" in text
    assert "optimizer.lr" in text  # the key that differs between cells
    assert "model.bias" not in text  # a key that does not differ is left out
    assert "git commit" in text and ("(dirty)" in text or "(clean)" in text)


def test_failures_and_why_are_listed(tmp_path):
    from test_report import write_run

    write_run(tmp_path / "0", ["model=a"], "completed", {"val/acc": 0.5})
    write_run(tmp_path / "1", ["model=b"], "failed", {}, error="CUDA out of memory")
    text = report_html(build_report([tmp_path]))
    assert "CUDA out of memory" in text and 'class="failure"' in text


def browser():
    """Playwright's sync API and the system Chromium, or a skip saying which is missing."""
    if CHROMIUM is None:
        pytest.skip("no chromium on PATH (apt-get install chromium)")
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright not installed")
    return sync_api


def test_report_in_a_real_browser(sweep, tmp_path):
    sync_api = browser()
    errors, requests = [], []
    with sync_api.sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=LAUNCH_ARGS)
        context = chromium.new_context(offline=True)
        page = context.new_page()
        # block every request but the page itself; note any that is attempted
        page.route(
            "**/*",
            lambda route: (
                route.continue_()
                if route.request.url.startswith("file:")
                else (requests.append(route.request.url), route.abort())
            ),
        )
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda error: errors.append(str(error)))
        page.goto((sweep / "report.html").as_uri())
        widths = page.eval_on_selector_all("img", "images => images.map(i => i.naturalWidth)")
        cells = page.eval_on_selector_all(
            "td[data-metric]",
            "tds => tds.map(td => [td.dataset.metric, td.dataset.row, td.dataset.col,"
            " td.textContent])",
        )
        command = page.locator("td.rerun code").first.inner_text()
        directory = page.locator("td.rerun").first.locator("xpath=../td[1]").inner_text()
        chromium.close()
    assert errors == [] and requests == []
    assert widths and all(width > 0 for width in widths)
    csv = pd.read_csv(sweep / "comparison.csv", dtype=str)
    expected = {
        (line.metric, line.row_label, line.col_label): line.cell for line in csv.itertuples()
    }
    shown = {(m, r, c): text for m, r, c, text in cells if not r.endswith("(baseline)")}
    assert shown == expected
    # the first cell's first rerun command reproduces that run's metrics
    words = shlex.split(command)
    assert words[0] == "dlrun"
    subprocess.run(
        [*words, f"hydra.run.dir={tmp_path / 'rerun'}"],
        check=True,
        capture_output=True,
        cwd=tmp_path,
        env=os.environ,
    )
    original = json.loads((Path(directory) / "summary.json").read_text())["metrics"]
    again = json.loads((tmp_path / "rerun" / "summary.json").read_text())["metrics"]
    assert again == pytest.approx(original, rel=1e-6)
