"""/docs works offline: in headless Chromium, with every request that is not to the local stack refused (so a script
or stylesheet from a CDN would leave the page blank), Swagger UI renders the operations, its Authorize button signs
in through the OAuth2 password flow the OpenAPI document declares (POST /auth/login), and "Try it out" on
GET /auth/me shows 200."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest

from devtools.local_stack import LocalStack
from tests.e2e.conftest import PASSWORD, needs_chromium

pytestmark = needs_chromium

EMAIL = "docs.reader@example.com"
ME = "#operations-auth-me_auth_me_get"  # Swagger UI's id for the operation: tag, then operationId


@dataclass
class OfflinePage:
    """A page that may reach only the local stack, and the list of everything else it tried to load."""

    page: Any
    refused: list[str] = field(default_factory=list)


@pytest.fixture
def offline(browser: Any, local_stack: LocalStack) -> Iterator[OfflinePage]:
    own = urlsplit(local_stack.api_url).netloc
    offline = OfflinePage(browser.new_page())

    def only_the_stack(route: Any) -> None:
        if urlsplit(route.request.url).netloc == own:
            route.continue_()
        else:
            offline.refused.append(route.request.url)
            route.abort()

    offline.page.route("**/*", only_the_stack)
    yield offline
    offline.page.close()


def test_the_docs_render_offline_and_authorize_signs_in(
    api: httpx.Client, admin_token: str, local_stack: LocalStack, offline: OfflinePage
) -> None:
    # Given a user who signed up over HTTP (the admin exists already, so this one is a viewer)
    signed_up = api.post("/auth/signup", json={"email": EMAIL, "password": PASSWORD})
    assert signed_up.status_code == 201, signed_up.text

    # When /docs opens with nothing but the local stack reachable
    offline.page.goto(f"{local_stack.api_url}/docs")
    offline.page.wait_for_selector(ME)

    # Then Swagger UI rendered every operation, from files the stack served itself
    assert offline.page.locator(".opblock").count() >= 20
    assert offline.refused == []

    # When Authorize signs in with the OAuth2 password form
    offline.page.click("button.authorize")
    offline.page.fill("#oauth_username", EMAIL)
    offline.page.fill("#oauth_password", PASSWORD)
    offline.page.click(".auth-container button.modal-btn.authorize")
    offline.page.wait_for_selector(".auth-container button.modal-btn:has-text('Logout')")
    offline.page.click("button.btn-done")

    # And "Try it out" runs GET /auth/me
    offline.page.click(f"{ME} .opblock-summary")
    offline.page.click(f"{ME} button.try-out__btn")
    offline.page.click(f"{ME} button.execute")
    status = offline.page.wait_for_selector(f"{ME} .live-responses-table .response .response-col_status")

    # Then the API answered 200 with the signed-in user, and nothing outside the stack was asked for
    assert status.inner_text().strip().startswith("200")
    assert EMAIL in offline.page.inner_text(f"{ME} .live-responses-table")
    assert offline.refused == []


def test_the_check_refuses_what_is_not_the_local_stack(local_stack: LocalStack, offline: OfflinePage) -> None:
    # The harness can fail: a page that asks for a CDN's script gets it refused and listed.
    offline.page.goto(f"{local_stack.api_url}/openapi.json")
    offline.page.evaluate(
        """() => new Promise((resolve) => {
          const script = document.createElement("script");
          script.src = "https://cdn.jsdelivr.net/npm/swagger-ui-dist@5/swagger-ui-bundle.js";
          script.onerror = resolve;
          document.head.append(script);
        })"""
    )

    assert offline.refused == ["https://cdn.jsdelivr.net/npm/swagger-ui-dist@5/swagger-ui-bundle.js"]
