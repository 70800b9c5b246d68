"""JSON bodies of sites, drives, driveItems and versions, shaped like SharePoint's.

Only the emulator's own URLs (``@microsoft.graph.downloadUrl``) point at loopback; ``webUrl``
values keep the tenant's SharePoint form, since the CMS stores them and shows them to people.
"""

from __future__ import annotations

import mimetypes
from urllib.parse import quote

from .blobs import blob_url
from .state import GraphEmulator
from .tree import Item, Tombstone, Version
from .wire import iso_seconds


def mime_type(name: str) -> str:
    return mimetypes.guess_type(name)[0] or "application/octet-stream"


def app_identity(emulator: GraphEmulator) -> dict:
    """App-only writes show the app, and SharePoint's placeholder user."""
    config = emulator.config
    return {
        "application": {"id": config.client_id, "displayName": config.app_display_name},
        "user": {"displayName": "SharePoint App"},
    }


def site_json(emulator: GraphEmulator) -> dict:
    config = emulator.config
    created = iso_seconds(emulator.drive.root.created_at)
    return {
        "id": config.site_id,
        "name": config.site_path.rsplit("/", 1)[-1],
        "displayName": config.site_path.rsplit("/", 1)[-1],
        "webUrl": config.site_web_url,
        "createdDateTime": created,
        "lastModifiedDateTime": created,
        "siteCollection": {"hostname": config.site_hostname},
    }


def drive_json(emulator: GraphEmulator) -> dict:
    config = emulator.config
    used = emulator.drive.used_bytes()
    return {
        "id": config.drive_id,
        "name": "Documents",
        "driveType": "documentLibrary",
        "description": "",
        "webUrl": config.library_web_url,
        "createdDateTime": iso_seconds(emulator.drive.root.created_at),
        "lastModifiedDateTime": iso_seconds(emulator.drive.root.modified_at),
        "createdBy": {"user": {"displayName": "System Account"}},
        "quota": {
            "total": config.quota_total_bytes,
            "used": used,
            "deleted": 0,
            "remaining": max(config.quota_total_bytes - used, 0),
            "state": "exceeded" if used >= config.quota_total_bytes else "normal",
        },
    }


def parent_reference(emulator: GraphEmulator, parent_id: str | None) -> dict:
    config = emulator.config
    reference = {"driveType": "documentLibrary", "driveId": config.drive_id}
    if parent_id is None:
        return reference
    parent = emulator.drive.items[parent_id]
    return {
        **reference,
        "id": parent.id,
        "siteId": config.site_id,
        "name": "Documents" if parent is emulator.drive.root else parent.name,
        "path": f"/drives/{config.drive_id}/root:{emulator.drive.path_of(parent)}",
    }


def item_json(emulator: GraphEmulator, item: Item) -> dict:
    drive = emulator.drive
    path = drive.path_of(item)
    body = {
        "id": item.id,
        "name": item.name,
        "eTag": item.etag,
        "cTag": item.ctag,
        "createdDateTime": iso_seconds(item.created_at),
        "lastModifiedDateTime": iso_seconds(item.modified_at),
        "webUrl": emulator.config.library_web_url + quote(path),
        "createdBy": app_identity(emulator),
        "lastModifiedBy": app_identity(emulator),
        "parentReference": parent_reference(emulator, item.parent_id),
        "fileSystemInfo": {
            "createdDateTime": iso_seconds(item.created_at),
            "lastModifiedDateTime": iso_seconds(item.modified_at),
        },
    }
    if item.description is not None:
        body["description"] = item.description
    if item is drive.root:
        body["root"] = {}
    if item.is_folder:
        body["size"] = drive.folder_size(item)
        body["folder"] = {"childCount": len(item.children)}
    else:
        blob = item.current.blob
        body["size"] = blob.size
        body["file"] = {"mimeType": mime_type(item.name), "hashes": {"quickXorHash": blob.quick_xor_hash}}
        body["@microsoft.graph.downloadUrl"] = blob_url(emulator.content_base(), blob, item.name)
    return body


def tombstone_json(emulator: GraphEmulator, tombstone: Tombstone) -> dict:
    facet = {"folder": {}} if tombstone.is_folder else {"file": {}}
    return {
        "id": tombstone.id,
        "name": tombstone.name,
        "deleted": {"state": "deleted"},
        "parentReference": {
            "driveType": "documentLibrary",
            "driveId": emulator.config.drive_id,
            "id": tombstone.parent_id,
        },
        **facet,
    }


def version_json(emulator: GraphEmulator, version: Version) -> dict:
    return {
        "id": version.id,
        "size": version.blob.size,
        "lastModifiedDateTime": iso_seconds(version.modified_at),
        "lastModifiedBy": app_identity(emulator),
    }
