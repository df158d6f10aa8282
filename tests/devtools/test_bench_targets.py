"""The benchmark measures the stream function the way players call it, not only with a Bearer token."""

from __future__ import annotations

from devtools.bench.targets import STREAM_FUNCTION, STREAM_TOKEN_SUFFIX, Tokens, load_targets


def test_the_stream_function_is_measured_with_a_stream_token_and_with_a_bearer_token() -> None:
    targets = {target.name: target for target in load_targets([STREAM_FUNCTION])[0]}
    tokens = Tokens(access="access-token", stream="stream-token")

    bearer = targets[STREAM_FUNCTION].event(tokens)
    streamed = targets[STREAM_FUNCTION + STREAM_TOKEN_SUFFIX].event(tokens)

    assert bearer["headers"]["authorization"] == "Bearer access-token"
    assert not bearer["rawQueryString"] and not bearer["queryStringParameters"]
    assert streamed["rawQueryString"] == "token=stream-token"
    assert streamed["queryStringParameters"] == {"token": "stream-token"}
    assert "authorization" not in streamed["headers"]
