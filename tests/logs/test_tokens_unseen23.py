"""A source file with its line number is a location, not a program name (branch unseen23).

``cache_engine.py:221`` was masked whole (``<*>:<*>``): the rule that makes a program's file name
a value (``train.py``, ``run.sh``, ``app.jar``) took the file of a source location too. A source
location is the place of a logging call, constant per statement, and the labels keep its file and
mask its line (holdout6's DCGM ``[file.cpp:<*>]``, holdout21's JuiceFS ``[file.go:<*>]``), as
``engine.go:961`` already was. LMCache prints one after every message
(``msg (cache_engine.py:221:lmcache.v1.cache_engine)``, holdout23); pytest's failure lines
(``test_x.py:42: AssertionError``), Python's ``warnings`` (``train.py:88: UserWarning:``) and
any ``%(filename)s:%(lineno)d`` placed after ``%(message)s`` print the same construct. Only a
``.py`` file: a one-label name in ``.sh`` with a number is a host and its port (Squid's ``CONNECT
transfer.sh:443``, holdout4), ``.sh`` being a country's domain."""

from __future__ import annotations

from vigil.logs._tokens import mask


def test_a_python_file_with_its_line_keeps_the_file() -> None:
    assert mask("Engine is closed. (cache_engine.py:978:lmcache.v1.cache_engine)") == (
        "Engine is closed. (cache_engine.py:<*>:lmcache.v1.cache_engine)"
    )
    assert mask("train.py:88: UserWarning: epoch skipped") == (
        "train.py:<*>: UserWarning: epoch skipped"
    )


def test_a_program_file_alone_is_still_a_value() -> None:
    # near misses: no line number after the file, or a word after the colon
    assert mask("Running train.py with 8 workers") == "Running <*> with <*> workers"
    assert mask("exec run.sh: permission denied") == "exec <*>: permission denied"
    assert mask("loaded app.jar:main-class") == "loaded <*>:main-class"
    # a one-label name in .sh (Saint Helena's domain) with a number is a host and its port
    assert mask("TCP_DENIED/403 0 CONNECT transfer.sh:443 -") == (
        "TCP_DENIED/<*> <*> CONNECT <*>:<*> -"
    )
    assert mask("Engine halted (engine.go:961:pkg.engine)") == (
        "Engine halted (engine.go:<*>:pkg.engine)"
    )
