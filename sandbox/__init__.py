"""Strict local emulators of the external services (Make.com, Microsoft Graph, Meilisearch).

Each emulator is a small WSGI app built by a factory and served on loopback by
:class:`sandbox.server.BackgroundServer`, so tests, benchmarks and ``make run`` talk to it
over real HTTP with the real client code. They follow ``docs/external-apis.md``.
"""
