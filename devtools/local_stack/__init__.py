"""The Docker-less local stack: template.yaml's resources in an embedded moto server, and its routes served through
each function's real Lambda handler. `make dev` runs it; the end-to-end tests start it in-process."""

from devtools.local_stack.stack import LocalStack

__all__ = ["LocalStack"]
