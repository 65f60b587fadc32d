"""The JSON API under schemathesis (issue 22): generated requests for every operation, signed in as an
administrator on a copy of the demo world, get no server error and answers that match the OpenAPI schema.

Bounded for CI: a few examples per operation (derandomized, so a failure reproduces), the slow renderers (wall
chart PDF, brief) fewer. Status codes outside the documented ones are allowed (401/403/404/409/413 are part of
the API's contract in prose, not in the schema); every refusal is checked to carry a Chinese `detail`.
"""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import content_type_conformance, response_schema_conformance

from chainatlas.services.accounts import auth
from chainatlas.store import db
from chainatlas.web.app import create_app
from web_helpers import login

PASSWORD = "fuzz-admin-pass-1"
# per operation; CI's few; CHAINATLAS_FUZZ_EXAMPLES=200 for a deeper run by hand
EXAMPLES = int(os.environ.get("CHAINATLAS_FUZZ_EXAMPLES", "12"))


@pytest.fixture(scope="module")
def fuzz_app(demo_db_template: Path, tmp_path_factory: pytest.TempPathFactory):
    folder = tmp_path_factory.mktemp("fuzz")
    shutil.copyfile(demo_db_template, folder / "demo.db")
    url = f"sqlite:///{folder / 'demo.db'}"
    with db.session_scope(url) as s:
        auth.create_user(s, "fuzz", PASSWORD, "admin")
    mp = pytest.MonkeyPatch()
    mp.setenv("CHAINATLAS_SECRET_KEY", "fuzz-secret-key-for-signing-cookies")
    mp.setenv("CHAINATLAS_HOME", str(folder / "home"))
    yield create_app(url)
    mp.undo()
    db.get_engine(url).dispose()


class _Session:
    """A signed-in administrator's cookie and CSRF token, signed in again whenever a generated request (a new
    password, deactivation) ended the session."""

    def __init__(self, app) -> None:
        self.client = TestClient(app, client=("127.0.0.9", 5000))
        self.token = ""

    def headers(self) -> dict[str, str]:
        if not self.token or self.client.get("/api/me").status_code != 200:
            with db.session_scope(self.client.app.state.database_url) as s:
                auth.set_password(s, "fuzz", PASSWORD, by_user="test")
                auth.set_active(s, "fuzz", True, by_user="test")
                auth.set_role(s, "fuzz", "admin", by_user="test")
            self.client.app.state.user_cache.forget(1)
            self.token = login(self.client, "fuzz", PASSWORD)
        cookie = "; ".join(f"{k}={v}" for k, v in self.client.cookies.items())
        return {"Cookie": cookie, "X-CSRF-Token": self.token}


@pytest.fixture(scope="module")
def admin(fuzz_app):
    return _Session(fuzz_app)


CHINESE = re.compile(r"[\u4e00-\u9fff]")


def _check(case, admin: _Session) -> None:
    response = case.call_and_validate(headers=admin.headers(),
                                      checks=[not_a_server_error, content_type_conformance,
                                              response_schema_conformance])
    content_type = (response.headers.get("content-type") or [""])[0]
    if 400 <= response.status_code < 500 and content_type.startswith("application/json"):
        detail = response.json().get("detail")
        text = detail if isinstance(detail, str) else str(detail)
        assert CHINESE.search(text), f"{response.status_code} {text[:300]}"


def test_no_server_error_and_answers_match_the_schema(fuzz_app, admin) -> None:
    schema = schemathesis.openapi.from_asgi("/api/openapi.json", fuzz_app)
    failures = []
    for result in schema.get_all_operations():
        operation = result.ok()
        slow = operation.path.startswith("/downloads/")

        @given(case=operation.as_strategy())
        @settings(max_examples=max(1, EXAMPLES // 4) if slow else EXAMPLES, deadline=None, derandomize=True, database=None,
                  suppress_health_check=list(HealthCheck), phases=[Phase.explicit, Phase.generate])
        def run(case) -> None:
            _check(case, admin)

        try:
            run()
        except (Exception, BaseExceptionGroup) as exc:  # noqa: BLE001 — every operation's failure is listed
            failures.append(f"{operation.method.upper()} {operation.path}: {str(exc)[:1500]}")
    assert not failures, "\n\n".join(failures)
