"""The dashboard in Debian's Chromium (Playwright, sync API): start the server, load the page,
move a control (a value out of bounds is refused with the command line's message), start a
run and see its chart change, pause and stop, open a credit file, load an audit's forest
plot, and stop the server. Every request the page makes must go to the server itself (no
network). A screenshot of each view is kept under tests/artifacts/dashboard/ (git-ignored).

Marked ``dashboard`` (``make test-dashboard``): a JAX compile and a browser take a minute.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest
from chromium import CHROMIUM, CHROMIUM_ARGS

try:
    from playwright.sync_api import expect
except ImportError:  # pragma: no cover  (the server fixture skips)
    expect = None

pytestmark = pytest.mark.dashboard

ARTIFACTS = Path(__file__).parent / "artifacts" / "dashboard"
ROOT = Path(__file__).resolve().parents[1]
BAD = "behaviours.traffic_violation.base_rate"
SLOW = 60_000  # ms: a JAX compile on a busy 2-core machine


@pytest.fixture(scope="module")
def runs_dir(tmp_path_factory):
    """A runs folder holding one tiny audit."""
    import socialcredit as sc

    root = tmp_path_factory.mktemp("dash-runs")
    scenario = sc.load_scenario("court-blacklist", agents=400, days=20)
    sc.audit(scenario, replicates=2).save(root / "audits" / "tiny-audit", report=False)
    return root


@pytest.fixture(scope="module")
def server(runs_dir):
    from socialcredit.dashboard import free_port

    if not CHROMIUM.exists():
        pytest.skip("Debian's chromium is not installed (make browser)")
    pytest.importorskip("playwright.sync_api")
    port = free_port()
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    cmd = [
        sys.executable,
        "-m",
        "socialcredit.cli",
        "dashboard",
        str(runs_dir),
        "--port",
        str(port),
    ]
    proc = subprocess.Popen(
        cmd, stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True, env=env, cwd=ROOT
    )
    t0 = time.monotonic()
    line = proc.stderr.readline()  # the address, printed once the server listens
    started = time.monotonic() - t0
    assert f"http://127.0.0.1:{port}/" in line, line
    print(f"\ndashboard server up in {started:.1f} s; screenshots in {ARTIFACTS}")
    yield f"http://127.0.0.1:{port}/", proc
    if proc.poll() is None:
        proc.terminate()
        proc.wait(timeout=20)


@pytest.fixture(scope="module")
def page(server):
    from playwright.sync_api import sync_playwright

    url, _ = server
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    outside: list[str] = []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        pg = browser.new_page(viewport={"width": 1500, "height": 1100})

        def route(r):
            if r.request.url.startswith(("http://127.0.0.1", "ws://127.0.0.1", "data:")):
                r.continue_()
            else:
                outside.append(r.request.url)
                r.abort()

        pg.route("**/*", route)
        pg.goto(url, timeout=SLOW)
        pg.locator(".start button").wait_for(timeout=SLOW)
        pg.outside = outside  # type: ignore[attr-defined]
        yield pg
        browser.close()
    assert not outside, f"the page asked the network for {outside}"


def shot(pg, name: str, locator=None) -> Path:
    path = ARTIFACTS / f"{name}.png"
    (locator or pg).screenshot(path=str(path))
    return path


def knob(pg, path: str):
    slug = re.sub(r"[^a-z0-9]+", "-", path.lower()).strip("-")
    return pg.locator(f".knob-{slug} input")


def set_knob(pg, path: str, value: str) -> None:
    box = knob(pg, path)
    box.fill(value)
    box.press("Enter")


def status(pg) -> str:
    return " ".join(pg.locator(".status div").all_inner_texts())


def wait_status(pg, pattern: str, timeout_s: float = 120) -> str:
    end = time.monotonic() + timeout_s
    while time.monotonic() < end:
        text = status(pg)
        if re.search(pattern, text):
            return text
        pg.wait_for_timeout(200)
    raise AssertionError(f"status never matched {pattern!r}: {status(pg)!r}")


def test_the_page_loads_with_the_presets_knobs(page):
    assert knob(page, "population.agents").input_value() == "2000"  # opens small
    assert knob(page, BAD).input_value() == "0.0005"
    shot(page, "1-page")


def test_a_value_out_of_bounds_is_refused_with_the_cli_message(page):
    import socialcredit as sc

    set_knob(page, BAD, "0.9")
    alert = page.locator(".error")
    alert.wait_for(state="visible", timeout=SLOW)
    with pytest.raises(sc.ScenarioError) as cli:
        sc.load_scenario("rongcheng", [f"{BAD}=0.9"])
    expected = str(cli.value).splitlines()[1].strip()  # the problem's line, as the CLI prints it
    assert expected in page.locator(".error pre").inner_text()
    expect(page.locator(".start button")).to_be_disabled()
    shot(page, "2-refused-control")
    set_knob(page, BAD, "0.002")
    alert.wait_for(state="hidden", timeout=SLOW)
    expect(page.locator(".start button")).to_be_enabled()


def test_start_pause_see_the_chart_change_and_finish(page):
    set_knob(page, "population.agents", "1500")
    set_knob(page, "days", "40")
    set_knob(page, "channels.village_committee.false_positive_rate", "0.002")
    page.locator(".start button").click()
    page.locator(".pause button").click()  # while it compiles: it stops after its first chunk
    tiers = page.locator(".chart-tiers")
    tiers.locator("canvas").first.wait_for(timeout=SLOW * 2)  # the first chunk is drawn
    text = wait_status(page, r"paused: day \d+")
    day = int(re.search(r"day (\d+) of 40", text).group(1))
    assert 0 < day < 40
    page.wait_for_timeout(1500)
    early = shot(page, "3-running-paused", tiers).read_bytes()
    assert f"day {day} of 40" in status(page)  # paused: no further days
    page.locator(".pause button").click()  # resume
    wait_status(page, r"done", timeout_s=240)
    page.locator(".chart-map canvas, .note-map").first.wait_for(timeout=SLOW)
    page.wait_for_timeout(1500)
    late = shot(page, "4-run-done", tiers).read_bytes()
    assert early != late  # the chart moved on as chunks finished
    assert "saved in" in status(page)
    shot(page, "5-run-charts")


def test_stop_a_run(page):
    set_knob(page, "days", "2000")
    page.locator(".start button").click()
    wait_status(page, r"running|compiling|paused")
    page.locator(".stop button").click()
    wait_status(page, r"stopped", timeout_s=120)
    expect(page.locator(".start button")).to_be_enabled()
    set_knob(page, "days", "40")


def test_open_a_credit_file(page):
    page.locator(".bk-tab", has_text="Credit files").click()
    page.locator(".cf-run select").wait_for(timeout=SLOW)
    page.select_option(".cf-run select", index=0)
    page.get_by_label("People who were").select_option("false records")
    page.locator(".cf-find button").click()
    page.locator(".cf-people select option").first.wait_for(state="attached", timeout=SLOW)
    page.locator(".cf-open button").click()
    table = page.locator(".cf-table table")
    table.wait_for(timeout=SLOW)
    assert "FALSE record" in table.inner_text()
    assert "Credit file of agent" in " ".join(page.locator(".cf-head div").all_inner_texts())
    shot(page, "6-credit-file")


def test_load_an_audits_forest_plot(page):
    page.locator(".bk-tab", has_text="Audits, sweeps").click()
    page.locator(".cat-entry select option").first.wait_for(state="attached", timeout=SLOW)
    assert "tiny-audit" in page.locator(".cat-entry select").inner_text()
    page.locator(".cat-open button").click()
    page.locator(".cat-chart canvas").first.wait_for(timeout=SLOW)
    shot(page, "7-audit-forest")


def test_export_the_forest_plot_and_save_the_settings(page, runs_dir):
    import socialcredit as sc

    page.locator(".bk-tab", has_text="Export").click()
    figure = page.locator(".ex-figure select")
    figure.wait_for(timeout=SLOW)
    forest = next(o for o in figure.locator("option").all_inner_texts() if "forest" in o)
    figure.select_option(label=forest)
    page.locator(".ex-go button").click()
    png = runs_dir / "figures" / (re.sub(r"[^a-z0-9]+", "-", forest.lower()).strip("-") + ".png")
    expect(page.locator(".ex-out div")).to_contain_text("wrote", timeout=SLOW)
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    page.locator(".save button").click()
    saved = runs_dir / "scenarios" / "my-scenario.yaml"
    expect(page.locator(".saved div")).to_contain_text("saved", timeout=SLOW)
    again = sc.load_scenario(str(saved))
    assert (again.population.agents, again.days) == (1500, 40)  # the controls' values
    village = next(c for c in again.channels if c.name == "village_committee")
    assert village.false_positive_rate == 0.002


def test_the_server_stops(server, page):
    _, proc = server
    assert proc.poll() is None  # it kept serving through a refused value and a stopped run
    proc.terminate()
    assert proc.wait(timeout=20) is not None
