"""Microsoft Graph for one SharePoint document library: MSAL for tokens, httpx for the calls.

Nothing here knows Flask: `GraphSettings.from_config` reads a plain mapping, and the storage
backend (app/storage/sharepoint.py) turns these errors into its own. The rules come from
docs/external-apis.md §2:

- One MSAL `ConfidentialClientApplication` per process and settings (`client_for` keeps the
  client, which keeps the app): its token cache is what saves a token request per call. MSAL
  renews a token itself shortly before it expires; a 401 from Graph (a token revoked or expired
  early) drops the cached tokens and the call is sent once more with a new one.
- Connection errors, 429, 502, 503 and 504 (and 500 on idempotent calls) are retried, waiting
  as `Retry-After` says (seconds or an HTTP date, capped) or else 1 s x2 with ±20 % jitter,
  `attempts` times in all; other errors raise at once, as a `GraphError` subclass.
- Upload URLs and download URLs are pre-authenticated: the bearer token never goes to them.
- Upload session fragments are sent once each, never blindly again: after a failed fragment the
  session says where it stands (`nextExpectedRanges`), so no byte is sent twice, and a session
  that has expired (404) is replaced by a new one starting from zero.
"""

from .client import DeltaPage, GraphClient, client_for
from .errors import (
    GraphAuthError,
    GraphConflict,
    GraphError,
    GraphNotFound,
    GraphResync,
    GraphThrottled,
    GraphUnavailable,
)
from .settings import FRAGMENT, MAX_FRAGMENT, SCOPES, GraphSettings
from .uploads import UploadSession

__all__ = [
    "FRAGMENT",
    "MAX_FRAGMENT",
    "SCOPES",
    "DeltaPage",
    "GraphAuthError",
    "GraphClient",
    "GraphConflict",
    "GraphError",
    "GraphNotFound",
    "GraphResync",
    "GraphSettings",
    "GraphThrottled",
    "GraphUnavailable",
    "UploadSession",
    "client_for",
]
