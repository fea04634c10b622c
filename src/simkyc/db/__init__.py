"""Storage: engine and sessions from settings, the declarative base, migrations, idempotency."""
