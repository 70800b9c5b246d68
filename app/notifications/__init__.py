"""Notifications: in the app, by e-mail (at once or as a daily digest) and to Teams
(docs/notifications.md). `register(app)` adds the blueprint, the unread count the navigation
shows, and in local development the page of the mails the local SMTP sink received."""

from flask import Blueprint

# The mails' templates live apart from the pages': mail clients need inline styles, which the
# pages' CSP forbids (tests/test_security_headers.py checks app/templates only).
bp = Blueprint("notifications", __name__, template_folder="mail_templates")


def register(app) -> None:
    from app.notifications import views  # noqa: F401  (routes)
    from app.notifications.views import notification_words, unread_badge

    app.register_blueprint(bp)
    app.jinja_env.globals.update(unread_badge=unread_badge, notification_words=notification_words)
    if app.config["APP_ENV"] == "development" and app.config["DEV_MAIL_DIR"]:
        from app.notifications.devmail import bp as devmail_bp

        app.register_blueprint(devmail_bp)
