"""Renditions: the file each network gets, derived from an asset's current version (issue 11).

`service` decides which rendition a (asset, network) pair needs, records it (one row per asset
version, profile and crop, reused by every post) and makes it in the `renditions` queue's actor
(`tasks`); `image` and `video` do the work in a child process (`runner`), so a decoder that
crashes or hangs past `RENDITION_TIMEOUT_S` fails that rendition with the reason and nothing
else. The payload sends the rendition's signed URL (app/media/links.py); the original stays as
it is in the library.
"""
