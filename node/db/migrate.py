"""Schema migrations, run from code: `upgrade(engine)` brings a database to the newest schema.

The Alembic scripts live in the `node.db.migrations` package (shipped as package data, so a
wheel or an editable install can migrate). The connection is handed to the scripts' `env.py`
through the Alembic config, so no `alembic.ini` and no URL in a file are needed.
"""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine

__all__ = ["SCRIPTS", "alembic_config", "current_revision", "head_revision", "upgrade"]

#: Directory of the migration scripts (env.py and versions/).
SCRIPTS = Path(__file__).with_name("migrations")


def alembic_config(connection: Connection | None = None) -> Config:
    """An Alembic config for our scripts, optionally bound to an open connection."""
    config = Config()
    config.set_main_option("script_location", str(SCRIPTS))
    if connection is not None:
        config.attributes["connection"] = connection
    return config


def head_revision() -> str:
    """The newest schema revision the scripts know."""
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None
    return head


def current_revision(engine: Engine) -> str | None:
    """The revision a database is at (None if it was never migrated)."""
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Migrate the database of `engine` to `revision` (default: the newest), in a transaction."""
    with engine.begin() as connection:
        command.upgrade(alembic_config(connection), revision)
