"""Stream URLs, their redemption for a presigned GET, and revocation, through the real Lambda handlers on moto."""

from __future__ import annotations

import importlib
import importlib.util
import json
import time
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

import jwt
import pytest

from devtools.local_stack.template import ROOT
from media_platform import tokens
from media_platform.view_log import View
from tests.integration.conftest import Invoke, Reply, Team, restored_seeded_stack
from tests.integration.media_support import MP4, at, new_media, put_and_process, table
from tests.support import (
    Clock,
    FakeContext,
    RecordedCalls,
    as_function,
    debug_logging,
    handler_of,
    load_event,
    served_openapi,
)

aws, team = restored_seeded_stack()

TTL = 3600  # StreamTokenTtlSeconds' default in template.yaml


@pytest.fixture
def views(monkeypatch: pytest.MonkeyPatch) -> list[View]:
    """Every view the stream function hands to the view recorder."""
    recorded: list[View] = []
    monkeypatch.setattr(importlib.import_module("functions.media_stream.app"), "record_view", recorded.append)
    return recorded


def created(invoke: Invoke, token: str, **changes: Any) -> str:
    reply = invoke("media_create", token=token, body=new_media(**changes))
    assert reply.status == 201, reply.body
    return str(reply.body["media"]["id"])


def ready(invoke: Invoke, token: str, **changes: Any) -> str:
    media_id = created(invoke, token, **changes)
    assert put_and_process(media_id, MP4, changes.get("content_type", "video/mp4")) == {"batchItemFailures": []}
    return media_id


def stream_url(invoke: Invoke, token: str | None, media_id: str) -> Reply:
    return invoke("media_stream_url", token=token, **at(media_id, "/stream-url"))


def token_of(url: str) -> str:
    return parse_qs(urlsplit(url).query)["token"][0]


def stream(
    media_id: str,
    *,
    stream_token: str | None = None,
    bearer: str | None = None,
    method: str = "GET",
    headers: dict[str, str] | None = None,
    handler: Any = None,
) -> Reply:
    """Calls the stream function as API Gateway would for GET|HEAD /media/stream/{media_id}[?token=…]."""
    query = f"token={stream_token}" if stream_token is not None else ""
    event = load_event(
        "media_stream",
        token=bearer,
        path=f"/media/stream/{media_id}",
        path_params={"media_id": media_id},
        query=query,
        headers=headers,
    )
    event["queryStringParameters"] = {"token": stream_token} if stream_token is not None else None
    event["requestContext"]["http"]["method"] = method
    event["routeKey"] = event["requestContext"]["routeKey"] = f"{method} /media/stream/{{media_id}}"
    handler = handler or handler_of("media_stream")
    result = handler(event, FakeContext())
    return Reply(result["statusCode"], result.get("headers", {}), json.loads(result.get("body") or "null"))


def presigned_query(location: str) -> dict[str, str]:
    return {name: values[0] for name, values in parse_qs(urlsplit(location).query).items()}


def set_status(media_id: str, status: str) -> None:
    table().update_item(
        Key={"media_id": media_id},
        UpdateExpression="SET #s = :s",
        ExpressionAttributeNames={"#s": "status"},
        ExpressionAttributeValues={":s": status},
    )


# GET /media/{media_id}/stream-url


def test_a_viewer_gets_an_absolute_stream_url_on_the_api_it_called(invoke: Invoke, team: Team) -> None:
    media_id = ready(invoke, team.editor.token)

    reply = stream_url(invoke, team.viewer.token, media_id)

    assert reply.status == 200, reply.body
    assert set(reply.body) == {"url", "expires_at", "expires_in"}
    url = urlsplit(reply.body["url"])
    # events/media_stream_url.json: domainName localhost, stage $default, X-Forwarded-Proto https
    assert (url.scheme, url.netloc, url.path) == ("https", "localhost", f"/media/stream/{media_id}")
    assert TTL - 5 <= reply.body["expires_in"] <= TTL
    assert reply.headers["cache-control"] == "no-store"
    claims = tokens.verify_stream_token(token_of(reply.body["url"]))
    assert (claims.subject, claims.media_id) == (team.viewer.id, media_id)


