"""Tools for developers, not shipped and not tests: the local stack (`make dev`) and the benchmark (`make bench`)."""
