"""`make bench`: cold init and warm per-request overhead of every function in template.yaml, each as a ratio
against a floor (FastAPI + Mangum with one async route and a DynamoDB and an S3 client) measured in the same run.

It reports; it is not a test and always exits 0 once it has run. See `python -m devtools.bench --help`.
"""
