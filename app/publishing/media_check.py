"""Networks such as Instagram download media from a public URL: before a payload leaves, each
media link is fetched the way a network would (no credentials, first byte only)."""

from __future__ import annotations

import httpx


def unreachable(urls: list[str], timeout: float = 10.0) -> list[str]:
    """The reasons the links a network could not fetch (empty when every link answers)."""
    problems = []
    with httpx.Client(timeout=timeout, follow_redirects=True) as client:
        for url in urls:
            try:
                with client.stream("GET", url, headers={"Range": "bytes=0-0"}) as response:
                    if response.status_code not in (200, 206):
                        problems.append(f"{url}: HTTP {response.status_code}")
            except httpx.HTTPError as exc:
                problems.append(f"{url}: {type(exc).__name__}")
    return problems
