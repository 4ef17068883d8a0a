"""`catalog serve` in a real browser: Debian's Chromium, driven by chromium-driver through Selenium.

One walk through the pages as a person would take it (browse, filter, open a product, add an
arithmetic chip, upload a photo, the catalog page, then the same at phone width), checking what is
shown, that the keyboard reaches the controls, and that the browser logged no errors. Screenshots
of every page are saved in the test's folder (and in $CATALOG_SCREENSHOTS, if set:
`python -m tests.test_browser --db DB --out docs/` takes the README's).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
from pathlib import Path

import pytest

from tests.conftest import CHROMIUM_FLAGS
from tests.query_fixture import query_db  # noqa: F401  (a fixture)
from tests.server_fixture import server, serving  # noqa: F401  (server is a fixture)

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMEDRIVER = shutil.which("chromedriver")
needs_browser = pytest.mark.skipif(
    CHROMIUM is None or CHROMEDRIVER is None,
    reason="chromium and chromium-driver not installed (apt-get install -y chromium chromium-driver)",
)


def start_browser(profile: Path, width: int = 1280, height: int = 900):
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in (
        *CHROMIUM_FLAGS,
        "--disable-dev-shm-usage",
        f"--user-data-dir={profile}",
        f"--window-size={width},{height}",
    ):
        options.add_argument(flag)
    # performance: the DevTools network events, to list every URL a page requested.
    options.set_capability("goog:loggingPrefs", {"browser": "ALL", "performance": "ALL"})
    # The Debian driver, named explicitly: Selenium would otherwise try to download one.
    driver = webdriver.Chrome(service=Service(executable_path=CHROMEDRIVER), options=options)
    driver.set_page_load_timeout(120)
    return driver


def console_errors(driver) -> list[str]:
    return [entry["message"] for entry in driver.get_log("browser") if entry["level"] == "SEVERE"]


def requested_urls(driver) -> list[str]:
    """Every URL the browser asked for since the last call (scripts, styles, images, fonts, fetches)."""
    urls = []
    for entry in driver.get_log("performance"):
        message = json.loads(entry["message"])["message"]
        if message.get("method") == "Network.requestWillBeSent":
            urls.append(message["params"]["request"]["url"])
    return urls


def outside(urls: list[str], server: str) -> list[str]:
    """The URLs not served by `server` (data: and blob: URLs are the page's own bytes; chrome: URLs
    the browser's own start page, before the first page is opened)."""
    return [u for u in urls if not u.startswith((server + "/", "data:", "blob:", "about:", "chrome:"))]


class Tour:
    """Steps of the walk, with the checks a person would make by looking."""

    def __init__(self, driver, url: str, shots: list[Path]):
        from selenium.webdriver.support.ui import WebDriverWait

        self.driver, self.url, self.shots = driver, url, shots
        from selenium.common.exceptions import StaleElementReferenceException

        # Parts of a page are swapped in by script: an element found just before it is replaced is stale.
        self.wait = WebDriverWait(driver, 90, ignored_exceptions=(StaleElementReferenceException,))

    def open(self, path: str) -> None:
        self.driver.get(self.url + path)
        self.wait.until(lambda d: d.execute_script("return document.readyState") == "complete")

    def css(self, selector: str):
        return self.driver.find_elements("css selector", selector)

    def shot(self, name: str) -> None:
        # All images decoded first, so the picture shows the thumbnails.
        self.wait.until(
            lambda d: d.execute_script(
                "return [...document.images].every(i => i.complete && (i.naturalWidth > 0 || i.loading === 'lazy'))"
            )
        )
        for folder in self.shots:
            folder.mkdir(parents=True, exist_ok=True)
            self.driver.save_screenshot(str(folder / f"serve-{name}.png"))

    def no_horizontal_scroll(self) -> bool:
        return self.driver.execute_script("return document.documentElement.scrollWidth <= window.innerWidth + 1")


def walk(driver, url: str, shots: list[Path], photo: Path, product_id: int) -> dict:
    """The whole walk; returns what it saw, for the test to assert (and the script to print)."""
    from selenium.common.exceptions import StaleElementReferenceException
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support.expected_conditions import staleness_of
    from selenium.webdriver.support.ui import Select, WebDriverWait

    tour, seen = Tour(driver, url, shots), {}
    # Browse: the grid, then a filter (applies on change), then words of the name.
    tour.open("/")
    seen["browse_cards"] = len(tour.css(".grid .card"))
    seen["browse_total"] = tour.css(".meta")[0].text
    tour.shot("browse")
    # The keyboard: the first Tab reaches the skip link, and typing + Enter in the search box searches.
    body = tour.css("body")[0]
    body.send_keys(Keys.TAB)
    seen["first_tab"] = driver.switch_to.active_element.get_attribute("class")
    gender = Select(tour.css('select[name="gender"]')[0])
    value = next(o.get_attribute("value") for o in gender.options if o.get_attribute("value"))
    gender.select_by_value(value)
    tour.wait.until(lambda d: f"gender={value}" in d.current_url)
    seen["filtered_genders"] = {c.find_element("css selector", "dd").text for c in tour.css(".grid .card")}
    seen["filter_value"] = value
    tour.open("/")
    search = tour.css('input[name="q"]')[0]
    search.send_keys(str(product_id), Keys.ENTER)
    tour.wait.until(lambda d: f"q={product_id}" in d.current_url)
    seen["search_ids"] = [c.get_attribute("data-id") for c in tour.css(".grid .card")]

    # Product: click the card; the three spaces side by side, shared values highlighted.
    tour.open(f"/?q={product_id}")
    tour.css(".grid .card a.title")[0].click()
    tour.wait.until(lambda d: d.current_url.endswith(f"/product/{product_id}"))
    seen["spaces"] = [h.text for h in tour.css(".spaces h2")]
    seen["product_cards"] = len(tour.css(".spaces .card"))
    seen["highlighted"] = len(tour.css(".spaces dd.match"))
    tour.shot("product")
    # Every result card links to its own page.
    first = tour.css(".spaces .card")[0]
    target = first.get_attribute("data-id")
    first.find_element("css selector", "a.title").click()
    tour.wait.until(lambda d: d.current_url.endswith(f"/product/{target}"))
    seen["followed_result"] = target

    # Arithmetic from the product: add a chip with the keyboard-usable builder; results update in place.
    tour.open(f"/arithmetic?id={product_id}")
    before = [c.get_attribute("data-id") for c in tour.css("#results .grid > .card")]
    key = Select(tour.css("#add-key")[0])
    colour = next(o for o in key.options if o.get_attribute("value").startswith("baseColour="))
    key.select_by_value(colour.get_attribute("value"))
    weight = tour.css('input[name="add_weight"]')[0]
    weight.clear()
    weight.send_keys("2")
    tour.css('button[name="add"][value="plus"]')[0].click()
    tour.wait.until(lambda d: len(d.find_elements("css selector", "#chips .chip.plus")) == 1)
    tour.wait.until(lambda d: not d.find_elements("css selector", "#results.busy"))
    chip = tour.css("#chips .chip.plus")[0]
    seen["chip"] = (
        chip.get_attribute("data-key"),
        chip.find_element("css selector", "input.weight").get_attribute("value"),
    )
    seen["arithmetic_changed"] = [c.get_attribute("data-id") for c in tour.css("#results .grid > .card")] != before
    seen["arithmetic_colour"] = colour.get_attribute("value").split("=", 1)[1]
    seen["arithmetic_colours"] = [
        c.find_elements("css selector", "dd")[4].text for c in tour.css("#results .grid > .card")
    ]
    tour.shot("arithmetic")

    # Photo: choose a file (what a drop does too); the results and inferred attributes appear.
    tour.open("/photo")
    tour.css('input[type="file"]')[0].send_keys(str(photo))
    WebDriverWait(driver, 180, ignored_exceptions=(StaleElementReferenceException,)).until(
        lambda d: d.find_elements("css selector", "#inferred table.infer")
    )  # TF loads once
    # Once more, warm: the model is loaded now (the timing shown is the server's).
    # The results are swapped in whole, so the old timing line goes stale (its text may well read
    # the same: a warm answer takes a few hundredths of a second each time).
    first = tour.css("#timing")[0]
    tour.css('#photo-form button[type="submit"]')[0].click()
    tour.wait.until(staleness_of(first))
    tour.wait.until(lambda d: d.find_elements("css selector", "#timing"))
    seen["photo_spaces"] = [h.text for h in tour.css("#results .spaces h2")]
    seen["photo_rows"] = len(tour.css("#inferred table.infer tr")) - 1
    seen["photo_first_image"] = tour.css("#space-image ~ .grid .card")[0].get_attribute("data-id")
    tour.shot("photo")

    # A drop on the zone (a synthetic drop event carrying a file, as a drag from the desktop would).
    tour.open("/photo")
    driver.execute_script(
        """
        const [url, done] = arguments;
        fetch(url).then(r => r.blob()).then(blob => {
          const files = new DataTransfer();
          files.items.add(new File([blob], "dropped.jpg", {type: "image/jpeg"}));
          document.getElementById("drop").dispatchEvent(new DragEvent("drop", {dataTransfer: files, bubbles: true}));
        });
    """,
        f"/thumb/{product_id}.jpg",
        None,
    )
    tour.wait.until(lambda d: d.find_elements("css selector", "#inferred table.infer"))
    seen["dropped_first_image"] = tour.css("#space-image ~ .grid .card")[0].get_attribute("data-id")

    tour.open("/catalog")
    seen["catalog_stats"] = [s.text for s in tour.css(".stat")]
    seen["catalog_runs"] = len(tour.css("table.runs tr")) - 1
    tour.shot("catalog")
    seen["console_errors"] = console_errors(driver)

    # Phone width: no sideways scrolling, cards two a row.
    driver.set_window_size(390, 844)
    for path, name in (("/", "browse-phone"), (f"/product/{product_id}", "product-phone")):
        tour.open(path)
        seen[f"{name}_fits"] = tour.no_horizontal_scroll()
        tour.shot(name)
    seen["console_errors"] += console_errors(driver)

    # Last, at desktop width (visited before the phone pages, its 1.5 MB script pushed the thumbnails out
    # of the browser's memory cache): the API docs, offline. Swagger UI from this server, every
    # operation listed, a document's schema shown.
    driver.set_window_size(1280, 900)
    tour.open("/api/docs")
    tour.wait.until(lambda d: len(d.find_elements("css selector", ".opblock")) >= 11)
    seen["api_operations"] = len(tour.css(".opblock"))
    tour.css(".opblock-summary")[0].click()
    tour.wait.until(
        lambda d: d.find_elements("css selector", ".opblock-body .model-example, .opblock-body .responses-table")
    )
    tour.shot("api-docs")
    seen["console_errors"] += console_errors(driver)
    seen["requested"] = requested_urls(driver)
    return seen


@needs_browser
def test_walk_through_the_pages_in_chromium(server, query_db, tmp_path):  # noqa: F811
    shots = [tmp_path / "shots"] + (
        [Path(os.environ["CATALOG_SCREENSHOTS"])] if os.environ.get("CATALOG_SCREENSHOTS") else []
    )
    driver = start_browser(tmp_path / "profile")
    try:
        product = query_db.ids[3]
        seen = walk(driver, server.url, shots, query_db.images_dir / f"{query_db.ids[5]}.jpg", product)
    finally:
        driver.quit()
    assert seen["browse_cards"] == 24 and "products" in seen["browse_total"]
    assert seen["first_tab"] == "skip"
    assert seen["filtered_genders"] == {seen["filter_value"]}
    assert seen["search_ids"] == [str(product)]
    assert seen["spaces"] == ["Image space", "Graph space", "Rec"]
    assert seen["product_cards"] == 18 and seen["highlighted"] > 0
    assert seen["chip"] == (f"baseColour={seen['arithmetic_colour']}", "2") and seen["arithmetic_changed"]
    assert seen["arithmetic_colour"] in seen["arithmetic_colours"]  # the added colour arrives
    assert seen["photo_spaces"][0].startswith("Image space") and seen["photo_rows"] == 8
    assert seen["photo_first_image"] == str(query_db.ids[5])  # a catalog photo finds itself first
    assert seen["dropped_first_image"] == str(product)  # its thumbnail, dropped, finds the product first
    assert seen["catalog_runs"] >= 1 and any("products" in s for s in seen["catalog_stats"])
    assert seen["browse-phone_fits"] and seen["product-phone_fits"]
    assert seen["console_errors"] == []
    assert seen["api_operations"] >= 11  # Swagger UI rendered the document, from this server's own files
    # No page loaded anything from another host (every page, the API docs included).
    assert len(seen["requested"]) > 30 and outside(seen["requested"], server.url) == []
    for name in ("browse", "product", "arithmetic", "photo", "catalog", "api-docs", "browse-phone", "product-phone"):
        assert (tmp_path / "shots" / f"serve-{name}.png").stat().st_size > 10_000, name


def main() -> None:
    """Screenshots for the README, from any database: python -m tests.test_browser --db DB --out docs/."""
    parser = argparse.ArgumentParser(description=main.__doc__)
    parser.add_argument("--db", type=Path, required=True)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--id", type=int, required=True, help="the product to open")
    parser.add_argument("--photo", type=Path, required=True, help="the photo to upload")
    args = parser.parse_args()
    import tempfile

    with serving(args.db, encoder=None) as running, tempfile.TemporaryDirectory() as profile:
        driver = start_browser(Path(profile))
        try:
            seen = walk(driver, running.url, [args.out], args.photo.resolve(), args.id)
        finally:
            driver.quit()
    print(seen)


if __name__ == "__main__":
    main()