def test_a_named_stage_on_the_execute_api_host_is_part_of_the_url(invoke: Invoke, team: Team) -> None:
    media_id = ready(invoke, team.editor.token)
    event = load_event("media_stream_url", token=team.viewer.token, **at(media_id, "/stream-url"))
    event["requestContext"] |= {"domainName": "abc123.execute-api.eu-west-1.amazonaws.com", "stage": "dev"}
    handler = handler_of("media_stream_url")

    body = json.loads(handler(event, FakeContext())["body"])

    assert body["url"].startswith(f"https://abc123.execute-api.eu-west-1.amazonaws.com/dev/media/stream/{media_id}?")


def test_media_that_is_not_ready_is_409_naming_its_status_for_those_who_see_it(invoke: Invoke, team: Team) -> None:
    media_id = created(invoke, team.editor.token)

    for who in (team.editor, team.admin):
        reply = stream_url(invoke, who.token, media_id)
        assert reply.status == 409 and "pending_upload" in reply.body["detail"], reply.body
        assert reply.headers["content-type"] == "application/problem+json"
    for who in (team.viewer, team.other_editor):
        assert stream_url(invoke, who.token, media_id).status == 404


def test_missing_malformed_or_anonymous_requests_are_refused(invoke: Invoke, team: Team) -> None:
    media_id = ready(invoke, team.editor.token)

    assert stream_url(invoke, None, media_id).status == 401
    assert stream_url(invoke, team.viewer.token, "not-a-uuid").status == 404
    assert stream_url(invoke, team.viewer.token, "3f6c1a52-8d0e-4b7a-9c21-5e4f7a9b0d13").status == 404


def test_a_stream_token_is_refused_where_an_access_token_is_required(invoke: Invoke, team: Team) -> None:
    media_id = ready(invoke, team.editor.token)
    stream_token = token_of(stream_url(invoke, team.admin.token, media_id).body["url"])

    assert invoke("media_get", token=stream_token, **at(media_id)).status == 401
    assert stream_url(invoke, stream_token, media_id).status == 401
    assert invoke("auth_me", token=stream_token).status == 401


# GET|HEAD /media/stream/{media_id}


def test_a_stream_token_redirects_to_a_presigned_get_of_the_pinned_version(
    invoke: Invoke, team: Team, views: list[View]
) -> None:
    media_id = ready(invoke, team.editor.token, filename="Keynote 2026.mp4")
    stream_token = token_of(stream_url(invoke, team.viewer.token, media_id).body["url"])

    reply = stream(stream_token=stream_token, media_id=media_id)

    assert reply.status == 302, reply.body
    assert reply.body is None and "content-type" not in reply.headers
    assert reply.headers["cache-control"] == "no-store"
    assert reply.headers["referrer-policy"] == "no-referrer"
    location = urlsplit(reply.headers["location"])
    query = presigned_query(reply.headers["location"])
    assert location.path.endswith(f"/uploads/{media_id}")
    assert query["X-Amz-Algorithm"] == "AWS4-HMAC-SHA256"
    assert 0 < int(query["X-Amz-Expires"]) <= tokens.verify_stream_token(stream_token).remaining_seconds()
    assert query["versionId"] == table().get_item(Key={"media_id": media_id})["Item"]["version_id"]
    assert query["response-content-type"] == "video/mp4"
    assert query["response-content-disposition"] == (
        "inline; filename=\"Keynote 2026.mp4\"; filename*=UTF-8''Keynote%202026.mp4"
    )
    assert [(v.media_id, v.user_id, v.token_kind) for v in views] == [(media_id, team.viewer.id, "stream")]


def test_the_presigned_get_lives_no_longer_than_the_token(invoke: Invoke, team: Team, clock: Clock) -> None:
    media_id = ready(invoke, team.editor.token)
    stream_token = token_of(stream_url(invoke, team.viewer.token, media_id).body["url"])

    clock.now += TTL - 100

    query = presigned_query(stream(stream_token=stream_token, media_id=media_id).headers["location"])
    assert 0 < int(query["X-Amz-Expires"]) <= 100


