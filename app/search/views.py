"""JSON search endpoint (the instant-search UI comes with the media library pages)."""

from __future__ import annotations

from flask import Blueprint, jsonify, request

from app import search
from app.models import Role
from app.security import role_required

bp = Blueprint("search", __name__)


@bp.get("/media/search.json")
@role_required(Role.EDITOR)
def media_json():
    """The whole library, like its grid: editors only (approvers open the assets of the posts
    submitted to them, app/media/service.py `get_readable`)."""
    args = request.args
    try:
        result = search.search_media(
            args.get("q", ""), search.MediaFilters.from_args(args), args.get("sort"), args.get("page", 1)
        )
    except search.InvalidSearch as exc:
        return jsonify(error=str(exc)), 400
    return jsonify(result.as_dict())
