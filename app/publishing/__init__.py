"""Publication through Make: outbox rows, their statuses, and what they mean for the object."""
