"""Meta-test: every table with a visitor column is covered by erasure; the registry is no wider."""

from __future__ import annotations

import re

from sqlalchemy import Column, MetaData, String, Table

from marktplatz.store.journey import ERASURE
from marktplatz.store.tables import metadata

# Columns that name a visitor: visitor, visitor_id, pseudonym, author_pseudonym …
VISITOR_COLUMN = re.compile(r"^(visitor(_id)?|(\w+_)?pseudonym)$")


def uncovered(schema: MetaData) -> list[str]:
    """Visitor columns of the schema that erasure (store.journey.ERASURE) does not handle."""
    return sorted(
        f"{name}.{column.name}"
        for name, table in schema.tables.items()
        for column in table.columns
        if VISITOR_COLUMN.match(column.name) and ERASURE.get(name, ("",))[0] != column.name
    )


def test_every_table_with_a_visitor_column_is_erased() -> None:
    missing = uncovered(metadata)
    assert missing == [], f"add these to ERASURE in store/journey.py: {missing}"


def test_the_erasure_registry_names_only_existing_tables_and_columns() -> None:
    unknown = sorted(
        f"{table}.{column}"
        for table, (column, _) in ERASURE.items()
        if table not in metadata.tables or column not in metadata.tables[table].c
    )
    assert unknown == [], f"ERASURE lists what the schema does not have: {unknown}"


def test_the_check_names_a_new_table_that_erasure_forgets() -> None:
    # given a schema with a table the registry does not know (e.g. a later saved_coupons)
    schema = MetaData()
    Table("saved_coupons", schema, Column("visitor", String(32)), Column("code", String(16)))
    Table("reviews", schema, Column("author_pseudonym", String(32)))
    # then
    assert uncovered(schema) == ["reviews.author_pseudonym", "saved_coupons.visitor"]
