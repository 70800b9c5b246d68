"""The ``/v1.0`` API: one route parses the Graph path, then a table picks the handler.

Handlers here cover sites, the library, items, children, content and versions; sharing links,
thumbnails, delta and upload sessions live in their own modules and are wired in ``HANDLERS``.
"""

from __future__ import annotations

from flask import Blueprint, Response, g, request

from . import delta, links, thumbnails, uploads
from .addressing import Target, destination, existing_file, existing_item
from .blobs import Blob, IncompleteBody, blob_url
from .representations import drive_json, item_json, site_json, version_json
from .state import GraphEmulator, current_emulator
from .tree import Item, validate_conflict_behavior
from .wire import GraphError, json_response, read_json_body

bp = Blueprint("graph", __name__, url_prefix="/v1.0")


@bp.route("/<path:rest>", methods=["GET", "POST", "PUT", "PATCH", "DELETE"])
def dispatch(rest: str):
    """``g.graph_target`` was parsed by the request pipeline (it labels the counters)."""
    if "graph_target_error" in g:
        raise g.graph_target_error
    target: Target = g.graph_target
    handler = HANDLERS.get((request.method, target.operation))
    if handler is None:
        raise GraphError(405, f"{request.method} is not supported on this resource.", code="BadRequest")
    return handler(target)


def get_site(target: Target):
    return json_response(site_json(current_emulator()))


def list_drives(target: Target):
    emulator = current_emulator()
    with emulator.lock:
        return json_response({"value": [drive_json(emulator)]})


def get_drive(target: Target):
    emulator = current_emulator()
    with emulator.lock:
        return json_response(drive_json(emulator))


def get_item(target: Target):
    emulator = current_emulator()
    with emulator.lock:
        return json_response(item_json(emulator, existing_item(emulator, target)))


def update_item(target: Target):
    """Rename or describe an item. Moving (``parentReference``) is not emulated."""
    emulator = current_emulator()
    body = read_json_body()
    if "parentReference" in body:
        raise GraphError(400, "Moving items is not supported by the emulator.", code="notSupported")
    name, description = body.get("name"), body.get("description")
    if not all(value is None or isinstance(value, str) for value in (name, description)):
        raise GraphError(400, "'name' and 'description' must be strings.")
    with emulator.lock:
        item = existing_item(emulator, target)
        emulator.drive.update(item, request.headers.get("If-Match"), name=name, description=description)
        return json_response(item_json(emulator, item))


def delete_item(target: Target):
    emulator = current_emulator()
    with emulator.lock:
        emulator.drive.delete(existing_item(emulator, target), request.headers.get("If-Match"))
    return Response(status=204)


def list_children(target: Target):
    emulator = current_emulator()
    with emulator.lock:
        folder = existing_item(emulator, target)
        if not folder.is_folder:
            raise GraphError(400, "Only folders have children.")
        children = sorted(
            (emulator.drive.items[i] for i in folder.children.values()), key=lambda child: child.name.casefold()
        )
        return json_response({"value": [item_json(emulator, child) for child in children]})


def create_folder(target: Target):
    """``POST children`` makes folders; files arrive through ``content`` or upload sessions."""
    emulator = current_emulator()
    body = read_json_body()
    if not isinstance(body.get("folder"), dict) or not isinstance(body.get("name"), str):
        raise GraphError(
            400,
            "A new child needs a 'name' and a 'folder' facet; upload files with PUT .../content or an upload session.",
        )
    behavior = validate_conflict_behavior(body.get("@microsoft.graph.conflictBehavior", "fail"))
    with emulator.lock:
        parent = existing_item(emulator, target)
        if not parent.is_folder:
            raise GraphError(400, "Children can only be created in a folder.")
        folder = emulator.drive.create_folder(parent, body["name"], behavior)
        return json_response(item_json(emulator, folder), 201)


def download(target: Target):
    emulator = current_emulator()
    with emulator.lock:
        item = existing_file(emulator, target)
        return _redirect_to_blob(emulator, item, item.current.blob)


