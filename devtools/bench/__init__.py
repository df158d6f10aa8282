"""`make bench`: cold init and warm per-request overhead of every function in template.yaml, each as a ratio against
floors measured in the same run: cold against the floor (FastAPI + Mangum with one async route and a DynamoDB and an
S3 client), warm (median and p99) against the feature floor (the floor plus JWT verification, a pydantic response
model and the Powertools Logger and Metrics decorators); and what the X-Ray SDK costs one function.

It reports; it is not a test and always exits 0 once it has run. Its last line is one JSON object with every figure
and ratio. See `python -m devtools.bench --help`.
"""
