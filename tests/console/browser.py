"""Headless Debian Chromium driven by Selenium: log in to Icinga Web 2, open a page, read it as a person would.

The browser is started with a fresh profile and everything that would reach the network switched off;
Selenium is pointed at Debian's chromedriver (Selenium Manager never downloads anything).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from pathlib import Path

from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from .webstack import CHROMEDRIVER, CHROMIUM, WEB_PASSWORD, WEB_USER, Daemons

FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--disable-dev-shm-usage", "--hide-scrollbars", "--force-device-scale-factor=1")
#: Where `make screenshots` wants the PNGs (docs/img); unset: into the test's tmp directory only.
SHOTS_ENV = "VIO_SCREENSHOTS"
MAX_PNG = 200_000


class Browser:
    """One Chromium session against one Icinga Web 2."""

    def __init__(self, base_url: str, profile: Path, daemons: Daemons, width: int = 1280, height: int = 900) -> None:
        self.base = base_url
        self.shots = Path(os.environ[SHOTS_ENV]) if os.environ.get(SHOTS_ENV) else profile.parent / "shots"
        self.shots.mkdir(parents=True, exist_ok=True)
        options = webdriver.ChromeOptions()
        options.binary_location = CHROMIUM
        for flag in FLAGS:
            options.add_argument(flag)
        options.add_argument(f"--user-data-dir={profile}")
        options.add_argument(f"--window-size={width},{height}")
        service = Service(executable_path=CHROMEDRIVER, log_output=str(daemons.logs / "chromedriver.log"))
        self.driver = webdriver.Chrome(options=options, service=service)
        self.driver.set_page_load_timeout(60)

    def quit(self) -> None:
        self.driver.quit()

    def login(self) -> None:
        d = self.driver
        d.get(self.base + "/authentication/login")
        d.find_element(By.NAME, "username").send_keys(WEB_USER)
        d.find_element(By.NAME, "password").send_keys(WEB_PASSWORD)
        d.find_element(By.NAME, "btn_submit").click()
        WebDriverWait(d, 30).until(lambda drv: "/authentication/login" not in drv.current_url)

    def open(self, path: str) -> str:
        """Load a page and return its main column's visible text (what a person reads)."""
        self.driver.get(self.base + path)
        WebDriverWait(self.driver, 30).until(
            lambda drv: drv.execute_script("return document.readyState") == "complete"
            and drv.find_elements(By.CSS_SELECTOR, "#col1 .content"))
        return self.text()

    def text(self, css: str = "#col1") -> str:
        return self.driver.find_element(By.CSS_SELECTOR, css).text

    def rows(self, css: str = "#col1 .content li.list-item, #col1 .content tr") -> list[str]:
        """The visible text of each list item (Icinga DB Web lists) of the main column."""
        return [e.text for e in self.driver.find_elements(By.CSS_SELECTOR, css) if e.text.strip()]

    def icons(self) -> dict[str, str]:
        """List item title → its Font Awesome icon (icon_image), for the items of the main column that have one."""
        return self.driver.execute_script(
            "const out = {};"
            "for (const li of document.querySelectorAll('#col1 .content li.list-item')) {"
            "  const i = li.querySelector('.icon-image i');"
            "  const t = li.querySelector('.title .subject');"
            "  if (i && t) out[t.textContent.trim()] ="
            "    [...i.classList].find(c => c.startsWith('fa-') && c !== 'fa-fw').slice(3); }"
            "return out;")

    def section(self, title: str) -> str:
        """The text of a detail page's section (an h2 and what follows it up to the next h2)."""
        return self.driver.execute_script(
            "const h = [...document.querySelectorAll('#col1 h2')].find(e => e.textContent.trim() === arguments[0]);"
            "let t = '', n = h ? h.nextElementSibling : null;"
            "while (n && n.tagName !== 'H2') { t += n.innerText + '\\n'; n = n.nextElementSibling; }"
            "return t;", title)

    def check_source_ball(self) -> str:
        """The colour of the marker Icinga DB Web puts before the check source: "down" when unreachable."""
        ball = self.driver.execute_script(
            "const l = [...document.querySelectorAll('#col1 .check-statistics *')]"
            ".find(e => e.children.length === 0 && e.textContent.trim() === 'Check Source');"
            "const box = l ? l.parentElement : null;"
            "const b = box ? box.querySelector('.state-ball') : null;"
            "return b ? b.className : '';")
        return next((c[len("state-"):] for c in ball.split() if c.startswith("state-") and c != "state-ball"), "")

    def html(self) -> str:
        return self.driver.page_source

    def screenshot(self, name: str) -> Path:
        """A PNG of the window, optimised (optipng) to stay small enough for the README."""
        path = self.shots / f"{name}.png"
        size = self.driver.get_window_size()
        # crop to the main column's content: no empty screen below a short list
        bottom = self.driver.execute_script(
            "const e = [...document.querySelectorAll('#col1 .content *')];"
            "return e.length ? Math.max(...e.map(x => x.getBoundingClientRect().bottom)) : 0;")
        chrome = self.driver.execute_script("return window.outerHeight - window.innerHeight")
        if bottom and bottom + 60 + chrome < size["height"]:
            self.driver.set_window_size(size["width"], max(360, int(bottom) + 60 + chrome))
        try:
            self.driver.save_screenshot(str(path))
        finally:
            self.driver.set_window_size(size["width"], size["height"])
        if shutil.which("optipng"):
            subprocess.run(["optipng", "-quiet", "-o2", "-strip", "all", str(path)], timeout=120, check=False)
        return path

    def until(self, path: str, predicate, timeout: float = 60) -> str:
        """Re-open the page until predicate(its text) holds (Icinga DB writes state changes asynchronously)."""
        deadline = time.monotonic() + timeout
        while True:
            text = self.open(path)
            if predicate(text):
                return text
            if time.monotonic() > deadline:
                raise AssertionError(f"{path}: still not as expected after {timeout:.0f} s:\n{text}")
            time.sleep(1)
