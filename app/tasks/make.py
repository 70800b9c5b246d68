"""Make checks run by the worker: a scenario's dry run, the installation's doctor."""

from app.extensions import db
from app.tasks import actor


class DryRunNotSent(Exception):
    """Make did not take the dry run yet (network error, 429, 5xx): Dramatiq tries again."""


@actor(max_retries=3, min_backoff=2_000, max_backoff=20_000, on_retry_exhausted="dry_run_gave_up")
def send_dry_run(campaign_scenario_id: int, idempotency_key: str) -> None:
    from app.integrations import dry_run

    if dry_run.send(campaign_scenario_id, idempotency_key) == "retry":
        raise DryRunNotSent(campaign_scenario_id)


@actor(max_retries=0)
def dry_run_gave_up(message_data: dict, retry_info: dict) -> None:
    from app.integrations import dry_run

    dry_run.fail(message_data["args"][0], "Make did not accept the dry run (network error, 429 or 5xx, several times)")


@actor(max_retries=0, time_limit=30 * 60 * 1000)
def run_make_doctor() -> None:
    from app.integrations import doctor

    doctor.run_and_record()
    db.session.commit()
