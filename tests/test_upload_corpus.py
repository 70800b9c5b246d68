"""The upload corpus: hostile and broken files made here (Pillow, PyAV, pikepdf, bytes by hand)
and good files of every accepted type. Every bad one is refused with its reason and leaves no
row and no file; every good one is accepted; on local storage and on the SharePoint path, where
the request stages the file for the worker (the check comes before anything is staged)."""

from __future__ import annotations

import io
import struct
import subprocess
import sys
import time
from functools import cache
from pathlib import Path

import av
import pikepdf
import pytest
import sqlalchemy as sa
from pikepdf import Array, Dictionary, Name, String
from PIL import Image

from app.extensions import db
from app.media import inspection, video_probe
from app.media.sniff import TYPES, Refused
from app.models import MediaAsset
from app.models.media import MediaTransfer
from tests.graph_support import graph, sharepoint  # noqa: F401
from tests.media_support import (
    EN,
    editor,  # noqa: F401 (a fixture)
    image,
    media_root,  # noqa: F401 (a fixture)
    noisy_jpeg,
    pdf,
    stored_files,
    upload,
    upload_headers,
    video,
)

HTML = b"<!DOCTYPE html><html><body><script>alert(document.cookie)</script></body></html>\n"
SVG = b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"><script>alert(2)</script></svg>'
PHP = b"<?php system($_GET['c']); ?>"


# -- Makers ----------------------------------------------------------------------------------


@cache
def jpeg() -> bytes:
    return noisy_jpeg((200, 150))


@cache
def heic() -> bytes:
    return image("HEIF", size=(120, 80))


@cache
def mp4() -> bytes:
    return video("mp4", "libx264", frames=30)


@cache
def webm() -> bytes:
    return video("webm", "libvpx", frames=24)


def frames(count=5, size=(40, 30)):
    return [Image.new("RGB", size, (i * 40 % 255, 90, 160)) for i in range(count)]


def saved(picture: Image.Image, fmt: str, **kwargs) -> bytes:
    out = io.BytesIO()
    picture.save(out, fmt, **kwargs)
    return out.getvalue()


def animated(fmt: str) -> bytes:
    first, *rest = frames()
    return saved(first, fmt, save_all=True, append_images=rest)


def mpo(cut: int = 0) -> bytes:
    """A two-picture JPEG (stereo cameras, some phones), whole or with its last bytes cut."""
    data = saved(
        Image.new("RGB", (64, 48), (1, 2, 3)),
        "MPO",
        save_all=True,
        append_images=[Image.new("RGB", (64, 48), (200, 2, 3))],
    )
    return data[: len(data) - cut]


def samsung_trailer(*blocks: tuple[int, bytes, bytes]) -> bytes:
    """Galaxy phones' SEF trailer, laid out as ExifTool reads it (Samsung.pm, ProcessSamsung)."""
    out, entries = b"", []
    for kind, name, payload in blocks:
        block = b"\0\0" + struct.pack("<HI", kind, len(name)) + name + payload
        entries.append((kind, len(out), len(block)))
        out += block
    directory = (
        b"SEFH"
        + struct.pack("<II", 106, len(entries))
        + b"".join(b"\0\0" + struct.pack("<HII", kind, len(out) - at, size) for kind, at, size in entries)
    )
    return out + directory + struct.pack("<I", len(directory)) + b"SEFT"


SAMSUNG_TIME = (0x0A01, b"Image_UTC_Data", b"1780000000000")


def motion_photo(declared: int, tail: bytes) -> bytes:
    """A JPEG whose XMP declares a motion photo's video of `declared` bytes, then `tail`."""
    xmp = (
        b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF><rdf:Description GCamera:MotionPhoto="1" '
        b'GCamera:MicroVideoOffset="%d"/></rdf:RDF></x:xmpmeta>' % declared
    )
    segment = b"http://ns.adobe.com/xap/1.0/\0" + xmp
    picture = noisy_jpeg((64, 64))
    return picture[:2] + b"\xff\xe1" + struct.pack(">H", 2 + len(segment)) + segment + picture[2:] + tail


