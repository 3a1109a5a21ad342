"""Request targets that are not in origin form: what goes upstream instead (RFC 9112 §3.2).

Called by :class:`~vigil.balancer._proxy_client.ClientConnection` for a parsed request head whose
target does not begin with ``/`` (rare: the plain-head path of :mod:`vigil.balancer._http_plain`
takes only origin-form targets, so this never runs for it).

- An absolute-form target (``GET http://model.example:8080/v1/x?q=1``, what a client sends to a
  forward proxy; a server MUST accept it, §3.2.2) goes upstream in **origin form**
  (``/v1/x?q=1``) and the request's ``Host`` is **replaced** by the target's authority
  (``model.example:8080``), whatever Host the client sent (§3.2.2: the received Host is
  ignored, a new one generated from the target). Origin form, not the target as sent, because
  the upstream is an origin server reached through the proxy: servers that route by path (an
  h11/uvicorn application reads the whole absolute target as its path) would miss it, and the
  router, the access log and the upstream then all see the same path and Host. An empty path
  goes as ``/``, or as ``*`` for an ``OPTIONS`` without a query (§3.2.4); a fragment is cut.
- The asterisk form (``*``) is kept, for ``OPTIONS`` only (§3.2.4).
- Anything else is a :class:`~vigil.balancer._http_headers.BadRequest` (400) naming what is
  wrong: a scheme other than ``http``/``https``, userinfo (RFC 9110 §4.2.4: an error, it can
  hide the real host), an empty host (RFC 9110 §4.2.1: invalid), a port that is not digits, a
  byte an authority may not hold (RFC 3986 §3.2), a target with no scheme.
"""

from __future__ import annotations

from typing import Final

from vigil.balancer._http_headers import BadRequest

_SCHEMES: Final = frozenset({b"http", b"https"})
# RFC 3986 reg-name bytes (unreserved, sub-delims, "%" of pct-encoded), and the bytes an
# IP-literal holds between its brackets (IPv6 hex, ":" and "."; IPvFuture's "v" and the rest)
_ALNUM: Final = b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
_REG_NAME: Final = frozenset(_ALNUM + b"-._~!$&'()*+,;=%")
_IP_LITERAL: Final = frozenset(_ALNUM + b"-._~!$&'()*+,;=:")


def forwarded_target(method: bytes, target: bytes) -> tuple[bytes, bytes | None]:
    """What to send upstream for a ``target`` that does not begin with ``/``: the target, and
    the Host value that replaces the request's (None: keep the request's Host). Raises
    :class:`BadRequest` (400) for a target the proxy cannot forward."""
    if target == b"*":
        if method != b"OPTIONS":
            raise BadRequest(400, "the asterisk target is for OPTIONS only")
        return target, None
    scheme, sep, rest = target.partition(b"://")
    if not sep:
        raise BadRequest(400, "the request target is neither a path (/...) nor an http(s) URI")
    if scheme.lower() not in _SCHEMES:
        raise BadRequest(400, "the request target's scheme is not http or https")
    end = len(rest)
    for stop in (b"/", b"?", b"#"):
        at = rest.find(stop)
        if 0 <= at < end:
            end = at
    authority = rest[:end]
    _check_authority(authority)
    path = rest[end:].partition(b"#")[0]  # a fragment is never sent (RFC 9112 §3.2)
    if not path.startswith(b"/"):
        # an empty path, or a query alone; "OPTIONS http://h" reaches the origin as
        # "OPTIONS *" (RFC 9112 §3.2.4)
        path = b"*" if not path and method == b"OPTIONS" else b"/" + path
    return path, authority


def _check_authority(authority: bytes) -> None:
    """``host [":" port]`` with a host that is not empty; else :class:`BadRequest`."""
    if b"@" in authority:
        raise BadRequest(400, "the request target has userinfo (user@host): not forwarded")
    if authority.startswith(b"["):
        close = authority.find(b"]")
        host, port = authority[: close + 1], authority[close + 1 :]
        ok = close > 1 and all(c in _IP_LITERAL for c in host[1:-1])
    else:
        host, colon, port = authority.partition(b":")
        port = colon + port
        ok = bool(host) and all(c in _REG_NAME for c in host)
    if not ok:
        raise BadRequest(400, "the request target's host is empty or malformed")
    digits = port[1:]  # port = *DIGIT after the colon (RFC 3986 §3.2.3: may be empty)
    if port and (port[:1] != b":" or (digits and not digits.isdigit())):
        raise BadRequest(400, "the request target's port is not a number")
