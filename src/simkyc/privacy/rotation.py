"""Key rotation: re-seal every encrypted column with the active data key, in batches."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import InstrumentedAttribute, Session

from simkyc.privacy.crypto import place, reseal
from simkyc.privacy.keyring import Keyring

SealedColumn = InstrumentedAttribute[Any]
"""A mapped column of sealed values, in a table whose primary key is a string `id`."""


def reencrypt(
    session: Session, *, keyring: Keyring, columns: Sequence[SealedColumn], batch: int = 500
) -> int:
    """Re-seal values sealed with older keys (committing each batch); returns how many.

    Afterwards the old keys can be dropped from the keyring (`KeySet.without`)."""
    return sum(_reencrypt_column(session, keyring=keyring, column=c, batch=batch)
               for c in columns)


def _reencrypt_column(
    session: Session, *, keyring: Keyring, column: SealedColumn, batch: int
) -> int:
    model = column.class_
    table, name, row_id = model.__tablename__, column.key, model.id
    done, last_id = 0, ""
    while True:
        rows = session.execute(
            select(model).where(column.is_not(None), row_id > last_id)
            .order_by(row_id).limit(batch).with_for_update()
        ).scalars().all()
        if not rows:
            return done
        for row in rows:
            fresh = reseal(keyring, getattr(row, name), where=place(table, name, row.id))
            if fresh is not None:
                setattr(row, name, fresh)
                done += 1
            last_id = row.id
        session.commit()
