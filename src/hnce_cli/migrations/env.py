"""Alembic environment: migrates the connection hnce hands over (see hnce_cli.store.migrate)."""

from alembic import context
from sqlmodel import SQLModel

import hnce_cli.models  # noqa: F401  (registers the tables on the metadata)

config = context.config
target_metadata = SQLModel.metadata


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is None:
        from hnce_cli.store.migrate import get_engine

        url = config.get_main_option("sqlalchemy.url")
        with get_engine(url).begin() as conn:
            context.configure(connection=conn, target_metadata=target_metadata,
                              render_as_batch=True)
            with context.begin_transaction():
                context.run_migrations()
        return
    context.configure(connection=connection, target_metadata=target_metadata,
                      render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()


run_migrations_online()
