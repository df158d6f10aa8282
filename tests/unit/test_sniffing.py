from __future__ import annotations

import random
from pathlib import Path

import pytest

from media_platform.sniffing import ALLOWED_CONTENT_TYPES, SNIFF_BYTES, detect_kind, matches

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "media"

# (fixture, kind the bytes must be detected as, Content-Type an honest uploader would declare)
SAMPLES = [
    ("sample.mp4", "mp4", "video/mp4"),
    ("sample.mov", "quicktime", "video/quicktime"),
    ("sample.webm", "webm", "video/webm"),
    ("sample.mkv", "matroska", "video/x-matroska"),
    ("sample.mp3", "mp3", "audio/mpeg"),
    ("sample.m4a", "m4a", "audio/mp4"),
    ("sample.aac", "aac", "audio/aac"),
    ("sample.wav", "wav", "audio/wav"),
    ("sample.ogg", "ogg", "audio/ogg"),
    ("sample.flac", "flac", "audio/flac"),
]


def head_of(name: str) -> bytes:
    """What the upload check sees: at most the first SNIFF_BYTES of the object."""
    with (FIXTURES / name).open("rb") as f:
        return f.read(SNIFF_BYTES)


@pytest.mark.parametrize(("fixture", "kind", "content_type"), SAMPLES)
def test_each_real_sample_is_detected_and_matches_its_declared_type(fixture: str, kind: str, content_type: str) -> None:
    # given the first bytes of a file ffmpeg made
    head = head_of(fixture)

    # when they are sniffed
    detected = detect_kind(head)

    # then the kind is the expected one and the honest declaration is accepted
    assert detected == kind
    assert matches(content_type, detected)


def test_fixtures_are_small() -> None:
    for fixture, _, _ in SAMPLES:
        assert (FIXTURES / fixture).stat().st_size < 20_000, fixture


def test_the_allowed_content_types_are_exactly_the_eleven_media_types() -> None:
    assert (
        frozenset(
            {
                "video/mp4",
                "video/quicktime",
                "video/webm",
                "video/x-matroska",
                "audio/mpeg",
                "audio/mp4",
                "audio/aac",
                "audio/wav",
                "audio/ogg",
                "audio/flac",
                "audio/webm",
            }
        )
        == ALLOWED_CONTENT_TYPES
    )
    assert {content_type for _, _, content_type in SAMPLES} <= ALLOWED_CONTENT_TYPES


def _random_bytes() -> bytes:
    return random.Random(20240601).randbytes(SNIFF_BYTES)


NOT_MEDIA = [
    pytest.param(head_of("not-video.html"), id="html"),
    pytest.param(head_of("not-video.elf"), id="elf"),
    pytest.param(b"", id="empty"),
    pytest.param(_random_bytes(), id="random"),
    pytest.param(head_of("sample.mp4")[:10], id="truncated-ftyp"),
    pytest.param(head_of("sample.webm")[:3], id="truncated-ebml-magic"),
    pytest.param(head_of("sample.webm")[:4], id="bare-ebml-magic"),
    pytest.param(head_of("sample.mp3")[:6], id="truncated-id3"),
    pytest.param(b"\xff\xfb\x90", id="truncated-mpeg-frame"),
    pytest.param(b"RIFF\x24\x00\x00\x00AVI LIST", id="riff-but-avi"),
]


@pytest.mark.parametrize("head", NOT_MEDIA)
def test_non_media_and_truncated_heads_are_not_recognised(head: bytes) -> None:
    # given bytes that are not (or not enough of) a media container
    # when they are sniffed
    kind = detect_kind(head)

    # then nothing is recognised, so no declared type can match
    assert kind is None
    assert not any(matches(content_type, kind) for content_type in ALLOWED_CONTENT_TYPES)