def audio_only(container: str, codec: str) -> bytes:
    out = io.BytesIO()
    with av.open(out, "w", format=container) as output:
        stream = output.add_stream(codec, rate=48000)
        for i in range(20):
            frame = av.AudioFrame(format="fltp", layout="mono", samples=1024)
            for plane in frame.planes:
                plane.update(bytes(plane.buffer_size))
            frame.sample_rate, frame.pts = 48000, i * 1024
            for packet in stream.encode(frame):
                output.mux(packet)
        for packet in stream.encode():
            output.mux(packet)
    return out.getvalue()


def zeroed_pictures() -> bytes:
    """A well-formed MP4 whose coded pictures are all zeros: it demuxes, nothing decodes."""
    data = bytearray(mp4())
    at = data.find(b"mdat")
    size = int.from_bytes(data[at - 4 : at], "big")
    data[at + 4 : at - 4 + size] = bytes(size - 8)
    return bytes(data)


def a_pdf(pages: int = 1) -> pikepdf.Pdf:
    document = pikepdf.new()
    for _ in range(pages):
        document.add_blank_page(page_size=(595, 842))
    return document


def pdf_bytes(document: pikepdf.Pdf, **save) -> bytes:
    out = io.BytesIO()
    document.save(out, **save)
    return out.getvalue()


def js_action(code: str = "app.alert(1)") -> Dictionary:
    return Dictionary(Type=Name.Action, S=Name.JavaScript, JS=String(code))


def pdf_with(change, **save) -> bytes:
    document = a_pdf(2)
    change(document)
    return pdf_bytes(document, **save)


def open_action_js(document):
    document.Root.OpenAction = document.make_indirect(js_action())


def javascript_name_tree(document):
    document.Root.Names = Dictionary(
        JavaScript=Dictionary(Names=Array([String("init"), document.make_indirect(js_action())]))
    )


def link(document, action: Dictionary):
    annotation = Dictionary(Type=Name.Annot, Subtype=Name.Link, Rect=[0, 0, 100, 100], A=action)
    document.pages[0].Annots = document.make_indirect(Array([document.make_indirect(annotation)]))


def launch_link(document):
    link(document, Dictionary(S=Name.Launch, F=String("cmd.exe"), Win=Dictionary(F=String("cmd.exe"))))


def page_additional_actions(document):
    document.pages[0].AA = Dictionary(O=Dictionary(S=Name.GoTo, D=Array([document.pages[1].obj, Name.Fit])))


def field_script(document):
    field = document.make_indirect(
        Dictionary(
            FT=Name.Tx,
            T=String("amount"),
            Rect=[0, 0, 50, 20],
            Subtype=Name.Widget,
            AA=Dictionary(K=js_action("AFNumber_Keystroke()")),
        )
    )
    document.Root.AcroForm = Dictionary(Fields=Array([field]))


def embedded_file(document):
    document.attachments["invoice.exe"] = pikepdf.AttachedFileSpec(
        document, b"MZ\x90\x00", mime_type="application/x-msdownload"
    )


def xfa_form(document):
    document.Root.AcroForm = Dictionary(Fields=Array([]), XFA=document.make_stream(b"<xdp:xdp><script/></xdp:xdp>"))


def embedded_goto(document):
    document.Root.OpenAction = Dictionary(S=Name.GoToE, T=Dictionary(R=Name.C, N=String("invoice.pdf")))


def js_named_with_escapes() -> bytes:
    """`/J#61vaScript` and `/J#53` are the same names as `/JavaScript` and `/JS` (§7.3.5)."""
    data = pdf_with(open_action_js)
    return data.replace(b"/JavaScript", b"/J#61vaScript").replace(b"/JS ", b"/J#53 ")


def links_and_goto(document):  # what a brochure has: web links and "open at page 2"
    document.Root.OpenAction = Array([document.pages[1].obj, Name.Fit])
    link(document, Dictionary(S=Name.URI, URI=String("https://example.org/salon")))


def password_protected() -> bytes:
    return pdf_bytes(a_pdf(), encryption=pikepdf.Encryption(user="secret", owner="owner"))


def copy_protected() -> bytes:  # opens with the empty password, like most "protected" brochures
    return pdf_bytes(
        a_pdf(), encryption=pikepdf.Encryption(user="", owner="owner", allow=pikepdf.Permissions(extract=False))
    )


# -- The corpus ------------------------------------------------------------------------------


