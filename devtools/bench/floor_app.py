"""The floor: about the least a FastAPI-on-Lambda function can be. One async route, Mangum with lifespan off, and
the DynamoDB and S3 clients a real function would need, created at import.

The cold benchmark imports this file as a top-level module (`floor_app`) from the built layer's packages, the warm
benchmark as `devtools.bench.floor_app`; it must stay free of project imports.
"""

import os

import boto3
from fastapi import FastAPI
from mangum import Mangum

REGION = os.environ.get("AWS_REGION", "us-east-1")
dynamodb = boto3.client("dynamodb", region_name=REGION)
s3 = boto3.client("s3", region_name=REGION)

app = FastAPI(docs_url=None, redoc_url=None, openapi_url=None)


@app.get("/floor")
async def floor() -> dict[str, bool]:
    return {"ok": True}


lambda_handler = Mangum(app, lifespan="off")
