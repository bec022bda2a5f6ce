"""node.db.migrate: the migrations build exactly the models' schema, on both databases."""

from __future__ import annotations

import re
import warnings
from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Engine, inspect

from node.db import Base, current_revision, head_revision, make_engine, upgrade
from node.db.migrate import SCRIPTS


def test_migrated_schema_equals_the_models(engine: Engine) -> None:
    with engine.connect() as connection, warnings.catch_warnings():
        # Alembic does not compare expression indexes (SQLite's are not even reflected):
        # the one there is, is checked below
        warnings.filterwarnings("ignore", "(autogenerate )?[Ss]kipp\\w+ .*expression-based index")
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        diff = compare_metadata(context, Base.metadata)
    assert diff == []
    assert set(inspect(engine).get_table_names()) == {*Base.metadata.tables, "alembic_version"}


def test_entries_have_the_id_band_index_of_the_models(engine: Engine) -> None:
    (index,) = Base.metadata.tables["entries"].indexes
    assert index.name == "ix_entries_id_band"
    with engine.connect() as connection:
        if engine.dialect.name == "sqlite":
            sql = connection.exec_driver_sql(
                "SELECT sql FROM sqlite_master WHERE name = 'ix_entries_id_band'"
            ).scalar_one()
        else:
            sql = connection.exec_driver_sql(
                "SELECT indexdef FROM pg_indexes WHERE indexname = 'ix_entries_id_band'"
            ).scalar_one()
    # SQLite: ON entries (seq / 16384, substr(id, 1, 16));
    # PostgreSQL: USING btree (((seq / 16384)), substr((id)::text, 1, 16))
    compiled = [str(e.compile(engine)) for e in index.expressions]
    assert compiled == ["entries.seq / 16384", "substr(entries.id, 1, 16)"]
    assert re.sub(r"[\s()]|::text", "", sql).endswith("seq/16384,substrid,1,16"), sql


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