def test_the_view_recorder_gets_who_what_when_and_the_range(invoke: Invoke, team: Team, views: list[View]) -> None:
    media_id = ready(invoke, team.editor.token)
    stream_token = token_of(stream_url(invoke, team.viewer.token, media_id).body["url"])

    stream(stream_token=stream_token, media_id=media_id, headers={"range": "bytes=0-199"})
    # a player seeking inside the playback comes back for a later range: redirected, not a view
    assert stream(stream_token=stream_token, media_id=media_id, headers={"range": "bytes=100-199"}).status == 302

    [view] = views
    assert (view.media_id, view.user_id, view.token_kind.value) == (media_id, team.viewer.id, "stream")
    assert (view.source_ip, view.user_agent, view.range) == (
        "203.0.113.10",
        "VLC/3.0.20 LibVLC/3.0.20",
        "bytes=0-199",
    )
    assert abs(view.at.timestamp() - time.time()) < 60


def test_head_answers_the_same_headers_and_records_nothing(invoke: Invoke, team: Team, views: list[View]) -> None:
    media_id = ready(invoke, team.editor.token)
    stream_token = token_of(stream_url(invoke, team.viewer.token, media_id).body["url"])

    head = stream(stream_token=stream_token, media_id=media_id, method="HEAD")
    get = stream(stream_token=stream_token, media_id=media_id)

    assert head.status == get.status == 302
    assert set(head.headers) == set(get.headers)
    assert head.headers["referrer-policy"] == "no-referrer" and head.headers["cache-control"] == "no-store"
    assert urlsplit(head.headers["location"]).path == urlsplit(get.headers["location"]).path
    assert len(views) == 1  # the GET's only


def test_an_access_token_as_bearer_streams_too(invoke: Invoke, team: Team, views: list[View]) -> None:
    media_id = ready(invoke, team.editor.token)

    reply = stream(bearer=team.viewer.token, media_id=media_id)

    assert reply.status == 302
    assert presigned_query(reply.headers["location"])["X-Amz-Algorithm"] == "AWS4-HMAC-SHA256"
    assert [(v.user_id, v.token_kind.value) for v in views] == [(team.viewer.id, "access")]


def test_an_access_token_is_not_a_stream_token(invoke: Invoke, team: Team) -> None:
    media_id = ready(invoke, team.editor.token)

    reply = stream(stream_token=team.admin.token, media_id=media_id)

    assert reply.status == 401 and reply.headers["content-type"] == "application/problem+json"


def test_no_token_at_all_is_401(invoke: Invoke, team: Team) -> None:
    media_id = ready(invoke, team.editor.token)

    assert stream(media_id=media_id).status == 401


def test_a_stream_token_for_other_media_is_403(invoke: Invoke, team: Team) -> None:
    mine, other = ready(invoke, team.editor.token), ready(invoke, team.editor.token, title="Other")
    stream_token = token_of(stream_url(invoke, team.viewer.token, other).body["url"])

    reply = stream(stream_token=stream_token, media_id=mine)

    assert reply.status == 403 and reply.headers["content-type"] == "application/problem+json"


def test_a_tampered_stream_token_is_401(invoke: Invoke, team: Team) -> None:
    mine, other = ready(invoke, team.editor.token), ready(invoke, team.editor.token, title="Other")
    stream_token = token_of(stream_url(invoke, team.viewer.token, other).body["url"])
    header, payload, signature = stream_token.split(".")
    claims = jwt.decode(stream_token, options={"verify_signature": False}) | {"media_id": mine}
    forged_payload = jwt.encode(claims, "x" * 64, algorithm="HS256").split(".")[1]
    flipped = signature[:-2] + ("A" if signature[-2] != "A" else "B") + signature[-1]

    assert stream(stream_token=f"{header}.{forged_payload}.{signature}", media_id=mine).status == 401
    assert stream(stream_token=f"{header}.{payload}.{flipped}", media_id=other).status == 401
    assert stream(stream_token="garbage", media_id=other).status == 401


