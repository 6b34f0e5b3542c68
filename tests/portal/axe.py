"""axe-core (the copy axe-playwright-python ships) run on a page in Chromium: the violations found.

Evaluated through Playwright, which is not subject to the page's Content-Security-Policy, so the
pages stay script-free.
"""

from __future__ import annotations

from axe_playwright_python.async_playwright import Axe
from playwright.async_api import Page

_AXE = Axe()


async def axe_violations(page: Page) -> list[str]:
    """Each violation as "rule-id: what it checks (the first element's selector)"; [] when none."""
    results = await _AXE.run(page)
    return [
        f"{v['id']}: {v['help']} ({v['nodes'][0]['target'] if v['nodes'] else ''})"
        for v in results.response["violations"]
    ]
