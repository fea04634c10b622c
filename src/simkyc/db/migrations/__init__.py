"""Alembic migrations, shipped in the package and run by simkyc.db.migrate.upgrade()."""
