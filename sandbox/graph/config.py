"""Settings of the Graph emulator: one tenant, one app registration, one site with one library.

The defaults look like production values (GUID tenant, ``host,guid,guid`` site id, ``b!`` drive
id) so that client code which stores or parses them meets the same shapes it will meet in a
real tenant. Every limit the contract calls out is a field, so tests can shrink it.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

MIB = 1024 * 1024
# Graph's upload fragment granularity: every non-final fragment is a multiple of this.
FRAGMENT_GRANULARITY = 327_680


@dataclass
class GraphEmulatorConfig:
    # Entra ID (token endpoint)
    tenant_id: str = "6f1c1b0e-3c1d-4c7a-9a55-6d1e2b7c0a11"
    tenant_domain: str = "contoso.onmicrosoft.com"
    client_id: str = "0b5c8a2e-7d14-4f0e-b7a9-3c2d9e1f4a60"
    client_secret: str = "emulator-secret-do-not-use-in-production"
    app_display_name: str = "Media campaign CMS"
    token_lifetime_s: int = 3599

    # SharePoint site and its document library
    site_hostname: str = "contoso.sharepoint.com"
    site_path: str = "sites/mkt"
    site_guid: str = "5a58bb09-1fba-41c1-8125-69da264370a0"
    web_guid: str = "9f2ec1da-0be4-4a74-9254-973f0add78fd"
    drive_id: str = "b!CbtYWrofwUGBJWnaJkNwoNrBLp_kC3RKklSXPwrdeP3yH8_qmH9xT5Y6RODPNfYu"
    root_item_id: str = "01LBKF4VN6Y2GOVW7725BZO354PWSELRRZ"
    quota_total_bytes: int = 1 << 40

    # Limits from the contract (docs/external-apis.md §2.4)
    simple_upload_max_bytes: int = 4 * MIB
    fragment_max_bytes: int = 60 * MIB
    fragment_granularity: int = FRAGMENT_GRANULARITY
    upload_session_ttl_s: float = 15 * 60

    # Asynchronous behaviour
    thumbnail_delay_s: float = 2.0
    delta_page_size: int = 200
    allow_anonymous_links: bool = True

    # Blob files live here; None means a fresh temporary directory removed on close.
    storage_dir: Path | None = None
    # Wall clock in seconds; tests pass a fake one to move time without sleeping.
    clock: Callable[[], float] = field(default=time.time, repr=False)

    @property
    def site_id(self) -> str:
        return f"{self.site_hostname},{self.site_guid},{self.web_guid}"

    @property
    def site_web_url(self) -> str:
        return f"https://{self.site_hostname}/{self.site_path}"

    @property
    def library_web_url(self) -> str:
        return f"{self.site_web_url}/Shared%20Documents"
