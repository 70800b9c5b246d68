"""The pre-send check fetches media links like a network: no credentials, first byte."""

from flask import Flask, request

from app.publishing.media_check import unreachable
from sandbox.server import BackgroundServer


def test_links_are_fetched_without_credentials():
    site = Flask(__name__)
    seen = []

    @site.get("/public")
    def public():
        seen.append((request.headers.get("Range"), request.headers.get("Authorization"), request.cookies))
        return "x" * 10

    @site.get("/private")
    def private():
        return "login required", 401

    with BackgroundServer(site) as server:
        assert unreachable([server.url + "/public"]) == []
        problems = unreachable([server.url + "/private", server.url + "/public", "http://127.0.0.1:9/gone"])
    assert problems[0] == f"{server.url}/private: HTTP 401"
    assert problems[1].startswith("http://127.0.0.1:9/gone: ConnectError")
    assert seen[0] == ("bytes=0-0", None, {})