@pytest.mark.parametrize(
    ("fixture", "declared"),
    [
        ("sample.mp3", "video/mp4"),
        ("sample.webm", "video/mp4"),
        ("sample.mkv", "video/webm"),
        ("sample.mkv", "audio/webm"),
        ("sample.mov", "video/mp4"),
        ("sample.m4a", "video/mp4"),
        ("sample.aac", "audio/mpeg"),
        ("sample.mp3", "audio/aac"),
        ("sample.wav", "audio/ogg"),
        ("sample.flac", "audio/wav"),
        ("sample.ogg", "audio/flac"),
        ("sample.mp4", "audio/mpeg"),
        ("sample.mp4", "text/html"),
        ("not-video.html", "video/mp4"),
    ],
)
def test_a_mismatched_declaration_does_not_match(fixture: str, declared: str) -> None:
    # given real bytes of one kind
    kind = detect_kind(head_of(fixture))

    # when they are declared as a type that does not carry that kind
    # then the declaration is refused
    assert not matches(declared, kind)


@pytest.mark.parametrize(
    ("declared", "kind"),
    [
        ("video/quicktime", "mp4"),
        ("video/x-matroska", "webm"),
        ("audio/mp4", "mp4"),
        ("audio/webm", "webm"),
        ("video/mp4; codecs=avc1.42E01E", "mp4"),
        ("Audio/Ogg", "ogg"),
    ],
)
def test_compatible_declarations_match(declared: str, kind: str) -> None:
    assert matches(declared, kind)


def test_an_unknown_declared_type_never_matches() -> None:
    assert not matches("application/octet-stream", "mp4")
    assert not matches("", "mp4")


@pytest.mark.parametrize(
    ("header", "kind"),
    [
        # FF FB: 0xFFF sync, MPEG-1, layer III (01), no CRC; 90: 128 kb/s, 44.1 kHz
        pytest.param(b"\xff\xfb\x90\x64", "mp3", id="mpeg1-layer3"),
        # FF F3: MPEG-2 layer III
        pytest.param(b"\xff\xf3\x48\xc4", "mp3", id="mpeg2-layer3"),
        # FF E3: only the 11-bit 0xFFE sync (MPEG-2.5), layer III
        pytest.param(b"\xff\xe3\x48\xc0", "mp3", id="mpeg2.5-layer3"),
        # FF FD: MPEG-1 layer II
        pytest.param(b"\xff\xfd\x90\x64", "mp3", id="mpeg1-layer2"),
        # FF F1: 0xFFF sync, MPEG-4 ADTS, layer 00, no CRC; 50: AAC-LC, 44.1 kHz
        pytest.param(b"\xff\xf1\x50\x80", "aac", id="adts-mpeg4"),
        # FF F9: MPEG-2 ADTS, layer 00
        pytest.param(b"\xff\xf9\x50\x80", "aac", id="adts-mpeg2"),
        # FF F0: ADTS with a CRC (protection_absent = 0)
        pytest.param(b"\xff\xf0\x50\x80", "aac", id="adts-with-crc"),
        # FF E1: 0xFFE sync with layer 00 but not the full 0xFFF: neither ADTS nor valid MPEG audio
        pytest.param(b"\xff\xe1\x90\x64", None, id="layer-00-without-fff"),
        # FF EB: version bits 01 are reserved
        pytest.param(b"\xff\xeb\x90\x64", None, id="reserved-version"),
        # bitrate index 1111 is forbidden
        pytest.param(b"\xff\xfb\xf0\x64", None, id="bad-bitrate"),
        # sampling-rate index 11 is reserved
        pytest.param(b"\xff\xfb\x9c\x64", None, id="reserved-sample-rate"),
        # ADTS sampling-frequency index 15 is invalid
        pytest.param(b"\xff\xf1\x7c\x80", None, id="adts-bad-frequency"),
        # no sync at all
        pytest.param(b"\xff\x00\x00\x00", None, id="no-sync"),
    ],
)
def test_frame_sync_tells_adts_from_mpeg_audio_by_the_layer_bits(header: bytes, kind: str | None) -> None:
    # given a hand-made 4-byte frame header
    # when it is sniffed
    # then layer 00 with a 0xFFF sync is ADTS, any other valid layer is MPEG audio
    assert detect_kind(header) == kind


