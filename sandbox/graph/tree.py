"""The document library: folders and files, their versions, and the change log behind delta.

Callers hold the emulator's lock around every call, so the methods here can check and then
change state without races. Rules follow SharePoint: names are unique per folder ignoring
case; every change bumps the eTag, a content change also bumps the cTag and appends version
``N.0``; ``conflictBehavior`` decides what a clashing name does.
"""

from __future__ import annotations

import os
import re
import uuid
from dataclasses import dataclass, field
from typing import Iterable

from .blobs import Blob, BlobStore
from .config import GraphEmulatorConfig
from .wire import GraphError

CONFLICT_BEHAVIORS = ("fail", "replace", "rename")
INVALID_NAME_CHARACTERS = set('"*:<>?/\\|')
ENTITY_TAG = re.compile(r'(?:W/)?"[^"]*"|\*')


@dataclass
class Version:
    id: str
    blob: Blob
    modified_at: float


@dataclass
class Item:
    id: str
    name: str
    parent_id: str | None
    is_folder: bool
    created_at: float
    modified_at: float
    tag_guid: str = field(default_factory=lambda: str(uuid.uuid4()).upper())
    change_number: int = 1
    content_number: int = 1
    description: str | None = None
    versions: list[Version] = field(default_factory=list)
    children: dict[str, str] = field(default_factory=dict)  # casefolded name -> item id
    content_changed_at: float = 0.0
    seq: int = 0  # position of its last change in the drive's change log

    @property
    def etag(self) -> str:
        return f'"{{{self.tag_guid}}},{self.change_number}"'

    @property
    def ctag(self) -> str:
        return f'"c:{{{self.tag_guid}}},{self.content_number}"'

    @property
    def current(self) -> Version:
        return self.versions[-1]


@dataclass
class Tombstone:
    """What delta still reports about a deleted item."""

    id: str
    name: str
    parent_id: str | None
    is_folder: bool
    seq: int


