"""Names and labels as the config and the API take them: a node's name (``nodes[].name``,
``vigil agent --name``) and the source label of a followed log file (what ``vigil agent --log
FILE`` and ``logs.sources`` call a file in templates and findings).

Called by the agent's command line (``--name``, :mod:`vigil.cli._app`), the agent
(:func:`vigil.agent.log_edge`, for ``--log`` files) and the settings
(:attr:`vigil.settings.LogSource.label`, re-exported as :func:`vigil.settings.source_label`).
It lives here, not in the settings, so the agent checks its name and labels its files without
importing the settings models (pydantic: ~14 MB of an agent's memory, issue 5). Pure.
"""

from __future__ import annotations

import re

NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,62}")
"""A node's name and a source label, whole (``NodeSettings.name``'s pattern; a test keeps the
two equal): a letter or digit, then up to 62 letters, digits, ``_``, ``.`` or ``-``."""


def is_name(value: str) -> bool:
    """True when ``value`` is a name :data:`NAME` takes, whole (a trailing newline included)."""
    return NAME.fullmatch(value) is not None


def source_label(name: str) -> str:
    """A file name as a source label the API takes (``[A-Za-z0-9][A-Za-z0-9_.-]{0,62}``): other
    characters become ``_``, and one that does not start with a letter or digit gets ``log``
    in front. Batches naming a source the API refuses were refused whole, lines and all."""
    label = re.sub(r"[^A-Za-z0-9_.-]", "_", name)[:63]
    return label if label[:1].isalnum() else ("log" + label)[:63]
