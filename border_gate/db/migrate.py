"""Running Alembic to head, from the CLI, the embedded server and the tests."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from alembic import command
from alembic.config import Config


def alembic_config(database_url: str) -> Config:
    """Alembic's configuration for our migrations package and `database_url` (async driver)."""
    script_location = Path(str(resources.files("migrations")))
    config = Config()
    config.set_main_option("script_location", str(script_location))
    config.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    config.set_main_option("file_template", "%%(year)d_%%(month).2d_%%(day).2d_%%(rev)s_%%(slug)s")
    return config


def upgrade_to_head(database_url: str) -> None:
    """Bring the schema at `database_url` to the newest migration. Call outside an event loop."""
    command.upgrade(alembic_config(database_url), "head")


def schema_is_current(database_url: str) -> bool:
    """Whether the database at `database_url` is at the newest migration."""
    import asyncio

    from alembic.runtime.migration import MigrationContext
    from alembic.script import ScriptDirectory

    from border_gate.db.engine import create_engine

    heads = set(ScriptDirectory.from_config(alembic_config(database_url)).get_heads())

    async def current() -> set[str]:
        engine = create_engine(database_url, pool_size=1)
        try:
            async with engine.connect() as connection:
                return set(
                    await connection.run_sync(
                        lambda sync: MigrationContext.configure(sync).get_current_heads()
                    )
                )
        finally:
            await engine.dispose()

    return asyncio.run(current()) == heads
