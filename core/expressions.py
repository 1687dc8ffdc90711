"""Database expressions shared by the apps."""

from typing import Any

from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models import Func
from django.db.models.sql.compiler import SQLCompiler
from django.utils.deconstruct import deconstructible


@deconstructible(path="core.expressions.ByteOrder")
class ByteOrder(Func):
    """A text column compared code point by code point: `COLLATE "C"` on PostgreSQL, the column as it is on SQLite
    (whose default BINARY collation already compares so). An index on it, queried with the same expression, answers
    prefix ranges and ORDER BY ... LIMIT from the index under any database collation (crm/selectors.py's name search).
    """

    template = '%(expressions)s COLLATE "C"'

    def as_sqlite(
        self, compiler: SQLCompiler, connection: BaseDatabaseWrapper, **extra_context: Any
    ) -> tuple[str, Any]:
        return compiler.compile(self.source_expressions[0])
