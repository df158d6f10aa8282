"""End to end over real HTTP against the local stack: template routes -> real Lambda handlers -> moto server."""

from __future__ import annotations

import httpx
import pytest

PASSWORD = "viewer password 1"


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def login(api: httpx.Client, email: str, password: str = PASSWORD) -> httpx.Response:
    return api.post("/auth/login", json={"email": email, "password": password})


def test_signup_login_me_and_role_change(api: httpx.Client, admin_token: str) -> None:
    created = api.post("/auth/signup", json={"email": "Eve@Example.com", "password": PASSWORD})
    assert created.status_code == 201
    eve = created.json()
    assert (eve["email"], eve["role"]) == ("eve@example.com", "viewer")

    form = api.post("/auth/login", data={"username": "eve@example.com", "password": PASSWORD, "grant_type": "password"})
    assert form.status_code == 200 and form.json()["token_type"] == "bearer"
    token = login(api, "eve@example.com").json()["access_token"]
    assert api.get("/auth/me", headers=bearer(token)).json() == eve

    promoted = api.patch(f"/users/{eve['id']}", json={"role": "editor"}, headers=bearer(admin_token))
    assert promoted.status_code == 200 and promoted.json()["role"] == "editor"
    fresh = login(api, "eve@example.com").json()["access_token"]
    assert api.get("/auth/me", headers=bearer(fresh)).json()["role"] == "editor"
    listed = api.get("/users", params={"limit": 100}, headers=bearer(admin_token)).json()["items"]
    assert any(user["id"] == eve["id"] and user["role"] == "editor" for user in listed)


def test_failures_are_problems_with_the_right_status(api: httpx.Client, admin_token: str) -> None:
    api.post("/auth/signup", json={"email": "fay@example.com", "password": PASSWORD})
    viewer = login(api, "fay@example.com").json()["access_token"]

    cases = {
        "duplicate": (api.post("/auth/signup", json={"email": "FAY@example.com", "password": PASSWORD}), 409),
        "short password": (api.post("/auth/signup", json={"email": "g@example.com", "password": "short"}), 422),
        "wrong password": (login(api, "fay@example.com", "not the password"), 401),
        "unknown email": (login(api, "nobody@example.com"), 401),
        "anonymous me": (api.get("/auth/me"), 401),
        "tampered token": (api.get("/auth/me", headers=bearer(viewer[:-2] + "xx")), 401),
        "viewer lists users": (api.get("/users", headers=bearer(viewer)), 403),
        "viewer changes a role": (
            api.patch("/users/0b9b2b1e-6f7d-4c54-9a34-3c1d2f1f6c11", json={"role": "admin"}, headers=bearer(viewer)),
            403,
        ),
        "unknown route": (api.get("/nowhere"), 404),
        "malformed json": (
            api.post("/auth/signup", content=b"{", headers={"content-type": "application/json"}),
            400,
        ),
        "login body not utf-8": (
            api.post("/auth/login", content=b'{"email": "\xff"}', headers={"content-type": "application/json"}),
            400,
        ),
        "login form not utf-8": (
            api.post(
                "/auth/login", content=b"username=\xff", headers={"content-type": "application/x-www-form-urlencoded"}
            ),
            400,
        ),
        "anonymous malformed body": (
            api.post("/media", content=b"{", headers={"content-type": "application/json"}),
            401,
        ),
    }
    for name, (response, status) in cases.items():
        assert response.status_code == status, name
        assert response.headers["content-type"] == "application/problem+json", name
        assert response.json()["status"] == status, name


def test_repeated_failed_logins_are_slowed_down(api: httpx.Client) -> None:
    api.post("/auth/signup", json={"email": "gil@example.com", "password": PASSWORD})
    for _ in range(5):
        assert login(api, "gil@example.com", "wrong password").status_code == 401

    locked = login(api, "gil@example.com")

    assert locked.status_code == 429
    assert int(locked.headers["retry-after"]) >= 1


def test_docs_and_openapi_cover_every_route(api: httpx.Client, local_stack: object) -> None:
    docs = api.get("/docs")
    spec = api.get("/openapi.json").json()

    assert docs.status_code == 200 and "swagger-ui" in docs.text
    operations = {f"{method.upper()} {path}" for path, ops in spec["paths"].items() for method in ops}
    assert operations == {route.key for route, _ in local_stack.gateway.routes}  # type: ignore[attr-defined]
    password_flow = spec["components"]["securitySchemes"]["OAuth2PasswordBearer"]["flows"]["password"]
    assert password_flow["tokenUrl"] == "/auth/login"


@pytest.mark.parametrize("path", ["/auth/me", "/users"])
def test_an_access_token_is_required(api: httpx.Client, path: str) -> None:
    response = api.get(path, headers={"Authorization": "Basic YTpi"})

    assert response.status_code == 401
