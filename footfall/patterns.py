"""Patterns a site's owner writes, run by RE2: in time linear in the text they search.

A site's article rule (`article_pattern`, a regex) and its excluded paths (globs)
are matched against the URL of every event, and of every counters call that
names a page. Python's `re` backtracks: `(a+)+b` takes seconds on a URL of 30
`a`s, and the event loop, every site's, waits. RE2 never backtracks; in return
it has no backreferences (`\\1`) nor lookarounds (`(?=`, `(?<!`), and writes
Python's `\\Z` as `\\z`. A pattern it cannot compile is an `InvalidPattern`,
which says why.
"""

from __future__ import annotations

import re2

Pattern = re2._Regexp
"""A compiled RE2 pattern: `search`, `fullmatch`, `groupindex` as `re`'s."""

_OPTIONS = re2.Options()
_OPTIONS.log_errors = False  # the reason is in the exception; RE2 would print it too


class InvalidPattern(ValueError):
    """A pattern RE2 cannot compile; the message is RE2's reason."""


def compile_pattern(pattern: str) -> Pattern:
    try:
        return re2.compile(pattern, _OPTIONS)
    except re2.error as e:
        reason = e.args[0] if e.args else ""
        if isinstance(reason, bytes):  # RE2's own message, in UTF-8
            reason = reason.decode(errors="replace")
        raise InvalidPattern(str(reason)) from None


def compile_glob(glob: str) -> Pattern:
    """A path glob as `fnmatch.fnmatchcase` reads it (`*` anything, `/` too; `?` one
    character; `[seq]`, `[!seq]` one of, or none of, the characters), for `fullmatch`."""
    return compile_pattern(f"(?s:{_glob_regex(glob)})")


def _glob_regex(glob: str) -> str:
    parts = []
    i = 0
    while i < len(glob):
        c = glob[i]
        i += 1
        if c == "*":
            parts.append(".*")
        elif c == "?":
            parts.append(".")
        elif c == "[" and (end := _class_end(glob, i)) > 0:
            parts.append(_class(glob[i:end]))
            i = end + 1
        else:
            parts.append(re2.escape(c))
    return "".join(parts)


def _class_end(glob: str, start: int) -> int:
    """Where the `]` that closes a class opened before `start` is (-1: none, and the `[`
    is a character), as fnmatch finds it: a `]` right after `[` or `[!` is a member."""
    j = start + (glob[start : start + 1] == "!")
    j += glob[j : j + 1] == "]"
    return glob.find("]", j)


def _class(members: str) -> str:
    negated = members.startswith("!")
    members = members[1:] if negated else members
    items = []
    k = 0
    while k < len(members):
        if k + 2 < len(members) and members[k + 1] == "-":
            low, high = members[k], members[k + 2]
            if low <= high:  # fnmatch drops a reversed range: it matches nothing
                items.append(f"{_member(low)}-{_member(high)}")
            k += 3
        else:
            items.append(_member(members[k]))
            k += 1
    if not items:
        return "." if negated else "[^\\x00-\\x{10FFFF}]"  # any character; none
    return f"[{'^' if negated else ''}{''.join(items)}]"


def _member(c: str) -> str:
    return c if c.isalnum() else f"\\x{{{ord(c):x}}}"
