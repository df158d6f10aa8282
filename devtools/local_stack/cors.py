"""The CORS of an API Gateway HTTP API, from its `CorsConfiguration`, as AWS documents it (Configure CORS for HTTP
APIs): the gateway answers every preflight itself, whether or not a route matches, adds the configured headers to
the response of a CORS request from an allowed origin, and ignores any CORS header the integration returns.

- A CORS request carries `Origin`; a preflight is an `OPTIONS` with `Origin` and `Access-Control-Request-Method`.
- Origins match exactly, or through `*` (any origin) or `https://*` / `http://*` (any origin of that scheme).
- Methods and headers match case-insensitively; `*` in AllowMethods or AllowHeaders allows any.
- A preflight that is refused (origin, method or a header not allowed) is still answered, with no CORS headers, so
  the browser refuses the request; a request from another origin gets its answer with no CORS headers either."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from werkzeug.datastructures import Headers

SCHEME_WILDCARDS = ("https://*", "http://*")


@dataclass(frozen=True)
class CorsConfig:
    allow_origins: tuple[str, ...]
    allow_methods: tuple[str, ...] = ()
    allow_headers: tuple[str, ...] = ()
    expose_headers: tuple[str, ...] = ()
    max_age: int | None = None
    allow_credentials: bool = False

    @classmethod
    def from_properties(cls, props: Mapping[str, Any], allow_origins: list[str]) -> CorsConfig:
        """From an HttpApi's `CorsConfiguration`, its origins already resolved (they name a template parameter)."""
        max_age = props.get("MaxAge")
        return cls(
            allow_origins=tuple(allow_origins),
            allow_methods=tuple(str(m) for m in props.get("AllowMethods", [])),
            allow_headers=tuple(str(h) for h in props.get("AllowHeaders", [])),
            expose_headers=tuple(str(h) for h in props.get("ExposeHeaders", [])),
            max_age=None if max_age is None else int(max_age),
            allow_credentials=str(props.get("AllowCredentials", False)).lower() == "true",
        )

    def allow_origin_value(self, origin: str | None) -> str | None:
        """The `Access-Control-Allow-Origin` for this request's origin, or None when it is not allowed."""
        if not origin:
            return None
        if origin in self.allow_origins:
            return origin
        if "*" in self.allow_origins:
            return origin if self.allow_credentials else "*"
        if any(w in self.allow_origins and origin.startswith(w[:-1]) for w in SCHEME_WILDCARDS):
            return origin
        return None

    def preflight_headers(self, headers: Headers) -> dict[str, str]:
        """The headers that answer a preflight: all of them when it is allowed, none when it is not. (Request
        headers are looked up by any case, as HTTP names them.)"""
        allow_origin = self.allow_origin_value(headers.get("Origin"))
        method = headers.get("Access-Control-Request-Method", "")
        requested = [h.strip() for h in headers.get("Access-Control-Request-Headers", "").split(",") if h.strip()]
        if allow_origin is None or not self._allows_method(method) or not all(map(self._allows_header, requested)):
            return {}
        answer = {
            "Access-Control-Allow-Origin": allow_origin,
            "Access-Control-Allow-Methods": ",".join(self.allow_methods),
            "Access-Control-Allow-Headers": ",".join(requested if "*" in self.allow_headers else self.allow_headers),
            **self._shared(allow_origin),
        }
        if self.max_age is not None:
            answer["Access-Control-Max-Age"] = str(self.max_age)
        return {name: value for name, value in answer.items() if value}

    def response_headers(self, origin: str | None) -> dict[str, str]:
        """The headers added to the answer of an actual request: none unless its origin is allowed."""
        allow_origin = self.allow_origin_value(origin)
        if allow_origin is None:
            return {}
        answer = {"Access-Control-Allow-Origin": allow_origin, **self._shared(allow_origin)}
        if self.expose_headers:
            answer["Access-Control-Expose-Headers"] = ",".join(self.expose_headers)
        return answer

    def _shared(self, allow_origin: str) -> dict[str, str]:
        shared = {"Access-Control-Allow-Credentials": "true"} if self.allow_credentials else {}
        if allow_origin != "*":
            shared["Vary"] = "Origin"  # the answer depends on the origin: caches must keep one per origin
        return shared

    def _allows_method(self, method: str) -> bool:
        return bool(method) and ("*" in self.allow_methods or method.upper() in {m.upper() for m in self.allow_methods})

    def _allows_header(self, header: str) -> bool:
        return "*" in self.allow_headers or header.lower() in {h.lower() for h in self.allow_headers}


def is_preflight(method: str, headers: Headers) -> bool:
    return method == "OPTIONS" and "Origin" in headers and "Access-Control-Request-Method" in headers
