"""units: no foreign key to registry_versions. Every row is written in the transaction that
writes its version (versions are never deleted), and PostgreSQL checked that key row by row:
about 6 s of the country's 665,271-unit registry import, half of it

Revision ID: 0018
Revises: 0017
"""

from alembic import op

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None

# the key was created unnamed: PostgreSQL named it, SQLite's is found by this convention
NAMING = {"fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s"}


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.drop_constraint("units_registry_version_id_fkey", "units", type_="foreignkey")
        return
    with op.batch_alter_table("units", naming_convention=NAMING) as batch:
        batch.drop_constraint("fk_units_registry_version_id_registry_versions", type_="foreignkey")


def downgrade() -> None:
    with op.batch_alter_table("units") as batch:
        batch.create_foreign_key(
            "fk_units_registry_version_id_registry_versions",
            "registry_versions",
            ["registry_version_id"],
            ["id"],
        )
