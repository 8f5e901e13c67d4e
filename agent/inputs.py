"""Reading what comes from outside: JSON text with one nesting bound, and files.

Every place that decodes JSON text it did not write (a request or error body, a stream event,
a relay's wrapper, a body file, a value in a shared store) decodes it here, so one bound holds
everywhere: ``MAX_DEPTH`` levels of arrays and objects. Deeper text is refused like any text
that is no JSON (a ``ValueError``), never a ``RecursionError`` from wherever the stack happened
to be. Every file a path names is read by ``read_file``: only a regular file, and only up to a
size, so a FIFO, a device or a folder gets a one-line refusal instead of a hang or a read that
never ends.
"""

from __future__ import annotations

import json
import os
import stat
from collections.abc import Callable
from typing import Any

from agent.errors import UnreadableFile

#: The deepest nesting of arrays and objects decoded. Real bodies nest about twenty levels; the
#: bound keeps every decoded value, and any later walk or re-encoding of it, far from Python's
#: recursion limit (1000 frames).
MAX_DEPTH = 128

#: The one refusal of anything nested deeper.
TOO_DEEP = f"nested too deeply (more than {MAX_DEPTH} levels)"
_DECODER = json.JSONDecoder()


def too_deep(value: object, limit: int = MAX_DEPTH) -> bool:
    """Whether ``value`` nests lists and dicts more than ``limit`` levels deep (a value that
    holds itself does), found level by level."""
    level = [value] if type(value) is dict or type(value) is list else []
    for _ in range(limit):
        level = [
            child
            for item in level
            for child in (item.values() if type(item) is dict else item)
            if type(child) is dict or type(child) is list
        ]
        if not level:
            return False
    return bool(level)


#: Up to this many characters, the text's brackets are counted before any walk: fewer opening
#: brackets than levels cannot nest that deep (a small answer, observed after every call).
_COUNTED = 4096


def _checked(value: Any, text: str | bytes, size: int) -> Any:
    # a text shorter than two characters per level cannot hold that many: no walk (stream
    # events); a small one with fewer opening brackets than levels neither (small answers)
    if size <= 2 * MAX_DEPTH:
        return value
    if size <= _COUNTED:
        if isinstance(text, str):
            openers = text.count("[") + text.count("{")
        else:
            openers = text.count(b"[") + text.count(b"{")
        if openers <= MAX_DEPTH:
            return value
    if too_deep(value):
        raise ValueError(TOO_DEEP)
    return value


def loads(text: str | bytes, *, parse_constant: Callable[[str], Any] | None = None) -> Any:
    """``json.loads`` with the nesting bound: ValueError for what is no JSON or nests deeper
    than ``MAX_DEPTH``. Bytes go through msgspec's decoder where it is installed (the gateway
    extra; about twice as fast on an agent's history), the same value; what it refuses and
    the standard library reads (``NaN``, a lone surrogate escape, another encoding) is read by
    the standard library, as before."""
    if parse_constant is None and not isinstance(text, str):
        return read_bytes(text)[0]
    try:
        value = json.loads(text, parse_constant=parse_constant)
    except RecursionError:
        raise ValueError(TOO_DEEP) from None
    return _checked(value, text, len(text))


def read_bytes(raw: bytes) -> tuple[Any, bool]:
    """``loads`` of bytes, and whether the value is one only the standard library writes back
    as it was (``dumps(value, exotic=True)``): it read it, so it may hold ``NaN``."""
    if _FAST is not None:
        try:
            value = _FAST(raw)
        except (_FAST_ERROR, RecursionError):
            pass
        else:
            return _checked(value, raw, len(raw)), False
    try:
        value = json.loads(raw)
    except RecursionError:
        raise ValueError(TOO_DEEP) from None
    return _checked(value, raw, len(raw)), True


def dumps(value: Any, exotic: bool = False) -> bytes:
    """JSON bytes of a body the pipeline changed (compact, UTF-8): msgspec's encoder where
    installed, else the standard library's, which also writes what only it can (a lone
    surrogate, as an escape; ``NaN`` and ``Infinity``, which msgspec would write as null:
    ``exotic`` says the body may hold them, as a body only the standard library read does)."""
    if _FAST_ENCODE is not None and not exotic:
        try:
            return bytes(_FAST_ENCODE(value))
        except (TypeError, ValueError, OverflowError):  # (UnicodeEncodeError is a ValueError)
            pass
    try:
        return json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode()
    except UnicodeEncodeError:
        return json.dumps(value, separators=(",", ":")).encode()


def _fast() -> tuple[Any, Any, type[Exception]]:
    try:
        import msgspec  # the gateway extra: JSON in C, without building what it skips
    except ImportError:
        return None, None, ValueError
    return msgspec.json.Decoder().decode, msgspec.json.Encoder().encode, msgspec.DecodeError


_FAST, _FAST_ENCODE, _FAST_ERROR = _fast()


def decode_at(text: str, start: int) -> tuple[Any, int]:
    """The JSON value that starts at ``text[start]`` and where it ends (``raw_decode``), with
    the nesting bound: ValueError otherwise."""
    try:
        value, end = _DECODER.raw_decode(text, start)
    except RecursionError:
        raise ValueError(TOO_DEEP) from None
    span = end - start
    return _checked(value, text[start:end] if span <= _COUNTED else "", span), end


_KINDS = {
    stat.S_IFDIR: "a directory",
    stat.S_IFIFO: "a FIFO",
    stat.S_IFCHR: "a character device",
    stat.S_IFBLK: "a block device",
    stat.S_IFSOCK: "a socket",
}


def read_file(path: str | os.PathLike[str], limit: int) -> bytes:
    """The bytes of the regular file at ``path``, at most ``limit`` of them.

    Raises UnreadableFile saying why not: it is no regular file (a directory, FIFO, device or
    socket: opened without waiting, so a FIFO without a writer does not hang), it is larger
    than ``limit``, or the system refused (the reason in words).
    """
    name = os.fspath(path)
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0)
    try:
        fd = os.open(name, flags)
    except OSError as exc:
        raise UnreadableFile(name, f"cannot read: {exc.strerror or exc}") from None
    try:
        mode = os.fstat(fd).st_mode
        if not stat.S_ISREG(mode):
            kind = _KINDS.get(stat.S_IFMT(mode), "a special file")
            raise UnreadableFile(name, f"not a regular file ({kind})")
        with os.fdopen(fd, "rb", closefd=False) as file:
            data = file.read(limit + 1)
    except OSError as exc:
        raise UnreadableFile(name, f"cannot read: {exc.strerror or exc}") from None
    finally:
        os.close(fd)
    if len(data) > limit:
        raise UnreadableFile(name, f"larger than {_size(limit)}")
    return data


def _size(limit: int) -> str:
    return f"{limit // 1_000_000} MB" if limit >= 1_000_000 else f"{limit} bytes"
