"""Real-browser tests: a real `marktplatz serve` process with the demo city, driven by Chromium.

The suite starts the server the way an operator would (`marktplatz demo`, then `marktplatz
serve`) in a temporary directory, and drives it with Playwright's sync API and the Debian
Chromium at /usr/bin/chromium (browsers cannot be downloaded here). It always uses SQLite:
it tests the pages in a browser, not the database.

Without Chromium the suite is skipped locally and fails loudly in CI (CI=true).
Screenshots for docs/screenshots/ are written only with MARKTPLATZ_SCREENSHOTS=1.
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator, Mapping
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
DESKTOP = {"width": 1280, "height": 900}
SCREENSHOT_DIR = Path(__file__).resolve().parents[2] / "docs" / "screenshots"

# "  retailer-owner  inhaber@musterstadt.example  nN4TK-jnqxs-Z78gb (optik-brillenhaus-krueger)"
_ACCOUNT_LINE = re.compile(
    r"^\s+(?P<role>[a-z-]+)\s+(?P<email>\S+@\S+)\s+(?P<password>\S+)"
    r"(?:\s+\((?P<shop>[^)]+)\))?\s*$"
)


@dataclass(frozen=True)
class Account:
    role: str
    email: str
    password: str
    shop: str | None


@dataclass(frozen=True)
class Server:
    base_url: str
    accounts: dict[str, Account]
    log: Path
    var_dir: Path  # its SQLite database, for tests that prepare data through the services


@dataclass
class Problems:
    """Console errors, uncaught exceptions and CSP violations seen by one page."""

    messages: list[str] = field(default_factory=list)
    allowed: list[re.Pattern[str]] = field(default_factory=list)

    def allow(self, pattern: str) -> None:
        """Expect a console error matching pattern (e.g. the 403 of a refused request)."""
        self.allowed.append(re.compile(pattern))

    def unexpected(self) -> list[str]:
        return [m for m in self.messages if not any(p.search(m) for p in self.allowed)]


# The page's own CSP forbids inline scripts; this runs through the DevTools protocol instead
# and turns every CSP violation into a console error that the listener below records.
_CSP_LISTENER = """
document.addEventListener("securitypolicyviolation", (e) => {
  console.error(`CSP violation: ${e.violatedDirective} blocked ${e.blockedURI}`);
});
"""


def require(path: Path, what: str, how: str) -> None:
    """A tool or built file the test needs: missing, it fails in CI and skips elsewhere."""
    if path.exists():
        return
    if os.environ.get("CI") == "true":
        pytest.fail(f"{what} is missing at {path}; CI must have it ({how})", pytrace=False)
    pytest.skip(f"{what} not installed at {path} ({how})")


@pytest.fixture(scope="session")
def chromium_path() -> str:
    require(Path(CHROMIUM), "Chromium", "apt-get install chromium")
    return CHROMIUM


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _server_env(var_dir: Path, base_url: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MARKTPLATZ_")}
    env.update(
        {
            "MARKTPLATZ_VAR_DIR": str(var_dir),
            "MARKTPLATZ_ENVIRONMENT": "test",
            "MARKTPLATZ_BASE_URL": base_url,
            # Always SQLite in <var_dir>, even when the rest of the suite runs on PostgreSQL.
            "MARKTPLATZ_DATABASE_URL": "",
            "MARKTPLATZ_LOGIN_RATE_LIMIT": "1000/minute",
            "PYTHONUNBUFFERED": "1",
        }
    )
    return env


def _parse_accounts(output: str) -> dict[str, Account]:
    accounts = {}
    for line in output.splitlines():
        found = _ACCOUNT_LINE.match(line)
        if found:
            accounts[found["role"]] = Account(
                found["role"], found["email"], found["password"], found["shop"]
            )
    return accounts


def _wait_until_up(process: subprocess.Popen[bytes], base_url: str, log: Path) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(
                f"`marktplatz serve` exited with {process.returncode}:\n{log.read_text()[-3000:]}",
                pytrace=False,
            )
        try:
            with urllib.request.urlopen(f"{base_url}/", timeout=2) as response:  # noqa: S310
                if response.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(0.1)
    pytest.fail(
        f"`marktplatz serve` did not answer within 30 s:\n{log.read_text()[-3000:]}", pytrace=False
    )


@contextmanager
def serve(var_dir: Path, settings: Mapping[str, str] | None = None) -> Iterator[Server]:
    """`marktplatz demo` then `marktplatz serve` on a free port, in the fresh var dir given;
    `settings`: MARKTPLATZ_* variables of this server's own (a map tile URL, say)."""
    port = _free_port()
    base_url = f"http://127.0.0.1:{port}"
    env = {**_server_env(var_dir, base_url), **(settings or {})}
    demo = subprocess.run(
        [sys.executable, "-m", "marktplatz", "demo"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert demo.returncode == 0, f"marktplatz demo failed:\n{demo.stdout}\n{demo.stderr}"
    accounts = _parse_accounts(demo.stdout)
    assert {"city-admin", "retailer-owner", "retailer-staff"} <= accounts.keys(), demo.stdout
    log = var_dir / "serve.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "marktplatz", "serve", "--port", str(port)],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )
    try:
        _wait_until_up(process, base_url, log)
        yield Server(base_url, accounts, log, var_dir)
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


@pytest.fixture(scope="session")
def server(chromium_path: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """The demo city served for the whole session (see `serve`)."""
    del chromium_path  # no browser, no server: skip before doing any work
    with serve(tmp_path_factory.mktemp("e2e-var")) as running:
        yield running


@pytest.fixture(scope="session")
def serve_demo() -> Callable[..., AbstractContextManager[Server]]:
    """serve_demo(var_dir, settings=None): a server of a module's own, for tests that change
    city-wide data or need settings of their own."""
    return serve


@pytest.fixture(scope="session")
def browser(chromium_path: str) -> Iterator[Any]:
    """One headless Chromium for the whole session."""
    from playwright.sync_api import sync_playwright

    playwright = sync_playwright().start()
    try:
        chromium = playwright.chromium.launch(
            executable_path=chromium_path, args=CHROMIUM_ARGS, headless=True
        )
        yield chromium
        chromium.close()
    finally:
        playwright.stop()


@pytest.fixture
def launch_browser(browser: Any, chromium_path: str) -> Iterator[Callable[..., Any]]:
    """launch_browser(*switches): one more headless Chromium with extra command-line switches
    (a fake camera, say), closed after the test."""
    launched: list[Any] = []

    def launch(*switches: str) -> Any:
        extra = browser.browser_type.launch(
            executable_path=chromium_path, args=[*CHROMIUM_ARGS, *switches], headless=True
        )
        launched.append(extra)
        return extra

    yield launch
    for extra in launched:
        extra.close()


@pytest.fixture
def new_context(browser: Any, server: Server) -> Iterator[Any]:
    """Factory for fresh browser contexts (a German visitor, desktop size unless told), in the
    session's Chromium or in one from `launch_browser` (`in_browser`)."""
    contexts: list[Any] = []

    def make(
        viewport: dict[str, int] | None = None,
        in_browser: Any = None,
        locale: str = "de-DE",
        **options: Any,
    ) -> Any:
        context = (in_browser or browser).new_context(
            base_url=server.base_url,
            viewport=viewport or DESKTOP,
            locale=locale,
            timezone_id="Europe/Berlin",
            **options,
        )
        context.set_default_timeout(10_000)
        contexts.append(context)
        return context

    yield make
    for context in contexts:
        context.close()


@pytest.fixture
def context(new_context: Any) -> Any:
    return new_context()


@pytest.fixture
def problems() -> Problems:
    return Problems()


@pytest.fixture
def open_page(problems: Problems, server: Server) -> Iterator[Any]:
    """Open a page in a context; the test fails on any console error, page error, CSP
    violation or request to another site."""
    pages: list[Any] = []

    def make(context: Any) -> Any:
        page = context.new_page()
        page.add_init_script(_CSP_LISTENER)
        page.on(
            "console",
            lambda msg: (
                problems.messages.append(
                    f"console.{msg.type}: {msg.text} @ {msg.location.get('url') or page.url}"
                )
                if msg.type == "error"
                else None
            ),
        )
        page.on("pageerror", lambda exc: problems.messages.append(f"page error: {exc}"))
        page.on(
            "request",
            lambda request: (
                problems.messages.append(f"request to another site: {request.url}")
                if not request.url.startswith((server.base_url, "data:", "about:"))
                else None
            ),
        )
        pages.append(page)
        return page

    yield make
    unexpected = problems.unexpected()
    assert not unexpected, "browser reported problems:\n" + "\n".join(unexpected)


@pytest.fixture
def page(context: Any, open_page: Any) -> Any:
    return open_page(context)


# A whole-page picture keeps fixed elements where the screen shows them, so a phone's tab bar
# would land mid-page: for the picture it sits at the very end, in the room kept for it.
_TAB_BAR_AT_THE_END = """() => {
  const bar = document.querySelector(".app-nav");
  if (!bar || getComputedStyle(bar).position !== "fixed") return;
  document.body.style.position = "relative";
  bar.style.position = "absolute";
}"""


def _save_screenshot(page: Any, name: str) -> None:
    if os.environ.get("MARKTPLATZ_SCREENSHOTS") != "1":
        return
    SCREENSHOT_DIR.mkdir(parents=True, exist_ok=True)
    page.evaluate("document.fonts.ready")
    page.evaluate(_TAB_BAR_AT_THE_END)
    page.screenshot(
        path=str(SCREENSHOT_DIR / name), full_page=True, animations="disabled", caret="hide"
    )


@pytest.fixture
def screenshot() -> Any:
    """screenshot(page, "name.png"): a full-page PNG in docs/screenshots/, written only when
    MARKTPLATZ_SCREENSHOTS=1 (so CI never rewrites the docs)."""
    return _save_screenshot


def _log_in(page: Any, account: Account) -> None:
    page.goto("/login")
    page.fill("#f-email", account.email)
    page.fill("#f-password", account.password)
    with page.expect_navigation():
        page.locator("main form button[type=submit]").click()


@pytest.fixture(scope="session")
def log_in() -> Any:
    """log_in(page, account): log in through the login form, like a person would."""
    return _log_in


# --- axe-core (from npm, never from the repository) -------------------------------------

Check = Callable[[Any], None]
AXE = Path(__file__).resolve().parents[2] / "node_modules" / "axe-core" / "axe.min.js"
BLOCKING = ("critical", "serious")
AXE_OPTIONS = {
    "runOnly": {
        "type": "tag",
        "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"],
    },
    "resultTypes": ["violations"],
}
_RUN_AXE = """async (options) => {
  const results = await axe.run(document, options);
  return results.violations.map((v) => ({
    id: v.id, impact: v.impact, help: v.help, helpUrl: v.helpUrl,
    targets: v.nodes.map((n) => n.target.join(" ")),
  }));
}"""


@pytest.fixture(scope="session")
def axe_source() -> str:
    require(AXE, "axe-core", "`make install` runs `npm ci --ignore-scripts`")
    return AXE.read_text(encoding="utf-8")


def _report(violations: list[dict[str, Any]]) -> str:
    lines = []
    for v in violations:
        lines.append(f"  [{v['impact']}] {v['id']}: {v['help']} ({v['helpUrl']})")
        lines.extend(f"      {target}" for target in v["targets"][:10])
        if len(v["targets"]) > 10:
            lines.append(f"      … and {len(v['targets']) - 10} more")
    return "\n".join(lines)


@pytest.fixture
def assert_accessible(axe_source: str) -> Check:
    """assert_accessible(page): fail on any serious or critical axe-core violation; lesser ones
    are printed (pytest shows them with -rP or when the test fails for another reason)."""

    def check(page: Any) -> None:
        page.wait_for_load_state("load")
        page.evaluate(axe_source)
        violations: list[dict[str, Any]] = page.evaluate(_RUN_AXE, AXE_OPTIONS)
        blocking = [v for v in violations if v["impact"] in BLOCKING]
        lesser = [v for v in violations if v["impact"] not in BLOCKING]
        if lesser:
            print(f"{page.url}: axe-core findings below 'serious':\n{_report(lesser)}")
        if blocking:
            pytest.fail(f"{page.url}: axe-core found\n{_report(blocking)}", pytrace=False)

    return check


# Until the service worker is active: pages opened from then on go through it. The page itself
# is claimed too, unless its navigation began while the worker was still installing (a page
# already on its way when `clients.claim()` ran stays unclaimed): so a short wait for that, no
# more. Tests open the next page after this, never rely on the current one being controlled.
_CONTROLLED = """async () => {
  const active = (async () => {
    const sw = navigator.serviceWorker;
    await sw.ready;
    if (!sw.controller) {
      await Promise.race([
        new Promise((done) => sw.addEventListener("controllerchange", done)),
        new Promise((done) => setTimeout(done, 2000)),
      ]);
    }
    return true;
  })();
  const late = new Promise((done) => setTimeout(() => done(false), 20000));
  return Promise.race([active, late]);
}"""


def _controlled(page: Any) -> None:
    assert page.evaluate(_CONTROLLED) is True, "no service worker became active within 20 s"


@pytest.fixture(scope="session")
def controlled() -> Callable[[Any], None]:
    """controlled(page): wait until the service worker is active, so that the pages opened next
    go through it (a function, not a string: the CSP forbids eval)."""
    return _controlled


# Until the journey events waiting on the device (journey.js, IndexedDB; only with consent to
# analytics) are sent, at most 20 s.
_DELIVERED = """async () => {
  const name = "marktplatz-queue";
  const count = async () => {
    if (!(await indexedDB.databases()).some((d) => d.name === name)) return 0;
    const db = await new Promise((done) => {
      const opening = indexedDB.open(name);
      opening.onsuccess = () => done(opening.result);
    });
    const n = await new Promise((done) => {
      const counting = db.transaction("events").objectStore("events").count();
      counting.onsuccess = () => done(counting.result);
    });
    db.close();
    return n;
  };
  for (let i = 0; i < 200; i += 1) {
    if ((await count()) === 0) return true;
    await new Promise((r) => setTimeout(r, 100));
  }
  return false;
}"""


def _delivered(page: Any) -> None:
    # First let the page make its events (its scripts send them right after loading), then wait
    # for the queue to empty.
    page.wait_for_load_state("networkidle")
    waited = page.evaluate(_DELIVERED)
    assert waited is True, "journey events still waiting on the device after 20 s"


@pytest.fixture(scope="session")
def delivered() -> Callable[[Any], None]:
    """delivered(page): wait until the app has sent the journey events it keeps on the device."""
    return _delivered


NARROW = 320


def reflow_width(page: Any) -> int:
    """The page's width at 320 CSS px (WCAG 1.4.10); the caller asserts it is no wider."""
    size = page.viewport_size
    page.set_viewport_size({"width": NARROW, "height": 640})
    width: int = page.evaluate("document.documentElement.scrollWidth")
    page.set_viewport_size(size)
    return width


@pytest.fixture(scope="session")
def reflows_at_320() -> Callable[[Any], int]:
    return reflow_width


SERVICE_WORKER = Path(__file__).resolve().parents[2] / "src/marktplatz/web/static/vendor/sw.js"


@pytest.fixture(scope="session")
def requirement() -> Callable[[Path, str, str], None]:
    """require() for test modules (a fixture: two conftest modules share the name)."""
    return require


@pytest.fixture
def service_worker() -> None:
    """The service worker `make node` builds with workbox (npm)."""
    require(SERVICE_WORKER, "the service worker", "`make install` with npm builds it")
