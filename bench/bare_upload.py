"""The floor for the upload benchmark: a bare WSGI endpoint that streams the request body to a
file in 1 MiB chunks, with no login, sniffing, hashing or database. `gunicorn bench.bare_upload:app`;
the files stay in `MEDIA_ROOT/bare` (as the app's do), so both pay the same disk writeback."""

import os
import tempfile

CHUNK = 1024 * 1024


def app(environ, start_response):
    if environ["PATH_INFO"] == "/healthz":
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [b"ok"]
    stream, size = environ["wsgi.input"], 0
    folder = os.path.join(os.environ["MEDIA_ROOT"], "bare")
    os.makedirs(folder, exist_ok=True)
    fd, _ = tempfile.mkstemp(dir=folder)
    with os.fdopen(fd, "wb") as out:
        while chunk := stream.read(CHUNK):
            out.write(chunk)
            size += len(chunk)
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [str(size).encode()]
