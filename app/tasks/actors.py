"""The project's Dramatiq actors: thin wrappers that call services, safe to run twice.

Actors arrive with the features that need them (media storage, search indexing, scenario
provisioning, publication); each is declared with `@actor` from `app.tasks`.
"""
