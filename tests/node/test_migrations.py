"""node.db.migrate: the migrations build exactly the models' schema, on both databases."""

from __future__ import annotations

from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Engine, inspect

from node.db import Base, current_revision, head_revision, make_engine, upgrade
from node.db.migrate import SCRIPTS


def test_migrated_schema_equals_the_models(engine: Engine) -> None:
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        diff = compare_metadata(context, Base.metadata)
    assert diff == []
    assert set(inspect(engine).get_table_names()) == {*Base.metadata.tables, "alembic_version"}


def test_upgrade_records_the_head_and_is_idempotent(engine: Engine) -> None:
    assert current_revision(engine) == head_revision()
    upgrade(engine)  # already at head: nothing to do
    assert current_revision(engine) == head_revision()


def test_a_fresh_database_is_unversioned(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'new.db'}")
    assert current_revision(engine) is None
    upgrade(engine)
    assert current_revision(engine) == head_revision()
    engine.dispose()


def test_migration_scripts_ship_with_the_package() -> None:
    assert (SCRIPTS / "env.py").is_file()
    assert (SCRIPTS / "script.py.mako").is_file()
    assert list((SCRIPTS / "versions").glob("0001_*.py"))
