"""Where commands write their files: checked before any work, never left half-written."""

from __future__ import annotations

import os
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, NoReturn

import click

EXIT_USAGE = 2


def fail(message: str) -> NoReturn:
    """One line on standard error, exit 2."""
    click.echo(f"error: {message}", err=True)
    sys.exit(EXIT_USAGE)


def stdout_is_terminal() -> bool:
    return sys.stdout.isatty()


def check_output(output: Path | None, *, binary: bool = False) -> None:
    """Fail at once (exit 2) when the output cannot be written: its folder is missing, or a
    binary file (xlsx) would go to a terminal."""
    if output is None:
        if binary and stdout_is_terminal():
            fail(
                "an xlsx workbook cannot be shown in a terminal; "
                "give --output FILE or redirect standard output to a file"
            )
        return
    folder = output.parent
    if not folder.is_dir():
        fail(f"--output {output}: no such folder {str(folder)!r}")
    if output.is_dir():
        fail(f"--output {output}: is a folder")


@contextmanager
def replaced_on_success(output: Path) -> Iterator[Path]:
    """A temporary path beside `output`, moved onto it only when the block succeeds: a
    failure half-way (a database error, a full disk) leaves no truncated file behind. A file
    that cannot be written is one line on standard error, exit 2."""
    try:
        descriptor, name = tempfile.mkstemp(
            dir=output.parent, prefix=f".{output.name}.", suffix=".part"
        )
    except OSError as exc:
        fail(f"--output {output}: cannot write there ({exc.strerror or exc})")
    os.close(descriptor)
    temporary = Path(name)
    try:
        umask = os.umask(0)
        os.umask(umask)
        temporary.chmod(0o666 & ~umask)  # as open() would make it, not mkstemp's 0600
        yield temporary
        os.replace(temporary, output)
    except OSError as exc:
        temporary.unlink(missing_ok=True)
        fail(f"--output {output}: cannot write there ({exc.strerror or exc})")
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise


@contextmanager
def written_atomically(output: Path, *, encoding: str | None = None) -> Iterator[IO]:
    """`replaced_on_success`, opened: text in `encoding`, or binary."""
    with replaced_on_success(output) as temporary:
        if encoding is None:
            handle = temporary.open("wb")
        else:
            handle = temporary.open("w", encoding=encoding, newline="")
        with handle:
            yield handle


def echo_or_write(text: str, output: Path | None) -> None:
    """Text to standard output, or to `output` in UTF-8, whole or not at all."""
    if output is None:
        click.echo(text, nl=False)
        return
    with written_atomically(output, encoding="utf-8") as handle:
        handle.write(text)
