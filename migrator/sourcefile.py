"""Source bytes to text and back, keeping the encoding, the BOM and the line endings."""

from __future__ import annotations

import codecs
import re
import tokenize
from collections.abc import Iterator

import msgspec

# A line as CPython's tokenizer ends it: LF, CRLF or a lone CR.
_LINE = re.compile(rb"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+\Z")


class DecodeError(Exception):
    """The bytes are not text in the encoding the file declares."""


class SourceText(msgspec.Struct, frozen=True):
    """A file's text and how to turn it back into the same kind of bytes."""

    text: str
    encoding: str
    bom: bool

    @classmethod
    def decode(cls, raw: bytes) -> SourceText:
        """Decode with the PEP 263 cookie or BOM, as Python itself would."""
        try:
            encoding, _ = tokenize.detect_encoding(_first_lines(raw).__next__)
        except SyntaxError as error:
            raise DecodeError(str(error)) from None
        bom = raw.startswith(codecs.BOM_UTF8)
        body = raw[len(codecs.BOM_UTF8) :] if bom else raw
        codec = "utf-8" if encoding == "utf-8-sig" else encoding
        try:
            text = body.decode(codec)
        except (UnicodeDecodeError, LookupError) as error:
            raise DecodeError(f"not valid {codec}: {error}") from None
        return cls(text, codec, bom)

    def encode(self, text: str) -> bytes:
        """Encode `text` the way the original file was encoded."""
        body = text.encode(self.encoding)
        return codecs.BOM_UTF8 + body if self.bom else body


def _first_lines(raw: bytes) -> Iterator[bytes]:
    """The first two lines of `raw`, then empty ones: all `detect_encoding` reads.

    `tokenize` splits lines at LF only; CPython finds a cookie on a line ended by a lone CR too.
    """
    for count, match in enumerate(_LINE.finditer(raw)):
        if count == 2:
            break
        yield match.group()
    while True:
        yield b""
