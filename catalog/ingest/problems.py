"""Problems found in an ingest file, each pinned to its line, and the error that carries them.

An ingest does not stop at the first bad line: it collects every problem (up to
``MAX_PROBLEMS``) so a steward can fix a file in one pass, then refuses the whole file.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from pydantic import ValidationError

MAX_PROBLEMS = 1000
WHOLE_FILE = 0
"""The line number of problems that concern the file as a whole (its format, its options)."""


@dataclass(frozen=True, order=True)
class Problem:
    line: int
    message: str


class IngestFailed(Exception):
    """The file was refused and nothing of it was written."""

    def __init__(self, problems: Sequence[Problem], *, truncated: bool = False) -> None:
        self.problems = sorted(problems)
        self.truncated = truncated
        first = self.problems[0]
        more = f" (and {len(self.problems) - 1} more)" if len(self.problems) > 1 else ""
        super().__init__(f"line {first.line}: {first.message}{more}")


class Problems:
    """The problems of one ingest. Reaching ``limit`` raises at once: a longer list would not
    help anyone, and reading on would only cost time."""

    def __init__(self, limit: int = MAX_PROBLEMS) -> None:
        self._found: list[Problem] = []
        self._limit = limit

    def __len__(self) -> int:
        return len(self._found)

    def add(self, line: int, message: str) -> None:
        self._found.append(Problem(line, message))
        if len(self._found) >= self._limit:
            raise IngestFailed(self._found, truncated=True)

    def raise_if_any(self) -> None:
        if self._found:
            raise IngestFailed(self._found)


def field_path(loc: Iterable[str | int]) -> str:
    """``('checksums', 0, 'type')`` as ``checksums[0].type``."""
    path = ""
    for part in loc:
        if isinstance(part, int):
            path += f"[{part}]"
        elif not part.startswith(("function-", "literal[")):
            path += f".{part}" if path else part
    return path


_SHOW_INPUT = ("missing", "value_error", "extra_forbidden", "model_type", "dict_type")


def validation_messages(
    error: ValidationError,
    *,
    skip: int = 0,
    rename: Callable[[str], str] | None = None,
) -> list[str]:
    """One "path: what is wrong" message per pydantic error. ``skip`` drops leading location
    parts (a tagged union's tag); ``rename`` maps paths to the file's own names (CSV columns)."""
    messages = []
    for item in error.errors(include_url=False):
        if item["type"] == "union_tag_not_found":
            messages.append("type: required; one of 'dataset', 'file', 'bundle'")
            continue
        if item["type"] == "union_tag_invalid":
            tag = item["input"].get("type") if isinstance(item["input"], dict) else None
            messages.append(f"type: {tag!r} is not one of 'dataset', 'file', 'bundle'")
            continue
        path = field_path(item["loc"][skip:])
        if rename is not None:
            path = rename(path)
        message = item["msg"].removeprefix("Value error, ")
        value = item.get("input")
        if item["type"] not in _SHOW_INPUT and isinstance(value, str | int | float | bool):
            shown = repr(value)
            message += f" (got {shown[:60]}{'...' if len(shown) > 60 else ''})"
        messages.append(f"{path}: {message}" if path else message)
    return messages
