from __future__ import annotations

from werkzeug.test import EnvironBuilder
from werkzeug.wrappers import Request

from devtools.local_stack.gateway import build_event
from devtools.local_stack.template import Route


def test_the_event_carries_the_client_address_route_and_body() -> None:
    request = Request(
        EnvironBuilder(
            method="PATCH",
            path="/users/42",
            query_string="a=1&b=2",
            json={"role": "editor"},
            headers=[("Authorization", "Bearer t"), ("Cookie", "a=1; b=2")],
            environ_base={"REMOTE_ADDR": "198.51.100.7"},
        ).get_environ()
    )

    event = build_event(request, Route("PATCH", "/users/{user_id}"), {"user_id": "42"})

    assert event["version"] == "2.0"
    assert event["routeKey"] == "PATCH /users/{user_id}"
    assert event["requestContext"]["http"]["sourceIp"] == "198.51.100.7"
    assert event["pathParameters"] == {"user_id": "42"}
    assert event["queryStringParameters"] == {"a": "1", "b": "2"}
    assert event["headers"]["authorization"] == "Bearer t"
    assert event["cookies"] == ["a=1", "b=2"]
    assert (event["body"], event["isBase64Encoded"]) == ('{"role": "editor"}', False)
