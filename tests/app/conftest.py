import pytest
from starlette.testclient import TestClient

from app.config import Settings
from app.main import create_app


@pytest.fixture
def settings():
    return Settings()


@pytest.fixture
def client(settings):
    with TestClient(create_app(settings)) as test_client:
        yield test_client


HX = {"HX-Request": "true"}
HX_UPLOAD = {**HX, "X-Error-Target": "#upload-form-error"}
HX_CONTROLS = {**HX, "X-Error-Target": "#controls-error"}
