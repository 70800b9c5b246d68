"""Static files as a phone on a slow network wants them: compressed, named by their content and
cached for a year (docs/operations.md, "Static files and compression").

At start the files of `app/static` are copied once into a build folder named by the digest of
them all, each under its own content-hashed name (`app.css` -> `app.3f9c0a1b2d4e.css`) as well as
its plain one, with gzip and Brotli variants made by `whitenoise.compress`. WhiteNoise serves that
folder in front of Flask: it picks the variant the browser accepts (`Vary: Accept-Encoding`) and
sends a hashed name with `Cache-Control: public, max-age=31536000, immutable`, since a changed file
gets a new name. `url_for("static", filename=...)` builds the hashed name through a `url_defaults`
hook, so templates keep writing `url_for('static', ...)`. Development (debug) keeps Flask's own
static route, so an edited stylesheet shows without a restart.

Pages and JSON are compressed on the fly by Flask-Compress (Brotli or gzip, text types only,
never a streamed body such as a media file): the approver's queue is 15 KB of HTML, 4 KB on the
wire. A page holds the session's CSRF token, so a reflected secret could in theory be guessed
through the compressed size (BREACH); Flask-WTF's token carries a changing timestamp and the
routes that reflect what is typed sit behind the login and SameSite cookies.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import tempfile
from pathlib import Path

from flask import Flask
from flask_compress import Compress
from whitenoise import WhiteNoise
from whitenoise.compress import Compressor

YEAR = 365 * 24 * 60 * 60
HASHED = re.compile(r"\.[0-9a-f]{12}\.[A-Za-z0-9]+$")


class StaticFiles(WhiteNoise):
    FOREVER = YEAR  # a year, as the HTTP caching guidance for immutable assets (RFC 8246 examples)

    def immutable_file_test(self, path, url):
        return bool(HASHED.search(url))


def hashed_name(name: str, data: bytes) -> str:
    stem, dot, ext = name.rpartition(".")
    digest = hashlib.sha256(data).hexdigest()[:12]
    return f"{stem}.{digest}.{ext}" if dot else f"{name}.{digest}"


def manifest(root: Path) -> dict[str, str]:
    """Each file's path under `root` (with "/") -> its hashed path."""
    names = {}
    for path in sorted(p for p in root.rglob("*") if p.is_file() and not p.name.startswith(".")):
        relative = path.relative_to(root).as_posix()
        names[relative] = hashed_name(relative, path.read_bytes())
    return names


def build(root: Path, names: dict[str, str]) -> Path:
    """The build folder for these files, made once (workers starting together race harmlessly:
    each builds beside it and the first rename wins)."""
    digest = hashlib.sha256("\n".join(f"{k}={v}" for k, v in sorted(names.items())).encode()).hexdigest()[:16]
    base = Path(tempfile.gettempdir()) / f"cms-static-{os.getuid()}"
    target = base / digest
    if target.is_dir():
        return target
    base.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(dir=base, prefix=".build-"))
    compressor = Compressor(quiet=True)
    for plain, hashed in names.items():
        for name in (plain, hashed):
            destination = staging / name
            destination.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(root / plain, destination)
            if compressor.should_compress(name):
                list(compressor.compress(str(destination)))
    try:
        staging.rename(target)
    except OSError:  # another worker got there first
        shutil.rmtree(staging, ignore_errors=True)
    return target


def register(app: Flask) -> None:
    app.config.setdefault("COMPRESS_ALGORITHM", ["br", "gzip"])
    app.config.setdefault("COMPRESS_STREAMS", False)
    Compress(app)
    if app.debug:
        return
    root = Path(app.static_folder)
    names = manifest(root)
    folder = build(root, names)
    app.wsgi_app = StaticFiles(app.wsgi_app, root=str(folder), prefix="static/", max_age=60)
    app.extensions["static_manifest"] = names

    @app.url_defaults
    def hashed_static(endpoint, values):
        if endpoint == "static" and values.get("filename") in names:
            values["filename"] = names[values["filename"]]
