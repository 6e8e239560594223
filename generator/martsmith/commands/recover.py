"""`martsmith recover`: undo a martsmith run that was interrupted (killed, out of memory, power
loss) from the journal it left in target/."""

from __future__ import annotations

import click

from martsmith.commands.options import format_option, project_options
from martsmith.commands.output import emit_json


@click.command()
@format_option
@project_options
def recover(output_format, project) -> None:
    """Roll back a martsmith run that was interrupted, from its journal.

    A run that writes records in target/martsmith_journal.json what it is about to change; a
    run that dies midway leaves that journal behind. This restores the files it touched byte
    for byte, removes the folders it created, drops the relations it created and puts back the
    ones it replaced. Every martsmith command does this first on its own; this command does it
    explicitly (waiting for a run still in progress), and says so when there is nothing to do.

    \b
    Examples:
      martsmith recover
      martsmith recover --project-dir shop --format json
    """
    # Imported when the command runs: the write package (Jinja, YAML) stays off --help.
    from martsmith.write.journal import recover_journal

    proj = project(writes=True, recover=False)
    recovery = recover_journal(proj)
    if output_format == "json":
        emit_json({"recovered": recovery is not None, **(recovery.as_dict() if recovery else {})})
        return
    if recovery is None:
        click.echo("Nothing to recover: no interrupted martsmith run in this project.")
        return
    click.echo(recovery.summary())
    for label, items in (
        ("files", recovery.files),
        ("folders removed", recovery.dirs),
        ("relations dropped", recovery.dropped),
        ("relations put back", recovery.restored),
    ):
        if items:
            click.echo(f"  {label}: " + ", ".join(items))
