"""Application factory: the only place an app is built (wsgi.py, worker.py and tests call it)."""

from __future__ import annotations

from flask import Flask, request, session
from flask_login import current_user

from app.config import load_config
from app import settings_check
from app.settings_check import ConfigurationError  # noqa: F401  (raised by create_app)


def create_app(overrides: dict | None = None) -> Flask:
    app = Flask(__name__, instance_relative_config=True)
    app.config.from_mapping(load_config())
    if overrides:
        app.config.update(overrides)
    check_config(app.config)
    register_observability(app)
    register_extensions(app)
    register_blueprints(app)
    register_security(app)
    register_templating(app)
    register_errors(app)
    register_cli(app)
    register_operations(app)
    register_static(app)
    return app


def check_config(config) -> None:
    """Every setting problem at once, before anything starts (app/settings_check.py)."""
    settings_check.resolve_defaults(config)
    settings_check.enforce(config)


def register_observability(app: Flask) -> None:
    """Logging and error reporting first: what follows may already log or fail."""
    from app import observability

    observability.configure_logging(app)
    observability.init_sentry(app)


def register_operations(app: Flask) -> None:
    """Request ids, request latency, /metrics, the messages' log context, `flask check-config`."""
    from app import metrics, observability

    app.before_request_funcs.setdefault(None, []).insert(0, observability.start_request)
    app.after_request(metrics.observe_request)
    app.after_request(observability.finish_request)
    app.register_blueprint(metrics.bp)
    observability.install_message_context(app.extensions["dramatiq"])
    app.cli.add_command(settings_check.check_config_command)


def _select_locale():
    """The request's language; outside a request (a worker building a payload, a CLI command)
    the default one, or what `force_locale` sets around the call."""
    from flask import current_app, has_request_context

    if not has_request_context():
        return current_app.config["BABEL_DEFAULT_LOCALE"]
    languages = current_app.config["LANGUAGES"]
    if session.get("lang") in languages:
        return session["lang"]
    if current_user and getattr(current_user, "is_authenticated", False) and current_user.locale in languages:
        return current_user.locale
    return request.accept_languages.best_match(languages) or current_app.config["BABEL_DEFAULT_LOCALE"]


def register_extensions(app: Flask) -> None:
    from werkzeug.middleware.proxy_fix import ProxyFix

    from app.auth import sessions
    from app.extensions import babel, csrf, db, login_manager, migrate, redis_store
    from app.tasks import actors  # noqa: F401  (declares the project's actors before they are bound)
    from app.tasks import init_broker

    if app.config["TRUSTED_PROXIES"]:
        n = app.config["TRUSTED_PROXIES"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=n, x_proto=n, x_host=n)
    db.init_app(app)
    migrate.init_app(app, db, directory=str(app.root_path + "/../migrations"))
    csrf.init_app(app)
    babel.init_app(app, locale_selector=_select_locale)
    redis_store.init_app(app)
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.session_protection = None  # server-side records do this job (app.auth.sessions)
    login_manager.user_loader(sessions.load_user)
    app.config["PERMANENT_SESSION_LIFETIME"] = app.config["SESSION_ABSOLUTE_TIMEOUT"]
    init_broker(app, namespace=app.config["DRAMATIQ_NAMESPACE"])


