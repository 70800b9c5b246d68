"""The deep check of a PDF: it opens, and it carries nothing that runs or launches.

PDFium (pypdfium2, what makes the previews) must open the document and find pages. PDFium
exposes little of the object tree, so qpdf (pikepdf) walks it: every object of the file,
reachable or not, including those packed in object streams, with the names already decoded
(`/J#61vaScript` is `/JavaScript`). Refused (ISO 32000-2 §12.6 actions, §7.11.4 embedded files,
§12.7.8 XFA):

- JavaScript: a `/JS` entry, an action of type `/JavaScript`, the catalog's `/JavaScript`
  name tree, an XFA form (its scripts run in the reader);
- actions that start programs or open other files: `/Launch`, `/GoToE`, `/ImportData`,
  `/RichMediaExecute`;
- additional actions (`/AA`): actions a reader runs by itself when a page opens or a field is
  used (mostly form scripts);
- embedded files (`/EmbeddedFiles`, a file specification's `/EF`, `/FileAttachment`
  annotations): the library publishes documents to the public, and an attachment is content
  nobody sees in the preview;
- bytes before the `%PDF-` header other than blank space, and after the last `%%EOF` (an HTML
  page in front of or behind a PDF is a polyglot).

A password that protects the opening is refused too: neither the preview nor this check could
read it. Encryption that only restricts printing or copying opens with the empty password.
"""

from __future__ import annotations

import time
from pathlib import Path

from flask_babel import lazy_gettext as _l

from app.media import processing
from app.media.sniff import Refused
from app.media.structure import Damaged

LAUNCHING = {"/Launch", "/GoToE", "/ImportData", "/RichMediaExecute"}
EDGE_BYTES = 64 * 1024
MAX_SECONDS = 30.0
BLANK = b" \t\r\n\f\x00\xef\xbb\xbf"  # white space, NUL, a UTF-8 byte order mark

SCRIPT = _l("The PDF contains JavaScript: documents with scripts are refused.")
LAUNCH = _l("The PDF contains an action that starts a program or opens another file: such documents are refused.")
AUTOMATIC = _l(
    "The PDF contains actions that run by themselves (when a page opens or a field is used): "
    "such documents are refused."
)
ATTACHED = _l("The PDF contains attached files: send the document without its attachments.")


def check(path: Path) -> None:
    """`Refused` with the reason, or `Damaged` when qpdf or PDFium cannot read it."""
    import pikepdf

    _edges(path)
    try:
        _objects(path)
    except pikepdf.PasswordError:
        raise Refused(_l("The PDF is protected by a password: send it without the password."), 422) from None
    except (pikepdf.PdfError, TimeoutError) as exc:
        raise Damaged(str(exc)) from None
    if not _pages(path):
        raise Damaged("PDFium cannot open it, or it has no pages")


def _edges(path: Path) -> None:
    with open(path, "rb") as handle:
        head = handle.read(1024)
        handle.seek(0, 2)
        handle.seek(max(0, handle.tell() - EDGE_BYTES))
        tail = handle.read()
    if head[: head.find(b"%PDF-")].strip(BLANK):
        raise Refused(
            _l("Other data comes before the start of the PDF: files that can hide other content are refused."), 422
        )
    end = tail.rfind(b"%%EOF")
    if end < 0:
        raise Damaged("no end-of-file marker")
    if tail[end + 5 :].strip(BLANK):
        raise Refused(
            _l(
                "Other data follows the end of the %(label)s content: files that can hide other content are refused.",
                label="PDF",
            ),
            422,
        )


def _objects(path: Path) -> None:
    import pikepdf

    deadline = time.monotonic() + MAX_SECONDS
    with pikepdf.open(path) as pdf:
        for count, top in enumerate(pdf.objects):
            stack = [top]
            while stack:
                obj = stack.pop()
                if isinstance(obj, pikepdf.Array):
                    stack.extend(_direct(obj))
                elif isinstance(obj, (pikepdf.Dictionary, pikepdf.Stream)):
                    entries = obj.stream_dict if isinstance(obj, pikepdf.Stream) else obj
                    _dictionary(entries)
                    stack.extend(_direct(entries.values()))
            if count % 1000 == 0 and time.monotonic() > deadline:
                raise TimeoutError("too many objects to check in time")


def _direct(values) -> list:
    """The containers held inline (indirect ones are visited as objects of their own)."""
    import pikepdf

    return [value for value in values if isinstance(value, pikepdf.Object) and not value.is_indirect]


def _dictionary(entries) -> None:
    keys = set(entries.keys())
    kind, subtype = str(entries.get("/S", "")), str(entries.get("/Subtype", ""))
    if keys & {"/JS", "/JavaScript", "/XFA"} or kind == "/JavaScript":
        raise Refused(SCRIPT, 422)
    if kind in LAUNCHING:
        raise Refused(LAUNCH, 422)
    if "/AA" in keys:
        raise Refused(AUTOMATIC, 422)
    if (
        keys & {"/EmbeddedFiles", "/EF"}
        or subtype == "/FileAttachment"
        or str(entries.get("/Type", "")) == "/EmbeddedFile"
    ):
        raise Refused(ATTACHED, 422)


def _pages(path: Path) -> int:
    import pypdfium2 as pdfium

    with processing.pdfium_lock:
        try:
            pdf = pdfium.PdfDocument(str(path))
        except pdfium.PdfiumError:
            return 0
        try:
            return len(pdf)
        finally:
            pdf.close()
