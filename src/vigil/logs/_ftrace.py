"""The kernel tracer's record prefix: ``TASK-PID [CPU] [FLAGS] TIMESTAMP:`` before an event.

Every ftrace consumer prints it: ``/sys/kernel/tracing/trace`` and ``trace_pipe``, ``trace-cmd
report``, ``perf script``'s default output, and daemons that relay trace events into their
own log (rasdaemon's ``<...>-1338  [012]     0.001225: mc_event: ...``). The task is the
command name and its pid (``<idle>-0``, ``kworker/3:1-212``, ``<...>-1338`` when the name is
not known), optionally the thread group in parentheses (``(  1338)``, ``(-------)``), the CPU in
square brackets (three digits or more), then the irq/preempt flags when the tracer writes them
(``d..1``, ``dNh2.``, four or five characters) and the time in seconds with its microseconds,
closed by a colon: a context and a time before the message, header as the kernel's
``[uptime]`` is; the event's name after it (``mc_event:``, ``sched_switch:``) is the message's.

Called by :func:`vigil.logs._detect.detect_header` for a line that opens with the prefix and by
:func:`vigil.logs._program.program_level` after a syslog program. Pure.
"""

from __future__ import annotations

import re

_PREFIX = re.compile(
    r" *[^\s\[\]]*-\d+ +(?:\( *(?:\d+|-+)\) +)?\[\d{3,}\] +"
    r"(?:(?=\S*[.\d])[.dDXnNpbhHsSzZ\d]{4,5} +)?\d+\.\d{6,9}: +(?=\S)"
)
"""The prefix at a position: the task and its pid, the thread group, the CPU, the flags (their
letters and dots or digits: irqs off, need-resched, hard/soft irq, preempt depth) and the time
with microseconds (``%5lu.%06lu``, the tracer's and ``perf script``'s format; nine digits with
``perf script --ns``)."""


def ftrace_end(line: str, start: int = 0) -> int:
    """Where the message starts when ``line`` holds a trace record prefix at ``start`` (past
    the spaces after its time's colon); 0 when it does not."""
    found = _PREFIX.match(line, start)
    return found.end() if found is not None else 0