def upload_content(target: Target):
    """Simple upload. The body streams to disk between two checks of the destination: one to
    fail fast before reading it, one to commit against the state as it is by then."""
    emulator = current_emulator()
    length = request.content_length
    if length is None:
        raise GraphError(411, "A Content-Length header is required.")
    if length > emulator.config.simple_upload_max_bytes:
        raise GraphError(
            413,
            f"Simple upload is limited to {emulator.config.simple_upload_max_bytes}"
            " bytes; use an upload session for larger files.",
            inner_code="maxFileSizeExceeded",
        )
    behavior = validate_conflict_behavior(request.args.get("@microsoft.graph.conflictBehavior", "replace"))
    if_match = request.headers.get("If-Match")
    with emulator.lock:
        _write_content(emulator, target, behavior, if_match, size=length)
    try:
        blob = emulator.blobs.receive(request.stream, length)
    except IncompleteBody as error:
        raise GraphError(400, str(error))
    with emulator.lock:
        try:
            item, created = _write_content(emulator, target, behavior, if_match, size=length, blob=blob)
        except GraphError:
            emulator.blobs.discard(blob)
            raise
        emulator.counters.add("simple_upload_bytes_received", length)
        emulator.counters.add("files_committed")
        return json_response(item_json(emulator, item), 201 if created else 200)


def _write_content(
    emulator: GraphEmulator, target: Target, behavior: str, if_match: str | None, *, size: int, blob: Blob | None = None
) -> tuple[Item, bool] | None:
    """Check a content write, and perform it when ``blob`` is given."""
    item, parent, name = destination(emulator, target)
    drive = emulator.drive
    if item is not None:
        drive.check_replace(item, if_match, size)
        if blob is None:
            return None
        drive.add_version(item, blob)
        return item, False
    if blob is None:
        drive.check_new_content(parent, name, behavior, if_match, size)
        return None
    return drive.store_content(parent, name, behavior, if_match, blob)


def list_versions(target: Target):
    emulator = current_emulator()
    with emulator.lock:
        item = existing_file(emulator, target)
        return json_response({"value": [version_json(emulator, version) for version in reversed(item.versions)]})


def _version(item: Item, version_id: str):
    for version in item.versions:
        if version.id == version_id:
            return version
    raise GraphError(404, f"Version '{version_id}' was not found.")


def get_version(target: Target):
    emulator = current_emulator()
    with emulator.lock:
        item = existing_file(emulator, target)
        return json_response(version_json(emulator, _version(item, target.version_id)))


def download_version(target: Target):
    emulator = current_emulator()
    with emulator.lock:
        item = existing_file(emulator, target)
        return _redirect_to_blob(emulator, item, _version(item, target.version_id).blob)


def restore_version(target: Target):
    """Restoring copies the old content into a new current version, as SharePoint does."""
    emulator = current_emulator()
    with emulator.lock:
        item = existing_file(emulator, target)
        emulator.drive.check_if_match(item, request.headers.get("If-Match"))
        emulator.drive.add_version(item, _version(item, target.version_id).blob)
    return Response(status=204)


def _redirect_to_blob(emulator: GraphEmulator, item: Item, blob: Blob) -> Response:
    emulator.counters.add("download_redirects")
    response = Response(status=302)
    response.headers["Location"] = blob_url(emulator.content_base(), blob, item.name)
    return response


HANDLERS = {
    ("GET", "site"): get_site,
    ("GET", "drives"): list_drives,
    ("GET", "drive"): get_drive,
    ("GET", "item"): get_item,
    ("PATCH", "item"): update_item,
    ("DELETE", "item"): delete_item,
    ("GET", "item/children"): list_children,
    ("POST", "item/children"): create_folder,
    ("GET", "item/content"): download,
    ("PUT", "item/content"): upload_content,
    ("POST", "item/createUploadSession"): uploads.create_upload_session,
    ("POST", "item/createLink"): links.create_link,
    ("GET", "item/thumbnails"): thumbnails.list_thumbnails,
    ("GET", "item/delta"): delta.delta,
    ("GET", "item/versions"): list_versions,
    ("GET", "item/version"): get_version,
    ("GET", "item/version/content"): download_version,
    ("POST", "item/version/restoreVersion"): restore_version,
}
