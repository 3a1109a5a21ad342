"""The two marks the masking modules write: the wildcard of a value and the space inside a span.

Imported by :mod:`vigil.logs._tokens` (which re-exports :data:`WILDCARD` to the rest of the
package), :mod:`vigil.logs._texts`, :mod:`vigil.logs._unquoted`, :mod:`vigil.logs._wholes`,
:mod:`vigil.logs._refs` and :mod:`vigil.logs._objrefs`; it imports nothing, so the modules that
``_tokens`` itself imports can share one definition instead of a copy each.
"""

from __future__ import annotations

WILDCARD = "<*>"
"""A value's place in a template (Loghub's mark)."""

SPACE = "\ue000"
"""The space inside a span of several words kept as one word (a private-use character no log
line holds), turned back into a space when the template is printed."""