class Drive:
    def __init__(self, config: GraphEmulatorConfig, blobs: BlobStore):
        self.config = config
        self.blobs = blobs
        self.clock = config.clock
        self.seq = 0
        now = self.clock()
        self.root = Item(
            id=config.root_item_id, name="root", parent_id=None, is_folder=True, created_at=now, modified_at=now
        )
        self.items: dict[str, Item] = {}
        self.tombstones: dict[str, Tombstone] = {}
        self._log(self.root)

    # -- lookups ---------------------------------------------------------------------------
    def get(self, item_id: str) -> Item:
        item = self.items.get(item_id)
        if item is None:
            raise GraphError(404, "The resource could not be found.")
        return item

    def child(self, parent: Item, name: str) -> Item | None:
        child_id = parent.children.get(name.casefold())
        return self.items[child_id] if child_id else None

    def walk(self, base: Item, segments: Iterable[str]) -> Item | None:
        item: Item | None = base
        for name in segments:
            if item is None or not item.is_folder:
                return None
            item = self.child(item, name)
        return item

    def parent_for_new(self, base: Item, segments: tuple[str, ...]) -> tuple[Item, str]:
        """The folder a path-addressed upload lands in. Missing folders are not created."""
        parent = self.walk(base, segments[:-1])
        if parent is None or not parent.is_folder:
            raise GraphError(404, "The parent folder of the requested path does not exist.")
        return parent, validate_name(segments[-1])

    def path_of(self, item: Item) -> str:
        names = []
        while item.parent_id is not None:
            names.append(item.name)
            item = self.items[item.parent_id]
        return "/" + "/".join(reversed(names)) if names else ""

    def folder_size(self, folder: Item) -> int:
        return sum(
            self.folder_size(child) if child.is_folder else child.current.blob.size
            for child in map(self.items.__getitem__, folder.children.values())
        )

    def used_bytes(self) -> int:
        return sum(version.blob.size for item in self.items.values() for version in item.versions)

    def changes(self, since: int, upto: int, *, with_deletions: bool) -> list[Item | Tombstone]:
        """Items whose last change lies in ``(since, upto]``, oldest change first."""
        found: list[Item | Tombstone] = [i for i in self.items.values() if since < i.seq <= upto]
        if with_deletions:
            found += [t for t in self.tombstones.values() if since < t.seq <= upto]
        return sorted(found, key=lambda entry: entry.seq)

    # -- preconditions ---------------------------------------------------------------------
    def check_if_match(self, item: Item | None, if_match: str | None) -> None:
        """``If-Match`` accepts the eTag or the cTag (or ``*``); anything else is a 412."""
        if if_match is None:
            return
        candidates = set(ENTITY_TAG.findall(if_match))  # SharePoint eTags contain commas
        if not candidates:
            raise GraphError(
                400, "ETags must be quoted strings, sent exactly as received.", inner_code="malformedEntityTag"
            )
        if item is not None and ("*" in candidates or item.etag in candidates or item.ctag in candidates):
            return
        raise GraphError(412, "ETag does not match the current item's value.", inner_code="entityTagDoesNotMatch")

    def ensure_quota(self, extra_bytes: int) -> None:
        if self.used_bytes() + extra_bytes > self.config.quota_total_bytes:
            raise GraphError(507, "Insufficient Space Available", inner_code="quotaLimitReached")

    def check_new_content(self, parent: Item, name: str, behavior: str, if_match: str | None, size: int) -> Item | None:
        """Validate a write of ``size`` bytes to ``parent/name``; return the file it would replace."""
        existing = self.child(parent, name)
        self.check_if_match(existing, if_match)
        if existing is not None and behavior == "fail":
            raise GraphError(409, "The specified item name already exists.", code="nameAlreadyExists")
        if existing is not None and behavior == "replace" and existing.is_folder:
            raise GraphError(409, "A folder with the same name already exists.", code="nameAlreadyExists")
        self.ensure_quota(size)
        return existing if behavior == "replace" else None

    def check_replace(self, item: Item, if_match: str | None, size: int) -> None:
        if item.is_folder:
            raise GraphError(400, "A folder has no content to replace.")
        self.check_if_match(item, if_match)
        self.ensure_quota(size)

    # -- changes -----------------------------------------------------------------------------
    def store_content(
        self, parent: Item, name: str, behavior: str, if_match: str | None, blob: Blob, description: str | None = None
    ) -> tuple[Item, bool]:
        """Write a file by name; returns the item and whether it was created (201) or not (200)."""
        existing = self.check_new_content(parent, name, behavior, if_match, blob.size)
        if existing is not None:
            self.add_version(existing, blob)
            return existing, False
        item = self._new_item(parent, self._free_name(parent, name), is_folder=False)
        item.description = description
        self.add_version(item, blob)
        return item, True

    def create_folder(self, parent: Item, name: str, behavior: str) -> Item:
        name = validate_name(name)
        existing = self.child(parent, name)
        if existing is not None:
            if behavior == "fail":
                raise GraphError(409, "The specified item name already exists.", code="nameAlreadyExists")
            if behavior == "replace":
                self.delete(existing, None)
        return self._new_item(parent, self._free_name(parent, name), is_folder=True)

    def add_version(self, item: Item, blob: Blob) -> None:
        now = self.clock()
        if item.versions:
            item.content_number += 1
            self._touch(item)
        item.versions.append(Version(id=f"{len(item.versions) + 1}.0", blob=blob, modified_at=now))
        item.content_changed_at = now
        self._log(item)

    def update(self, item: Item, if_match: str | None, *, name: str | None, description: str | None) -> None:
        if item is self.root:
            raise GraphError(403, "The root folder cannot be changed.", code="notAllowed")
        self.check_if_match(item, if_match)
        parent = self.items[item.parent_id]
        if name is not None and name != item.name:
            name = validate_name(name)
            clash = self.child(parent, name)
            if clash is not None and clash is not item:
                raise GraphError(409, "The specified item name already exists.", code="nameAlreadyExists")
            del parent.children[item.name.casefold()]
            parent.children[name.casefold()] = item.id
            item.name = name
        if description is not None:
            item.description = description
        self._touch(item)
        self._log(item)

    def delete(self, item: Item, if_match: str | None) -> None:
        if item is self.root:
            raise GraphError(403, "The root folder cannot be deleted.", code="notAllowed")
        self.check_if_match(item, if_match)
        del self.items[item.parent_id].children[item.name.casefold()]
        self._remove_subtree(item)

    def _remove_subtree(self, item: Item) -> None:
        for child_id in list(item.children.values()):
            self._remove_subtree(self.items[child_id])
        for version in item.versions:
            self.blobs.discard(version.blob)
        del self.items[item.id]
        self.seq += 1
        self.tombstones[item.id] = Tombstone(item.id, item.name, item.parent_id, item.is_folder, self.seq)

    def _new_item(self, parent: Item, name: str, *, is_folder: bool) -> Item:
        now = self.clock()
        item = Item(
            id=new_item_id(), name=name, parent_id=parent.id, is_folder=is_folder, created_at=now, modified_at=now
        )
        parent.children[name.casefold()] = item.id
        self._log(item)
        return item

    def _free_name(self, parent: Item, name: str) -> str:
        """SharePoint's ``rename``: ``hero.jpg`` -> ``hero 1.jpg``, ``hero 2.jpg``..."""
        stem, extension = os.path.splitext(name)
        candidate, counter = name, 0
        while self.child(parent, candidate) is not None:
            counter += 1
            candidate = f"{stem} {counter}{extension}"
        return candidate

    def _touch(self, item: Item) -> None:
        item.change_number += 1
        item.modified_at = self.clock()

    def _log(self, item: Item) -> None:
        self.seq += 1
        item.seq = self.seq
        self.items[item.id] = item


def validate_name(name: str) -> str:
    """Reject the names SharePoint refuses, so the client finds out here and not in production."""
    if (
        not name
        or name in (".", "..")
        or name != name.strip()
        or name.endswith(".")
        or len(name) > 255
        or INVALID_NAME_CHARACTERS & set(name)
    ):
        raise GraphError(
            400, f"The name '{name}' contains invalid characters or is reserved.", inner_code="invalidPath"
        )
    return name


def validate_conflict_behavior(value: object) -> str:
    if value not in CONFLICT_BEHAVIORS:
        raise GraphError(400, f"Invalid @microsoft.graph.conflictBehavior value: {value!r}.")
    return str(value)


def new_item_id() -> str:
    """SharePoint item ids: ``01`` then 32 base32 characters."""
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
    return "01" + "".join(alphabet[byte % 32] for byte in os.urandom(32))
