"""Graph resource paths, parsed by hand because Flask routes cannot express ``root:/a/b:/content``.

Understood forms (after ``/v1.0/``)::

    sites/{host}:/sites/{path}[:]     sites/{siteId}      sites/{siteId}/drives
    sites/{siteId}/drive{rest}        drives/{driveId}{rest}
    rest = "" | /root | /items/{id}, then optionally :/{relative/path}[:], then optionally
           /children | /content | /createUploadSession | /createLink | /thumbnails | /delta
           | /versions[/{versionId}[/content | /restoreVersion]]

Werkzeug has already percent-decoded the path, so segments arrive as the real names.
"""

from __future__ import annotations

from dataclasses import dataclass

from .config import GraphEmulatorConfig
from .state import GraphEmulator
from .tree import Item
from .wire import GraphError

ITEM_ACTIONS = ("children", "content", "createUploadSession", "createLink", "thumbnails", "delta")


@dataclass(frozen=True)
class Target:
    operation: str  # e.g. "site", "drive", "item", "item/content"
    base: str | None = None  # "root" or an item id
    path: tuple[str, ...] | None = None  # segments after ":"; None addresses the base itself
    version_id: str | None = None


def parse(rest: str, config: GraphEmulatorConfig) -> Target:
    if rest.startswith("sites/"):
        return _parse_site(rest[len("sites/") :], config)
    if rest.startswith("drives/"):
        drive_id, slash, tail = rest[len("drives/") :].partition("/")
        if drive_id != config.drive_id:
            raise GraphError(404, f"The drive '{drive_id}' could not be found.")
        return _parse_drive(slash + tail)
    raise _bad_segment(rest.split("/", 1)[0])


def _parse_site(text: str, config: GraphEmulatorConfig) -> Target:
    first = text.split("/", 1)[0]
    if ":" in first:  # path form: {host}:/sites/{name}[:{rest}]
        host, _, after = text.partition(":")
        site_path, colon, remainder = after.partition(":")
        if colon and remainder and not remainder.startswith("/"):
            raise _bad_segment(remainder)
        known = (
            host.lower() == config.site_hostname.lower() and site_path.strip("/").lower() == config.site_path.lower()
        )
    else:
        remainder = text[len(first) :]
        known = first.lower() == config.site_id.lower()
    if not known:
        raise GraphError(404, "Requested site could not be found.")
    if remainder in ("", "/"):
        return Target("site")
    if remainder == "/drives":
        return Target("drives")
    if remainder == "/drive" or remainder.startswith("/drive/"):
        return _parse_drive(remainder[len("/drive") :])
    raise _bad_segment(remainder.lstrip("/").split("/", 1)[0])


def _parse_drive(tail: str) -> Target:
    if tail in ("", "/"):
        return Target("drive")
    text = tail[1:]
    if text == "root" or text.startswith(("root/", "root:")):
        base, after = "root", text[len("root") :]
    elif text.startswith("items/"):
        ref = text[len("items/") :]
        end = min([i for i in (ref.find("/"), ref.find(":")) if i >= 0], default=len(ref))
        base, after = ref[:end], ref[end:]
        if not base:
            raise _bad_segment("items")
    else:
        raise _bad_segment(text.split("/", 1)[0])
    path = None
    if after.startswith(":"):
        path_text, _, after = after[1:].partition(":")
        path = tuple(segment for segment in path_text.split("/") if segment) or None
        if after and not after.startswith("/"):
            raise _bad_segment(after)
    return _parse_action(base, path, after.strip("/"))


def _parse_action(base: str, path: tuple[str, ...] | None, action: str) -> Target:
    parts = action.split("/") if action else []
    if not parts:
        return Target("item", base, path)
    if len(parts) == 1 and parts[0] in ITEM_ACTIONS:
        if parts[0] == "delta" and (base != "root" or path is not None):
            raise GraphError(
                400, "Delta is only supported on the root folder of a SharePoint library.", code="notSupported"
            )
        return Target(f"item/{parts[0]}", base, path)
    if parts[0] == "versions":
        if len(parts) == 1:
            return Target("item/versions", base, path)
        if len(parts) == 2:
            return Target("item/version", base, path, parts[1])
        if len(parts) == 3 and parts[2] in ("content", "restoreVersion"):
            return Target(f"item/version/{parts[2]}", base, path, parts[1])
    raise _bad_segment(parts[0])


def _bad_segment(segment: str) -> GraphError:
    return GraphError(400, f"Resource not found for the segment '{segment}'.", code="BadRequest")


# -- resolving a target against the tree (callers hold the emulator lock) -------------------
def base_item(emulator: GraphEmulator, target: Target) -> Item:
    return emulator.drive.root if target.base == "root" else emulator.drive.get(target.base)


def existing_item(emulator: GraphEmulator, target: Target) -> Item:
    base = base_item(emulator, target)
    if target.path is None:
        return base
    item = emulator.drive.walk(base, target.path)
    if item is None:
        raise GraphError(404, "The resource could not be found.")
    return item


def existing_file(emulator: GraphEmulator, target: Target) -> Item:
    item = existing_item(emulator, target)
    if item.is_folder:
        raise GraphError(400, "This operation needs a file; the target is a folder.")
    return item


def destination(emulator: GraphEmulator, target: Target) -> tuple[Item | None, Item | None, str]:
    """Where uploaded content goes: ``(file, None, "")`` when the target names an existing file
    by id, else ``(None, parent folder, new name)`` for a ``{parent}:/{name}:`` path."""
    if target.path is None:
        return existing_file(emulator, target), None, ""
    parent, name = emulator.drive.parent_for_new(base_item(emulator, target), target.path)
    return None, parent, name
