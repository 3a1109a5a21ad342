"""The C library's error texts (``strerror``): a closed vocabulary that is a value, never a
statement's own wording.

Called by :func:`vigil.logs._spans._labelled_span` (on the miner's slow path, when a line would
open a new cluster) to tell whether the free texts after one label are two of these texts. Pure:
plain words in, a yes or no out.

A program that fails a system call prints ``strerror(errno)`` (C's ``%m``, ``perror``), Go's
``syscall.Errno`` text (the same words in lower case: ``connect: connection refused``),
Python's ``OSError`` (``[Errno 111] Connection refused``), Java's ``IOException`` message and
UCX's, libfabric's or systemd's error strings print the same texts. Which text a line carries is
the errno the call got, so one statement prints several: ``ibv_reg_mr(...) failed: Bad address``
and ``... failed: Cannot allocate memory``, systemd-logind's ``Failed to abandon session scope,
ignoring: Transport endpoint is not connected`` and ``... Connection reset by peer``. The
texts differ in word count, and the label rule (:mod:`vigil.logs._labelled`) asks a text at the
line's end for a mark it ends on, since an unmarked tail is as likely the statement's own
words; a text of this list is not: it is the errno's. The list is glibc's messages for the
errno values every Unix has (POSIX and the Linux network ones), compared case-blind, without
the obsolete STREAMS and XENIX ones; no text of it is any one program's.
"""

from __future__ import annotations

from vigil.logs._marks import WILDCARD

_TEXTS = frozenset(
    text.lower()
    for text in (
        "Operation not permitted",
        "No such file or directory",
        "No such process",
        "Interrupted system call",
        "Input/output error",
        "No such device or address",
        "Argument list too long",
        "Exec format error",
        "Bad file descriptor",
        "No child processes",
        "Resource temporarily unavailable",
        "Cannot allocate memory",
        "Permission denied",
        "Bad address",
        "Block device required",
        "Device or resource busy",
        "File exists",
        "Invalid cross-device link",
        "No such device",
        "Not a directory",
        "Is a directory",
        "Invalid argument",
        "Too many open files in system",
        "Too many open files",
        "Inappropriate ioctl for device",
        "Text file busy",
        "File too large",
        "No space left on device",
        "Illegal seek",
        "Read-only file system",
        "Too many links",
        "Broken pipe",
        "Numerical argument out of domain",
        "Numerical result out of range",
        "Resource deadlock avoided",
        "File name too long",
        "No locks available",
        "Function not implemented",
        "Directory not empty",
        "Too many levels of symbolic links",
        "No message of desired type",
        "Identifier removed",
        "No data available",
        "Timer expired",
        "Protocol error",
        "Bad message",
        "Value too large for defined data type",
        "File descriptor in bad state",
        "Invalid or incomplete multibyte or wide character",
        "Too many users",
        "Socket operation on non-socket",
        "Destination address required",
        "Message too long",
        "Protocol wrong type for socket",
        "Protocol not available",
        "Protocol not supported",
        "Socket type not supported",
        "Operation not supported",
        "Protocol family not supported",
        "Address family not supported by protocol",
        "Address already in use",
        "Cannot assign requested address",
        "Network is down",
        "Network is unreachable",
        "Network dropped connection on reset",
        "Software caused connection abort",
        "Connection reset by peer",
        "No buffer space available",
        "Transport endpoint is already connected",
        "Transport endpoint is not connected",
        "Cannot send after transport endpoint shutdown",
        "Connection timed out",
        "Connection refused",
        "Host is down",
        "No route to host",
        "Operation already in progress",
        "Operation now in progress",
        "Stale file handle",
        "Remote I/O error",
        "Disk quota exceeded",
        "No medium found",
        "Wrong medium type",
        "Operation canceled",
        "Required key not available",
        "Key has expired",
        "Key has been revoked",
        "Key was rejected by service",
        "Owner died",
        "State not recoverable",
        "Memory page has hardware error",
    )
)
"""glibc's ``strerror`` texts (``os.strerror`` on Linux), lower-cased."""
_TRAILING = ".,;"
"""Punctuation a text may end on in a line (``Connection refused.``): not the text's."""


def is_errno_text(words: list[str]) -> bool:
    """True when ``words`` are one of the C library's error texts, in any case, with at most
    a full stop or comma after it (``Connection refused``, ``connection refused.``)."""
    if not 2 <= len(words) <= 9:
        return False
    return " ".join(words).rstrip(_TRAILING).lower() in _TEXTS


def errno_texts(have: list[str], new: list[str]) -> bool:
    """True when a cluster's text ``have`` (an error text, or the slot ``<*>`` this rule or
    another made there) and a line's text ``new`` may be two values of one slot: ``new`` is
    one of the error texts, and so is ``have`` unless it is the slot already."""
    if not is_errno_text(new):
        return False
    return have == [WILDCARD] or is_errno_text(have)
