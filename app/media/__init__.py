from flask import Blueprint

from app.media import display

bp = Blueprint("media", __name__)


@bp.record_once
def _register(state) -> None:
    """Template helpers, and the public URL builder the publication payload uses."""
    from app.media.links import signed_media_url
    from app.search.fits import NETWORKS

    state.app.jinja_env.filters.update(filesize=display.filesize, duration=display.duration)
    state.app.jinja_env.globals.update(
        media_kind_label=display.kind_label,
        media_status_label=display.status_label,
        asset_status_label=display.asset_status_label,
        fit_networks=NETWORKS,
    )
    state.app.extensions.setdefault("media_url_builder", signed_media_url)


from app.media import picker_views, tag_views, views  # noqa: E402,F401
