"""The web dashboard: one page (HTML, a JS module, CSS) served by the API app at ``/ui/``.

The daemon mounts :data:`router` on the app it builds with :func:`vigil.api.create_app`. The
page reads the fleet, incidents and actions from ``GET /api/v1/overview`` (one bounded request
a refresh, with the last ETag) with a token the user pastes once (kept in the browser's
localStorage) or passes as ``/ui/#token=...``; a viewer token is enough. No build step and
no third-party script: the files ship in the package.
"""

from __future__ import annotations

from vigil.web._router import CSP, router

__all__ = ["CSP", "router"]