def test_an_expired_stream_token_is_401(invoke: Invoke, team: Team, clock: Clock) -> None:
    media_id = ready(invoke, team.editor.token)
    stream_token = token_of(stream_url(invoke, team.viewer.token, media_id).body["url"])

    clock.now += TTL + tokens.LEEWAY_SECONDS + 1

    reply = stream(stream_token=stream_token, media_id=media_id)
    assert reply.status == 401 and reply.headers["content-type"] == "application/problem+json"


@pytest.mark.parametrize(("status", "expected"), [("deleted", 410), ("failed", 410), ("pending_upload", 404)])
def test_media_no_longer_ready_is_not_streamed(invoke: Invoke, team: Team, status: str, expected: int) -> None:
    media_id = ready(invoke, team.editor.token)
    stream_token = token_of(stream_url(invoke, team.viewer.token, media_id).body["url"])

    set_status(media_id, status)

    reply = stream(stream_token=stream_token, media_id=media_id)
    assert reply.status == expected and reply.headers["content-type"] == "application/problem+json"


def test_media_deleted_through_the_api_is_gone(invoke: Invoke, team: Team) -> None:
    media_id = ready(invoke, team.editor.token)
    stream_token = token_of(stream_url(invoke, team.viewer.token, media_id).body["url"])

    assert invoke("media_delete", token=team.editor.token, **at(media_id)).status == 204

    assert stream(stream_token=stream_token, media_id=media_id).status == 410
    assert stream(bearer=team.admin.token, media_id=media_id).status == 410


