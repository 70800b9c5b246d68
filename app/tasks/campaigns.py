"""Campaign scenario and social account actors: thin wrappers over the services (safe to run
twice: the services find before they create and skip rows that moved on)."""

from app.extensions import db
from app.tasks import actor

# Provisioning may wait out Make's Retry-After (up to 300 s, 4 times) inside one run.
MAKE_CALL_OPTIONS = dict(max_retries=8, min_backoff=10_000, max_backoff=600_000, time_limit=30 * 60 * 1000)


@actor(on_retry_exhausted="scenario_provisioning_gave_up", **MAKE_CALL_OPTIONS)
def provision_scenario(campaign_scenario_id: int) -> None:
    from app.campaigns import provisioning

    provisioning.provision(campaign_scenario_id)


@actor(max_retries=0)
def scenario_provisioning_gave_up(message_data: dict, retry_info: dict) -> None:
    """Dramatiq's `on_retry_exhausted` target for `provision_scenario`."""
    from app.campaigns import provisioning

    provisioning.give_up(message_data["args"][0])


@actor(**MAKE_CALL_OPTIONS)
def stop_scenario(campaign_scenario_id: int) -> None:
    from app.campaigns import provisioning

    provisioning.stop(campaign_scenario_id)


@actor(max_retries=0, time_limit=30 * 60 * 1000)
def test_social_account(account_id: int) -> None:
    from app.platforms import service

    service.run_test(account_id)
    db.session.commit()
