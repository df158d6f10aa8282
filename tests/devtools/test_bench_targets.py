"""The benchmark measures the stream function the way players call it, not only with a Bearer token."""

from __future__ import annotations

from devtools.bench.targets import STREAM_FUNCTION, STREAM_TOKEN_SUFFIX, Tokens, load_targets
from devtools.bench.warm import STAND_IN_HASH


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


def test_every_function_is_measured_on_a_request_that_succeeds() -> None:
    # A row measured on a refusal (a 409 for want of seeded data) says nothing about the function's own work.
    import os
    from contextlib import redirect_stdout

    from devtools.bench.cold import BASE_ENV
    from devtools.bench.warm import prepare_warm, stubbed_aws, without_bcrypt

    targets = [t for t in load_targets()[0] if not t.is_floor and not t.traced]
    environment = {**BASE_ENV}
    for target in targets:
        environment.update(target.environment)
    # stdout to /dev/null meanwhile: Powertools prints the cold-start metric there.
    with (
        stubbed_aws(environment, STAND_IN_HASH),
        without_bcrypt(),
        open(os.devnull, "w") as devnull,
        redirect_stdout(devnull),
    ):
        tokens = Tokens.issue()
        statuses = {target.name: prepare_warm(target, tokens).status for target in targets}

    assert {name: status for name, status in statuses.items() if not 200 <= (status or 0) < 400} == {}
    assert len(statuses) >= 21  # every function with an HttpApi route, and the stream function twice