def test_mp3_frames_without_an_id3_tag_are_still_mp3() -> None:
    # given the real sample with its ID3v2 tag (10-byte header plus its synchsafe size) cut off
    head = head_of("sample.mp3")
    tag_size = 10 + ((head[6] << 21) | (head[7] << 14) | (head[8] << 7) | head[9])

    # when the bare frames are sniffed
    # then the frame sync alone identifies MPEG audio
    assert detect_kind(head[tag_size:]) == "mp3"
    assert matches("audio/mpeg", detect_kind(head[tag_size:]))


ID3_EMPTY = b"ID3\x04\x00\x00\x00\x00\x00\x00"


@pytest.mark.parametrize(
    ("fixture", "kind"),
    [("sample.flac", "flac"), ("sample.aac", "aac")],
)
def test_an_id3_tag_in_front_of_flac_or_adts_does_not_hide_them(fixture: str, kind: str) -> None:
    # given an empty ID3v2 tag prepended to another audio format, as some taggers do
    head = ID3_EMPTY + head_of(fixture)

    # when sniffed, then the audio behind the tag decides
    assert detect_kind(head) == kind


def test_an_id3_tag_that_fills_the_whole_head_still_means_mp3() -> None:
    # given a tag (size 0x1000 > what is read) whose end lies past the sniffed bytes
    head = b"ID3\x03\x00\x00\x00\x00\x20\x00" + b"\x00" * 100

    assert detect_kind(head) == "mp3"


def test_a_malformed_id3_header_is_not_trusted() -> None:
    # given "ID3" followed by a size byte with its high bit set, which synchsafe integers never have
    assert detect_kind(b"ID3\x04\x00\x00\x80\x00\x00\x00" + b"\x00" * 20) is None


@pytest.mark.parametrize(
    ("brand", "kind"),
    [
        (b"isom", "mp4"),
        (b"mp42", "mp4"),
        (b"M4V ", "mp4"),
        (b"qt  ", "quicktime"),
        (b"M4A ", "m4a"),
        (b"M4B ", "m4a"),
    ],
)
def test_the_ftyp_major_brand_decides_between_mp4_quicktime_and_m4a(brand: bytes, kind: str) -> None:
    # given a minimal ftyp box: size, "ftyp", major brand, minor version
    head = b"\x00\x00\x00\x10ftyp" + brand + b"\x00\x00\x02\x00"

    assert detect_kind(head) == kind


def _ebml_header(doctype: bytes | None) -> bytes:
    # EBMLVersion = 1, then DocType (ID 0x4282) if given; sizes are one-byte vints (0x80 | n)
    body = b"\x42\x86\x81\x01"
    if doctype is not None:
        body += b"\x42\x82" + bytes([0x80 | len(doctype)]) + doctype
    return b"\x1a\x45\xdf\xa3" + bytes([0x80 | len(body)]) + body


@pytest.mark.parametrize(
    ("doctype", "kind"),
    [(b"webm", "webm"), (b"matroska", "matroska"), (None, "matroska"), (b"webm\x00", "webm"), (b"other", "matroska")],
)
def test_the_ebml_doctype_decides_between_webm_and_matroska(doctype: bytes | None, kind: str) -> None:
    assert detect_kind(_ebml_header(doctype)) == kind


def test_a_webm_doctype_is_what_video_webm_requires() -> None:
    # given the same EBML container labelled matroska and labelled webm
    matroska, webm = detect_kind(_ebml_header(b"matroska")), detect_kind(_ebml_header(b"webm"))

    # then video/webm accepts only the webm-labelled one, video/x-matroska both
    assert not matches("video/webm", matroska)
    assert matches("video/webm", webm)
    assert matches("video/x-matroska", matroska)
    assert matches("video/x-matroska", webm)


def test_only_the_first_sniff_bytes_are_considered() -> None:
    # given a signature that starts past the sniffing window
    head = b"\x00" * SNIFF_BYTES + b"fLaC"

    assert detect_kind(head) is None