def test_no_token_reaches_the_logs(
    invoke: Invoke, team: Team, monkeypatch: pytest.MonkeyPatch, capfd: pytest.CaptureFixture[str], caplog: Any
) -> None:
    # Given Powertools told to log every event, and a fresh cold start of the stream function under it
    media_id = ready(invoke, team.editor.token)
    monkeypatch.setenv("POWERTOOLS_LOGGER_LOG_EVENT", "true")
    issued = stream_url(invoke, team.viewer.token, media_id)
    stream_token = token_of(issued.body["url"])
    spec = importlib.util.spec_from_file_location("cold_media_stream", ROOT / "functions/media_stream/app.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)

    cold = as_function("media_stream", module.lambda_handler)

    # When it serves a playback, a HEAD, a refusal and a bearer request, logging at DEBUG
    with debug_logging():
        assert stream(stream_token=stream_token, media_id=media_id, handler=cold).status == 302
        stream(stream_token=stream_token, media_id=media_id, method="HEAD", handler=cold)
        stream(stream_token=stream_token + "x", media_id=media_id, handler=cold)
        stream(bearer=team.viewer.token, media_id=media_id, handler=cold)

    # Then the logs tell of the playback, and hold neither token
    captured = capfd.readouterr()
    logged = captured.out + captured.err + "\n".join(json.dumps(r.__dict__, default=str) for r in caplog.records)
    assert "View recorded" in logged
    signature = stream_token.rsplit(".", 1)[1]
    for secret in (stream_token, signature, team.viewer.token.rsplit(".", 1)[1]):
        assert secret not in logged


def test_the_document_lists_the_stream_token_the_route_reads_itself() -> None:
    for method in ("get", "head"):
        operation = served_openapi()["paths"]["/media/stream/{media_id}"][method]
        parameters = {(p["name"], p["in"]): p for p in operation["parameters"]}
        assert set(parameters) == {("media_id", "path"), ("token", "query")}
        assert parameters["token", "query"]["required"] is False
        assert operation["security"] == [{"OAuth2PasswordBearer": []}]


@pytest.mark.parametrize("function", ["MediaStreamFunction", "MediaViewFunction"])
def test_a_route_reading_its_own_credentials_documents_the_bearer_scheme_on_its_own(function: str) -> None:
    # No dependency declares `bearer` there: the function's own document must still define the scheme it names.
    alone = served_openapi(only=function)
    assert [op["security"] for ops in alone["paths"].values() for op in ops.values()] == [
        [{"OAuth2PasswordBearer": []}]
    ] * sum(len(ops) for ops in alone["paths"].values())
    assert alone["components"]["securitySchemes"] == served_openapi()["components"]["securitySchemes"]


# POST /media/{media_id}/revoke-streams


def revoke(invoke: Invoke, token: str | None, media_id: str) -> Reply:
    return invoke("media_revoke_streams", token=token, **at(media_id, "/revoke-streams"))


def test_revoking_stops_earlier_tokens_and_not_later_ones_in_the_same_second(
    invoke: Invoke, team: Team, clock: Clock
) -> None:
    # Given a stream token issued just before a revocation, within the same second
    media_id = ready(invoke, team.editor.token)
    clock.now = float(int(time.time())) + 0.100
    before = token_of(stream_url(invoke, team.viewer.token, media_id).body["url"])
    clock.now += 0.200

    # When the owner revokes, and a new token is issued later in that second
    assert revoke(invoke, team.editor.token, media_id).status == 204
    clock.now += 0.200
    after = token_of(stream_url(invoke, team.viewer.token, media_id).body["url"])

    # Then the earlier token is refused and the later one works
    refused = stream(stream_token=before, media_id=media_id)
    assert refused.status == 401 and "revoked" in refused.body["detail"]
    assert stream(stream_token=after, media_id=media_id).status == 302
    assert int(tokens.verify_stream_token(before).issued_at) == int(tokens.verify_stream_token(after).issued_at)


def test_the_stream_path_reads_only_the_media_item_and_writes_the_view_twice(
    invoke: Invoke, team: Team, monkeypatch: pytest.MonkeyPatch
) -> None:
    from media_platform import clients

    media_id = ready(invoke, team.editor.token)
    stream_token = token_of(stream_url(invoke, team.viewer.token, media_id).body["url"])
    recorded = RecordedCalls(clients.dynamodb())
    clients.override("dynamodb", recorded)
    assert stream(stream_token=stream_token, media_id=media_id).status == 302

    # one read, the media item's; then the view's two writes (the dedupe marker, the record)
    views_table = "media-platform-local-ViewsTable"
    assert recorded.calls == [
        ("get_item", "media-platform-local-MediaTable"),
        ("put_item", views_table),
        ("put_item", views_table),
    ]


def test_only_the_owner_or_an_admin_may_revoke(invoke: Invoke, team: Team) -> None:
    media_id = ready(invoke, team.editor.token)

    assert revoke(invoke, None, media_id).status == 401
    assert revoke(invoke, team.viewer.token, media_id).status == 403
    assert revoke(invoke, team.other_editor.token, media_id).status == 403
    assert revoke(invoke, team.admin.token, media_id).status == 204
    assert revoke(invoke, team.editor.token, media_id).status == 204
    assert revoke(invoke, team.editor.token, "not-a-uuid").status == 404
    assert "streams_valid_after" not in invoke("media_get", token=team.admin.token, **at(media_id)).body


def test_a_revocation_never_moves_backwards(invoke: Invoke, team: Team, clock: Clock) -> None:
    media_id = ready(invoke, team.editor.token)
    assert revoke(invoke, team.editor.token, media_id).status == 204
    latest = table().get_item(Key={"media_id": media_id})["Item"]["streams_valid_after"]

    clock.now -= 3  # a revocation whose clock lags (within the tokens' leeway, so the caller's token still works)
    assert revoke(invoke, team.admin.token, media_id).status == 204

    assert table().get_item(Key={"media_id": media_id})["Item"]["streams_valid_after"] == latest


def test_the_filename_reaches_s3_rfc_5987_encoded(invoke: Invoke, team: Team) -> None:
    media_id = ready(invoke, team.editor.token, filename='Ünïcødé "talk";\r\nX-Evil: 1 🎬.mp4')
    stream_token = token_of(stream_url(invoke, team.viewer.token, media_id).body["url"])

    query = presigned_query(stream(stream_token=stream_token, media_id=media_id).headers["location"])

    disposition = query["response-content-disposition"]
    assert disposition.isascii() and "\r" not in disposition and "\n" not in disposition
    fallback = disposition.split('filename="', 1)[1].split('"', 1)[0]
    assert fallback == "Unic_de _talk__X-Evil_ 1 _.mp4"
    encoded = disposition.split("filename*=UTF-8''", 1)[1]
    assert unquote(encoded) == 'Ünïcødé "talk";X-Evil: 1 🎬.mp4'
