"""Source bytes to text and back, keeping the encoding, the BOM and the line endings."""

from __future__ import annotations

import codecs
import dataclasses
import io
import tokenize


class DecodeError(Exception):
    """The bytes are not text in the encoding the file declares."""


@dataclasses.dataclass(frozen=True)
class SourceText:
    """A file's text and how to turn it back into the same kind of bytes."""

    text: str
    encoding: str
    bom: bool

    @classmethod
    def decode(cls, raw: bytes) -> SourceText:
        """Decode with the PEP 263 cookie or BOM, as Python itself would."""
        try:
            encoding, _ = tokenize.detect_encoding(io.BytesIO(raw).readline)
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
