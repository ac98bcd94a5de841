"""Meta-test: the only statement the application runs against audit_log that writes is INSERT.

Scans every module of the package (migrations aside: they install the guards) for code that
names the audit_log table, and for SQL text that names it. Together with the database triggers
(tests/integration/test_audit_append_only.py) and the GET-only console routes
(tests/api/test_console_audit.py) this proves the log cannot be changed through the application.
"""

from __future__ import annotations

import ast
import inspect
import re
from pathlib import Path

import marktplatz
from marktplatz.services.ports import AuditLog
from marktplatz.store.audit import SqlAuditLog

PACKAGE = Path(marktplatz.__file__).parent
MIGRATIONS = PACKAGE / "store" / "migrations"
TABLE = "audit_log"
# Ways of using the table object that cannot change a row: selecting from it, its columns.
READS = {"c", "columns", "select", "outerjoin", "join", "alias"}
WRITE_CALLS = {"update", "delete", "insert"}
RAW_WRITE = re.compile(
    r"\b(update|delete\s+from|truncate(\s+table)?|replace\s+into|insert\s+or\s+replace\s+into"
    r"|drop\s+table|alter\s+table)\s+\"?audit_log\b",
    re.IGNORECASE,
)


def _names_table(node: ast.AST) -> bool:
    return (isinstance(node, ast.Attribute) and node.attr == TABLE) or (
        isinstance(node, ast.Name) and node.id == TABLE
    )


def uses(source: str) -> list[str]:
    """How the source uses the audit_log table: 'insert', 'read', or the forbidden verb."""
    tree = ast.parse(source)
    parents = {child: node for node in ast.walk(tree) for child in ast.iter_child_nodes(node)}
    found: list[str] = []
    for node in ast.walk(tree):
        if not _names_table(node) or isinstance(parents.get(node), ast.ImportFrom):
            continue
        parent = parents.get(node)
        if isinstance(parent, ast.Attribute):  # t.audit_log.<something>
            found.append("insert" if parent.attr == "insert" else parent.attr)
        elif isinstance(parent, ast.Call) and isinstance(parent.func, ast.Name):
            verb = parent.func.id  # update(t.audit_log), delete(t.audit_log), select(...)
            found.append(verb if verb in WRITE_CALLS else "read")
        elif isinstance(parent, ast.Call | ast.keyword | ast.Tuple | ast.List):
            found.append("read")  # select_from(t.audit_log), an argument to a helper
        elif isinstance(parent, ast.Assign | ast.AnnAssign):
            found.append("table-definition" if isinstance(node, ast.Name) else "read")
        else:
            found.append(type(parent).__name__)
    for constant in ast.walk(tree):
        if isinstance(constant, ast.Constant) and isinstance(constant.value, str):
            found += [f"raw {m[0].split()[0].lower()}" for m in RAW_WRITE.finditer(constant.value)]
    return found


def application_modules() -> list[Path]:
    return [p for p in sorted(PACKAGE.rglob("*.py")) if MIGRATIONS not in p.parents]


def test_the_application_only_ever_inserts_into_the_audit_log() -> None:
    # given every module of the application
    verbs: dict[str, set[str]] = {}
    for path in application_modules():
        for verb in uses(path.read_text(encoding="utf-8")):
            verbs.setdefault(verb, set()).add(str(path.relative_to(PACKAGE)))
    # then it inserts (in one place), reads, and does nothing else to the table
    writes = {v: where for v, where in verbs.items() if v not in READS | {"read", "insert"}}
    assert writes == {"table-definition": {"store/tables.py"}}, writes
    assert verbs["insert"] == {"store/audit.py"}


def test_the_scan_finds_every_kind_of_change() -> None:
    # given a module that changes the log in every way we know of
    source = """
from sqlalchemy import delete, update, text
async def rewrite(conn):
    await conn.execute(update(t.audit_log).values(detail=""))
    await conn.execute(delete(tables.audit_log))
    await conn.execute(t.audit_log.delete())
    await conn.execute(t.audit_log.update().values(detail=""))
    await conn.execute(text("DELETE FROM audit_log"))
    await conn.execute(text('UPDATE "audit_log" SET detail = 1'))
    await conn.execute(text("TRUNCATE TABLE audit_log"))
    await conn.execute(text("INSERT OR REPLACE INTO audit_log VALUES (1)"))
"""
    # when
    found = uses(source)
    # then
    assert found.count("update") == 2
    assert found.count("delete") == 2
    assert sorted(v for v in found if v.startswith("raw")) == [
        "raw delete",
        "raw insert",
        "raw truncate",
        "raw update",
    ]


def test_the_scan_lets_reads_and_inserts_pass() -> None:
    source = """
async def fine(conn):
    await conn.execute(t.audit_log.insert().values(action="x"))
    await conn.execute(select(t.audit_log).where(t.audit_log.c.id == 1))
    await conn.execute(select(func.count()).select_from(t.audit_log))
"""
    assert sorted(set(uses(source))) == ["c", "insert", "read"]


def test_the_audit_repository_offers_no_way_to_change_a_line() -> None:
    # given the port and its SQL twin
    def public(cls: type) -> set[str]:
        return {name for name, _ in inspect.getmembers(cls) if not name.startswith("_")}

    # then both offer appending and reading only
    assert public(AuditLog) == {"append", "has_since", "page"}
    assert public(SqlAuditLog) == {"append", "has_since", "page"}
