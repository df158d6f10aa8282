"""Upload verification: tell a media container's kind from its first bytes, and check it against the declared type.

Pure functions, no AWS code: the caller fetches at most ``SNIFF_BYTES`` from the start of the object (a ranged
GET) and passes them in. Only magic numbers are read, never the codec payload, so the check is cheap and cannot be
fooled into decoding anything.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

# Every signature below sits in the first few dozen bytes; 4 KiB leaves room for an ID3 tag in front of the audio
# and for the EBML header's DocType, while keeping the ranged read tiny.
SNIFF_BYTES: Final = 4096

# ISO BMFF major brands (bytes 8-12 of the ftyp box) that name something other than plain MP4.
_QUICKTIME_BRANDS: Final = frozenset({b"qt  "})
_M4A_BRANDS: Final = frozenset({b"M4A ", b"M4B "})

_EBML_MAGIC: Final = b"\x1a\x45\xdf\xa3"
_EBML_DOCTYPE_ID: Final = 0x4282

# Which detected kinds each accepted Content-Type may carry. Kept explicit so that widening what an upload may
# claim to be is a visible, reviewed change.
_ACCEPTED_KINDS: Final[Mapping[str, frozenset[str]]] = {
    # M4V and other ISO brands are reported as "mp4": only QuickTime and audio-only brands are told apart.
    "video/mp4": frozenset({"mp4"}),
    # QuickTime players read ISO MP4, and many tools label MP4 output .mov.
    "video/quicktime": frozenset({"quicktime", "mp4"}),
    # WebM is a Matroska profile: an EBML header whose DocType is "webm" is detected as "webm", nothing else is.
    "video/webm": frozenset({"webm"}),
    "video/x-matroska": frozenset({"matroska", "webm"}),
    "audio/mpeg": frozenset({"mp3"}),
    "audio/mp4": frozenset({"m4a", "mp4"}),
    "audio/aac": frozenset({"aac"}),
    "audio/wav": frozenset({"wav"}),
    "audio/ogg": frozenset({"ogg"}),
    "audio/flac": frozenset({"flac"}),
    "audio/webm": frozenset({"webm"}),
}

ALLOWED_CONTENT_TYPES: Final = frozenset(_ACCEPTED_KINDS)


def detect_kind(head: bytes) -> str | None:
    """Return the container kind that ``head`` (the object's first bytes) starts with, or None if unrecognised."""
    head = head[:SNIFF_BYTES]
    if head.startswith(b"ID3"):
        return _after_id3(head)
    if head.startswith(_EBML_MAGIC):
        return _ebml_kind(head)
    if len(head) >= 12 and head[4:8] == b"ftyp":
        return _ftyp_kind(head[8:12])
    if head.startswith(b"RIFF") and head[8:12] == b"WAVE":
        return "wav"
    if head.startswith(b"OggS"):
        return "ogg"
    if head.startswith(b"fLaC"):
        return "flac"
    # ADTS first: its 12-bit sync also satisfies the 11-bit MPEG audio sync, and only the layer bits tell them apart.
    if _is_adts(head):
        return "aac"
    if _is_mpeg_audio_frame(head):
        return "mp3"
    return None


def matches(content_type: str, kind: str | None) -> bool:
    """Whether bytes of ``kind`` may be stored under the declared ``content_type``."""
    # A stored Content-Type may carry parameters ("audio/ogg; codecs=opus") or odd casing; the media type decides.
    media_type = content_type.split(";", 1)[0].strip().lower()
    return kind is not None and kind in _ACCEPTED_KINDS.get(media_type, frozenset())


def _ftyp_kind(major_brand: bytes) -> str:
    if major_brand in _QUICKTIME_BRANDS:
        return "quicktime"
    if major_brand in _M4A_BRANDS:
        return "m4a"
    return "mp4"


def _after_id3(head: bytes) -> str | None:
    """An ID3v2 tag marks MP3, but AAC and FLAC files sometimes carry one too: look past it when it fits."""
    # Header: "ID3", major version 2-4, revision, flags, then a "synchsafe" size (7 bits a byte) of the tag body.
    if len(head) < 10 or not 2 <= head[3] <= 4 or any(b & 0x80 for b in head[6:10]):
        return None
    size = (head[6] << 21) | (head[7] << 14) | (head[8] << 7) | head[9]
    footer = 10 if head[5] & 0x10 else 0
    audio = head[10 + size + footer :]
    if audio.startswith(b"fLaC"):
        return "flac"
    if _is_adts(audio):
        return "aac"
    # Otherwise (MPEG frames, padding, or a tag longer than the head) trust the tag.
    return "mp3"


def _is_adts(head: bytes) -> bool:
    # 0xFFF sync, layer bits 00 (always so in ADTS), and a defined sampling-frequency index (0-12).
    return len(head) >= 4 and head[0] == 0xFF and head[1] & 0xF6 == 0xF0 and (head[2] >> 2) & 0x0F <= 12


def _is_mpeg_audio_frame(head: bytes) -> bool:
    # 11-bit 0xFFE sync (MPEG 2.5 included), then reject the reserved codes so that random 0xFF runs rarely pass.
    if len(head) < 4 or head[0] != 0xFF or head[1] & 0xE0 != 0xE0:
        return False
    version = (head[1] >> 3) & 0x03
    layer = (head[1] >> 1) & 0x03
    bitrate_index = head[2] >> 4
    sample_rate_index = (head[2] >> 2) & 0x03
    return version != 0b01 and layer != 0b00 and bitrate_index != 0x0F and sample_rate_index != 0x03


def _ebml_kind(head: bytes) -> str | None:
    """Read the DocType from the EBML header; a header without a readable one defaults to "matroska"."""
    if len(head) <= len(_EBML_MAGIC):
        return None
    header_size = _read_vint(head, len(_EBML_MAGIC), keep_marker=False)
    if header_size is None:
        return "matroska"
    pos, size = header_size
    end = min(pos + size, len(head))
    while pos < end:
        element_id = _read_vint(head, pos, keep_marker=True)
        if element_id is None:
            break
        pos, ident = element_id
        element_size = _read_vint(head, pos, keep_marker=False)
        if element_size is None:
            break
        pos, length = element_size
        if ident == _EBML_DOCTYPE_ID:
            doctype = head[pos : pos + length].rstrip(b"\x00")
            return "webm" if doctype == b"webm" else "matroska"
        pos += length
    return "matroska"


def _read_vint(data: bytes, pos: int, *, keep_marker: bool) -> tuple[int, int] | None:
    """Decode an EBML variable-length integer at ``pos``: (position after it, value), or None if malformed.

    Element IDs keep their length-marker bit (0x4282 is DocType); sizes drop it.
    """
    if pos >= len(data) or data[pos] == 0:
        return None
    first = data[pos]
    width = 8 - first.bit_length() + 1
    if pos + width > len(data):
        return None
    value = first if keep_marker else first & (0xFF >> width)
    for byte in data[pos + 1 : pos + width]:
        value = (value << 8) | byte
    return pos + width, value