def register_blueprints(app: Flask) -> None:
    from app.auth import bp as auth_bp
    from app import notifications
    from app.calendar import bp as calendar_bp
    from app.campaigns import bp as campaigns_bp
    from app.comments import bp as comments_bp
    from app.health import bp as health_bp
    from app.hooks import bp as hooks_bp
    from app.make_checks import bp as make_checks_bp
    from app.media import bp as media_bp
    from app.media.public import bp as media_links_bp
    from app.renditions.views import bp as rendition_links_bp
    from app.platforms import bp as platforms_bp
    from app.reviews import bp as reviews_bp
    from app.review_links import bp as review_links_bp
    from app.search.views import bp as search_bp
    from app.snippets import bp as snippets_bp

    app.register_blueprint(auth_bp)
    app.register_blueprint(health_bp)
    app.register_blueprint(media_bp, url_prefix="/media")
    app.register_blueprint(media_links_bp)  # /m/<token>: signed public media links
    app.register_blueprint(rendition_links_bp)  # /m/r/<token>: the renditions' links
    app.register_blueprint(campaigns_bp, url_prefix="/campaigns")
    app.register_blueprint(calendar_bp)  # /calendar/: every campaign's posts by day
    app.register_blueprint(reviews_bp, url_prefix="/reviews")
    app.register_blueprint(platforms_bp, url_prefix="/platforms")
    app.register_blueprint(hooks_bp, url_prefix="/hooks")
    app.register_blueprint(make_checks_bp, url_prefix="/make")
    app.register_blueprint(search_bp)  # /media/search.json
    app.register_blueprint(snippets_bp, url_prefix="/snippets")  # the team's hashtag groups and texts
    app.register_blueprint(comments_bp)  # /posts/<id>/conversation
    notifications.register(app)  # /notifications, /posts/<id>, and /dev/mail in local development
    app.register_blueprint(review_links_bp)  # /posts/<id>/review-links, and /r/<token> without a login


def register_static(app: Flask) -> None:
    """Hashed, pre-compressed static files served by WhiteNoise (app/static_files.py)."""
    from app import static_files

    static_files.register(app)


def register_security(app: Flask) -> None:
    from app import security

    app.before_request(security.enforce_declared_access)
    app.after_request(security.set_security_headers)


# htmx fitted to the CSP: no eval, no injected inline styles, same-origin requests only;
# 422 (validation errors) is swapped like a success so forms re-render with their errors.
HTMX_CONFIG = {
    "allowEval": False,
    "allowScriptTags": False,
    "includeIndicatorStyles": False,
    "selfRequestsOnly": True,
    "historyCacheSize": 0,
    # htmx copies `style` between an element and its replacement while settling; under a
    # CSP without 'unsafe-inline' that is a violation, and no template uses style attributes.
    "attributesToSettle": ["class", "width", "height"],
    "responseHandling": [
        {"code": "204", "swap": False},
        {"code": "[23]..", "swap": True},
        {"code": "422", "swap": True},
        {"code": "409", "swap": True},  # "already handled by someone else" replaces the card
        {"code": "[45]..", "swap": False, "error": True},
    ],
}


def register_templating(app: Flask) -> None:
    from flask_babel import format_date, format_datetime, get_locale

    from app import labels, navigation, network_options, security
    from app.models import PublicationStatus

    app.jinja_env.globals.update(
        csp_nonce=security.csp_nonce,
        nav_items=navigation.nav_items,
        show_internals=navigation.show_internals,
        current_locale=lambda: str(get_locale()),
        htmx_config=lambda: HTMX_CONFIG,
        role_label=labels.role_label,
        platform_label=labels.platform_label,
        status_label=labels.status_label,
        event_label=labels.event_label,
        publication_status_label=labels.publication_status_label,
        PublicationStatus=PublicationStatus,
        attempt_outcome_label=labels.attempt_outcome_label,
        callback_label=labels.callback_label,
        callback_outcome_label=labels.callback_outcome_label,
        reported_status_label=labels.reported_status_label,
        apply_error_label=labels.apply_error_label,
        note_label=labels.note_label,
        network_options=network_options,
    )
    app.jinja_env.filters.update(datetimeformat=format_datetime, dateformat=format_date)
    app.jinja_env.policies["json.dumps_kwargs"] = {"sort_keys": True, "ensure_ascii": False}


def register_errors(app: Flask) -> None:
    from app import errors

    errors.register(app)


def register_cli(app: Flask) -> None:
    from app import cli

    cli.register(app)
