"""Alembic environment for Twofold, run through Flask-Migrate (``flask db ...``).

The app factory has already configured the engine; this file only hands Alembic the
connection and the models' metadata. Logging is left to the app: Alembic's usual
``fileConfig`` would silence every logger configured before it.
"""

from alembic import context
from flask import current_app

from twofold.db import Base

database = current_app.extensions["migrate"].db


def run_offline() -> None:
    context.configure(
        url=database.engine.url.render_as_string(hide_password=False),
        target_metadata=Base.metadata,
        literal_binds=True,
        render_as_batch=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_online() -> None:
    def skip_empty(context_, revision, directives) -> None:
        # `flask db migrate` with no model change should not write an empty revision.
        if getattr(context.config.cmd_opts, "autogenerate", False) and directives[0].upgrade_ops.is_empty():
            directives[:] = []

    with database.engine.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=Base.metadata,
            process_revision_directives=skip_empty,
            render_as_batch=True,  # SQLite alters tables by copying them
            compare_type=True,
        )
        with context.begin_transaction():
            context.run_migrations()


if context.is_offline_mode():
    run_offline()
else:
    run_online()
