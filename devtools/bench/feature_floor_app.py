"""The feature floor: the floor (`floor_app`) plus what any API doing this job does per request. It verifies the
bearer token, an HS256 JWT, with PyJWT requiring the claims `media_platform.tokens` requires; answers with a pydantic
response model that FastAPI validates; and runs inside the Powertools Logger (correlation id from the event) and
Metrics decorators. No tracer, no stored-user read, no domain code.

Like `floor_app` it must stay free of project imports: its key and issuer come from the environment the benchmark
sets (see `devtools.bench.targets.feature_floor_token`).
"""

import os
from datetime import UTC, datetime
from typing import Annotated, Any

import boto3
import jwt
from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.logging import correlation_paths
from fastapi import FastAPI, Header, HTTPException
from mangum import Mangum
from pydantic import BaseModel

REGION = os.environ.get("AWS_REGION", "us-east-1")
SIGNING_KEY = os.environ["FEATURE_FLOOR_SIGNING_KEY"].encode()
ISSUER = os.environ["FEATURE_FLOOR_ISSUER"]
AUDIENCE = "media-platform-api"
REQUIRED_CLAIMS = ["sub", "role", "iat", "exp", "iss", "aud", "token_use"]

dynamodb = boto3.client("dynamodb", region_name=REGION)
s3 = boto3.client("s3", region_name=REGION)
logger = Logger()
metrics = Metrics()

app = FastAPI(docs_url=None, redoc_url=None, openapi_url=None)


class CallerOut(BaseModel):
    id: str
    role: str
    issued_at: datetime
    expires_at: datetime


def verify(authorization: str | None) -> dict[str, Any]:
    scheme, _, token = (authorization or "").partition(" ")
    try:
        if scheme.lower() != "bearer":
            raise jwt.InvalidTokenError("not a bearer token")
        claims: dict[str, Any] = jwt.decode(
            token,
            SIGNING_KEY,
            algorithms=["HS256"],
            audience=AUDIENCE,
            issuer=ISSUER,
            leeway=5,
            options={"require": REQUIRED_CLAIMS},
        )
        if claims["token_use"] != "access":
            raise jwt.InvalidTokenError("wrong token type")
    except jwt.PyJWTError:
        raise HTTPException(401, "The token is missing, expired or invalid.") from None
    return claims


@app.get("/feature-floor")
async def feature_floor(authorization: Annotated[str | None, Header()] = None) -> CallerOut:
    claims = verify(authorization)
    return CallerOut(
        id=claims["sub"],
        role=claims["role"],
        issued_at=datetime.fromtimestamp(claims["iat"], UTC),
        expires_at=datetime.fromtimestamp(claims["exp"], UTC),
    )


asgi = Mangum(app, lifespan="off")
cold_start_metric = os.environ.get("POWERTOOLS_METRICS_DISABLED", "false").lower() != "true"


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP, clear_state=True)
@metrics.log_metrics(capture_cold_start_metric=cold_start_metric)
def lambda_handler(event: dict[str, Any], context: Any) -> Any:
    return asgi(event, context)
