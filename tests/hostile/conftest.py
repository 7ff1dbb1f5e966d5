"""Hostile inputs, made in code: markup in every field that is echoed, media that lie or grow."""

import pytest
from starlette.testclient import TestClient

from app.config import Settings
from app.main import create_app

XSS = [
    "<img src=x onerror=alert(1)>",
    '"><script>alert(2)</script>',
    "<svg onload=alert(3)>",
    "javascript:alert(4)//<b>",
]


def assert_escaped(html: str) -> None:
    """No probe's markup reaches the page as markup."""
    for probe in XSS:
        for tag in ("<img src=x", "<script>alert", "<svg onload", "<b>"):
            if tag in probe:
                assert tag not in html, tag


@pytest.fixture
def client():
    with TestClient(create_app(Settings())) as test_client:
        yield test_client


@pytest.fixture(scope="module")
def trainer():
    settings = Settings(run_workers=2, run_max_seconds=60)
    with TestClient(create_app(settings)) as test_client:
        yield test_client