def damaged(label):
    return f"The {label} file is damaged or incomplete: it cannot be read to the end."


def trailing(label):
    return f"Other data follows the end of the {label} content: files that can hide other content are refused."


SCRIPT = "The PDF contains JavaScript: documents with scripts are refused."
LAUNCH = "The PDF contains an action that starts a program or opens another file: such documents are refused."
AUTOMATIC = (
    "The PDF contains actions that run by themselves (when a page opens or a field is used): "
    "such documents are refused."
)

BAD = {
    "truncated.jpg": (lambda: jpeg()[: len(jpeg()) // 2], damaged("JPEG")),
    "no-end-marker.jpg": (lambda: jpeg()[:-2], damaged("JPEG")),
    "html-after-eoi.jpg": (lambda: jpeg() + HTML, trailing("JPEG")),
    "php-after-eoi.jpg": (lambda: jpeg() + PHP, trailing("JPEG")),
    "magic-then-html.jpg": (lambda: b"\xff\xd8\xff\xe0" + HTML, damaged("JPEG")),
    "markup-in-samsung-trailer.jpg": (
        lambda: jpeg() + samsung_trailer((0x0A01, b"Image_UTC_Data", HTML)),
        trailing("JPEG"),
    ),
    "html-before-samsung-trailer.jpg": (lambda: jpeg() + HTML + samsung_trailer(SAMSUNG_TIME), trailing("JPEG")),
    "undeclared-video.jpg": (lambda: jpeg() + mp4(), trailing("JPEG")),
    "motion-photo-of-html.jpg": (lambda: motion_photo(len(HTML), HTML), trailing("JPEG")),
    "mpo-cut.jpg": (lambda: mpo(cut=40), damaged("JPEG")),
    "mpo-then-html.jpg": (lambda: mpo() + HTML, trailing("JPEG")),
    "truncated.png": (lambda: image("PNG", size=(300, 200))[:-400], damaged("PNG")),
    "no-iend.png": (lambda: image("PNG")[:-12], damaged("PNG")),
    "html-after-iend.png": (lambda: image("PNG") + HTML, trailing("PNG")),
    "magic-then-svg.png": (lambda: b"\x89PNG\r\n\x1a\n" + SVG, damaged("PNG")),
    "bad-crc.png": (lambda: image("PNG")[:40] + bytes([image("PNG")[40] ^ 0xFF]) + image("PNG")[41:], damaged("PNG")),
    "script-after-trailer.gif": (lambda: image("GIF") + b"<script>alert(1)</script>", trailing("GIF")),
    "truncated.gif": (lambda: animated("GIF")[:-30], damaged("GIF")),
    "magic-then-html.gif": (lambda: b"GIF89a" + HTML, damaged("GIF")),
    "truncated.webp": (lambda: image("WEBP", size=(200, 100))[:-40], damaged("WebP")),
    "html-after-riff.webp": (lambda: image("WEBP") + HTML, trailing("WebP")),
    "riff-then-html.webp": (lambda: b"RIFF\x40\x00\x00\x00WEBP" + HTML, damaged("WebP")),
    "truncated.heic": (lambda: heic()[:-60], damaged("HEIC")),
    "html-after-boxes.heic": (lambda: heic() + HTML, trailing("HEIC")),
    "ftyp-then-html.heic": (lambda: heic()[:32] + HTML, damaged("HEIC")),
    "truncated.mp4": (lambda: mp4()[: len(mp4()) // 2], damaged("MP4")),
    "html-after-boxes.mp4": (lambda: mp4() + HTML, trailing("MP4")),
    "ftyp-then-noise.mp4": (lambda: mp4()[:32] + bytes(range(256)) * 40, damaged("MP4")),
    "audio-only.mp4": (
        lambda: audio_only("mp4", "aac"),
        "The file has no video stream: only videos are accepted as MP4.",
    ),
    "zeroed-pictures.mp4": (zeroed_pictures, damaged("MP4")),
    "atoms-then-html.mov": (lambda: b"\x00\x00\x00\x08wide" + HTML, damaged("QuickTime")),
    "truncated.webm": (lambda: webm()[: len(webm()) // 2], damaged("WebM")),
    "html-after-segment.webm": (lambda: webm() + HTML, trailing("WebM")),
    "audio-only.webm": (
        lambda: audio_only("webm", "libopus"),
        "The file has no video stream: only videos are accepted as WebM.",
    ),
    "open-action-js.pdf": (lambda: pdf_with(open_action_js), SCRIPT),
    "js-in-object-stream.pdf": (
        lambda: pdf_with(open_action_js, object_stream_mode=pikepdf.ObjectStreamMode.generate),
        SCRIPT,
    ),
    "js-names-escaped.pdf": (js_named_with_escapes, SCRIPT),
    "javascript-name-tree.pdf": (lambda: pdf_with(javascript_name_tree), SCRIPT),
    "xfa-form.pdf": (lambda: pdf_with(xfa_form), SCRIPT),
    "launch-link.pdf": (lambda: pdf_with(launch_link), LAUNCH),
    "embedded-goto.pdf": (lambda: pdf_with(embedded_goto), LAUNCH),
    "page-open-action.pdf": (lambda: pdf_with(page_additional_actions), AUTOMATIC),
    "field-keystroke-script.pdf": (lambda: pdf_with(field_script), AUTOMATIC),
    "attachment.pdf": (
        lambda: pdf_with(embedded_file),
        "The PDF contains attached files: send the document without its attachments.",
    ),
    "password.pdf": (password_protected, "The PDF is protected by a password: send it without the password."),
    "truncated.pdf": (lambda: pdf(3)[:300], damaged("PDF")),
    "magic-then-html.pdf": (lambda: b"%PDF-1.7\n" + HTML, damaged("PDF")),
    "html-then-pdf.pdf": (
        lambda: HTML + pdf(),
        "Other data comes before the start of the PDF: files that can hide other content are refused.",
    ),
    "html-after-eof.pdf": (lambda: pdf() + HTML, trailing("PDF")),
}

GOOD = {
    "photo.jpg": jpeg,
    "progressive.jpg": lambda: saved(Image.new("RGB", (300, 200), (5, 6, 7)), "JPEG", progressive=True),
    "padded-with-zeros.jpg": lambda: noisy_jpeg((64, 64)) + bytes(512),
    "stereo.jpg": mpo,
    "galaxy.jpg": lambda: jpeg() + samsung_trailer(SAMSUNG_TIME, (0x0AA1, b"MCC_Data", b"208")),
    "motion-photo.jpg": lambda: motion_photo(len(mp4()), mp4()),
    "scan.png": lambda: image("PNG", size=(300, 200)),
    "interlaced.png": lambda: saved(Image.new("RGB", (90, 60), (9, 9, 9)), "PNG", interlace=1),
    "animated.png": lambda: animated("PNG"),
    "still.gif": lambda: image("GIF"),
    "animated.gif": lambda: animated("GIF"),
    "still.webp": lambda: image("WEBP"),
    "animated.webp": lambda: animated("WEBP"),
    "iphone.heic": heic,
    "clip.mp4": mp4,
    "camera.mov": lambda: video("mov", "mpeg4"),
    "web.webm": webm,
    "brochure.pdf": lambda: pdf(3),
    "links-and-goto.pdf": lambda: pdf_with(links_and_goto),
    "copy-protected.pdf": copy_protected,
    "object-streams.pdf": lambda: pdf_bytes(a_pdf(3), object_stream_mode=pikepdf.ObjectStreamMode.generate),
}


def _rows():
    return db.session.scalar(sa.select(sa.func.count()).select_from(MediaAsset))


# -- Local storage ---------------------------------------------------------------------------


@pytest.mark.parametrize("name", BAD)
def test_every_bad_file_is_refused_with_its_reason_and_leaves_nothing(app, client, editor, media_root, name):
    make, reason = BAD[name]
    response = upload(client, make(), name)
    assert response.status_code == 422, (name, response.get_data(as_text=True))
    assert response.get_json() == {"error": reason}
    assert stored_files(media_root) == []
    with app.app_context():
        assert _rows() == 0


@pytest.mark.parametrize("name", GOOD)
def test_every_good_file_is_accepted(app, client, editor, media_root, name):
    data = GOOD[name]()
    response = upload(client, data, name)
    assert response.status_code == 200, (name, response.get_data(as_text=True))
    assert [f.read_bytes() for f in stored_files(media_root)] == [data]


def test_a_refusal_speaks_the_users_language(app, client, editor, media_root):
    response = client.post(
        "/media/upload",
        data=jpeg() + HTML,
        content_type="application/octet-stream",
        headers={**upload_headers(client, "photo.jpg"), "Accept-Language": "fr"},
    )
    assert response.status_code == 422
    assert response.get_json()["error"] == (
        "D’autres données suivent la fin du contenu JPEG : les fichiers qui "
        "peuvent cacher un autre contenu sont refusés."
    )


def test_a_bad_replacement_changes_nothing(app, client, editor, media_root):
    original = image("PNG", color=(3, 4, 5))
    asset_id = upload(client, original, "poster.png").get_json()["id"]
    response = upload(client, image("PNG", color=(6, 7, 8)) + HTML, "poster-v2.png", url=f"/media/{asset_id}/file")
    assert response.status_code == 422 and response.get_json() == {"error": trailing("PNG")}
    with app.app_context():
        asset = db.session.get(MediaAsset, asset_id)
        assert (asset.version, asset.filename) == (1, "poster.png")
    assert [f.read_bytes() for f in stored_files(media_root)] == [original]


# -- The SharePoint path: the request stages, the worker stores ------------------------------


def test_the_corpus_through_the_sharepoint_path(app, client, editor, sharepoint, media_root):
    """0 bad accepted, 0 rows, transfers or staged files left by them, not one Graph call;
    every good one staged."""
    accepted_bad, refused_good = [], []
    for name, (make, _) in BAD.items():
        if upload(client, make(), name).status_code == 200:
            accepted_bad.append(name)
    with app.app_context():
        assert (_rows(), db.session.scalar(sa.select(sa.func.count()).select_from(MediaTransfer))) == (0, 0)
    assert stored_files(media_root) == []
    for name, make in GOOD.items():
        if upload(client, make(), name).status_code != 200:
            refused_good.append(name)
    assert (accepted_bad, refused_good) == ([], [])
    staged = stored_files(media_root / "staging")
    assert len(staged) == len(GOOD) and stored_files(media_root) == staged
    assert sharepoint.counters()["requests"] == {}  # nothing leaves the request


# -- Bounded work ----------------------------------------------------------------------------


def test_a_large_video_is_checked_from_its_first_packets(app, tmp_path):
    """1.5 GiB (a real video, then a `free` box the demuxer skips): the check reads the
    container's header and a few packets, never the whole file."""
    path = tmp_path / "long.mp4"
    head, total = mp4(), 1536 * 1024**2
    with open(path, "wb") as out:
        out.write(head + (total - len(head)).to_bytes(4, "big") + b"free")
        out.truncate(total)  # sparse: nothing to write, and reading it would take seconds
    started = time.monotonic()
    with app.test_request_context():
        inspection.check(path, TYPES["video/mp4"])
    assert time.monotonic() - started < 3


def test_a_video_with_many_frames_decodes_only_the_first(app, tmp_path):
    path = tmp_path / "many.mp4"
    path.write_bytes(video("mp4", "libx264", size=(64, 48), frames=1500))
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        assert video_probe.frames(container, stream) == video_probe.FRAMES


def test_a_video_is_checked_without_loading_pyav_into_the_web_process(tmp_path):
    """PyAV runs in a child: a web worker that checked a video has no FFmpeg in its memory."""
    path = tmp_path / "ok.mp4"
    path.write_bytes(mp4())
    code = (
        "import sys; from pathlib import Path; from app.media import inspection; "
        "from app.media.sniff import TYPES; inspection.check(Path(sys.argv[1]), TYPES['video/mp4']); "
        "assert 'av' not in sys.modules, 'PyAV loaded'"
    )
    done = subprocess.run(
        [sys.executable, "-c", code, str(path)],
        cwd=Path(__file__).resolve().parent.parent,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-2000:]


def test_a_pixel_bomb_is_refused_before_decoding(app, tmp_path):
    from tests.media_support import png_header_only

    path = tmp_path / "bomb.png"
    path.write_bytes(png_header_only(30000, 30000))
    with app.test_request_context(headers=EN), pytest.raises(Refused) as refused:
        inspection.check(path, TYPES["image/png"])
    assert str(refused.value.message) == "The image has too many pixels: the limit is 80 million."
