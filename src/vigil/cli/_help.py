"""``--help`` without typer's type column where it says nothing: on/off flags (``--metrics /
--no-metrics``, ``--help``) showed ``<bool>``, and a repeatable option ``<list[str]>``.

typer (0.29) prints, in its rich help, each option's ``display_type_rich``: the option's
``metavar`` when one is set, else ``<type>`` made from the annotation, flags included. No typer
or click setting turns that off for a whole CLI (``rich_markup_mode=None`` drops the panels,
``show_default`` is another column, and typer's options take no ``cls``); a command class can:
:class:`UntypedFlags` gives each flag an empty metavar when the help is built (the type of an
option that takes a value stays, and an option's own ``metavar=`` wins, as ``--log``'s).
:func:`untype_flags` sets it as the class of every command and group of a typer app; the
``vigil`` app (:mod:`vigil.cli._app`) calls it once its commands are registered.
"""

from __future__ import annotations

from typing import Any

import typer
from typer.core import TyperCommand, TyperGroup, TyperOption
from typer.models import DefaultPlaceholder


class UntypedFlags:
    """Mixed into typer's command classes: flags show no type in ``--help``."""

    def get_params(self, ctx: Any) -> list[Any]:
        params: list[Any] = super().get_params(ctx)  # type: ignore[misc]
        for param in params:
            if isinstance(param, TyperOption) and param.is_flag and param.metavar is None:
                param.metavar = ""  # rich help prints the metavar in the type column
        return params


class UntypedCommand(UntypedFlags, TyperCommand):
    """A typer command whose flags show no type."""


class UntypedGroup(UntypedFlags, TyperGroup):
    """A typer group whose flags show no type."""


def _plain(cls: object) -> bool:
    """Whether ``cls`` is typer's own choice (unset, a default placeholder, or the class
    typer fills in), not a class the command named."""
    return cls is None or isinstance(cls, DefaultPlaceholder) or cls in (TyperCommand, TyperGroup)


def untype_flags(app: typer.Typer) -> None:
    """Make every command and group of ``app`` (sub-apps included) an untyped-flags one, unless
    it names a class of its own. Call after the commands are registered."""
    if _plain(app.info.cls):
        app.info.cls = UntypedGroup
    for command in app.registered_commands:
        if _plain(command.cls):
            command.cls = UntypedCommand
    for group in app.registered_groups:
        if _plain(group.cls):
            group.cls = UntypedGroup
        if group.typer_instance is not None:
            untype_flags(group.typer_instance)
