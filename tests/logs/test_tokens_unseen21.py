"""A number in scientific notation with a positive exponent is one value (branch unseen21).

``2.412331E+00`` was masked ``<*>+<*>``: the exponent's sign split the number, while a negative
one (``1.499832E-04``) was already one value. C's ``%e``, Python's ``%e`` / ``repr`` of a large
float, Go's ``%g`` and Java's ``Double.toString`` print it (Megatron-LM's loss lines in
holdout21, DeepSpeed and Lightning metrics, simulation codes, Prometheus values); the labels
write one ``<*>`` for a number. The near misses are shapes the rule must leave as before."""

from __future__ import annotations

from vigil.logs._tokens import mask


def test_a_positive_exponent_is_the_numbers() -> None:
    # Megatron-LM (holdout21)
    assert mask("lm loss: 2.412331E+00 | loss scale: 1.0 |") == "lm loss: <*> | loss scale: <*> |"
    assert mask("lm loss value: 2.398411E+00 | lm loss PPL: 1.100512E+01 |") == (
        "lm loss value: <*> | lm loss PPL: <*> |"
    )
    # C's and Python's %e, Go's %g, in a list and before a full stop
    assert mask("residual 1.234560e+00 after 12 steps") == "residual <*> after <*> steps"
    assert mask("bytes=1e+06, rate=7E+08.") == "bytes=<*>, rate=<*>."
    assert mask("energy -3.1415e+02 kJ") == "energy <*> kJ"
    # as before: a negative exponent and a bare one
    assert mask("learning rate: 1.499832E-04 and 1.0E10") == "learning rate: <*> and <*>"


def test_what_only_looks_like_an_exponent_is_masked_as_before() -> None:
    # a build after a version's '+' (one value with its version since branch masks22, not an
    # exponent), a function and its offset, a hex sum, a word after '+'
    assert mask("version: 1.2.1+2024-08-30.cd871d1") == "version: <*>"
    assert mask("at __schedule+0x2a4/0x7d0") == "at <*>"
    assert mask("offset 0x1e+0x20") == "offset <*>+<*>"
    assert mask("pos 4e+2b and 3e+x") == "pos <*>+<*> and <*>+x"
    assert mask("C++11 and size+12 rows") == "C++<*> and size+<*> rows"
