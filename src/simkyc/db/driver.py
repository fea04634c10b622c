"""Hot-path statements sent straight through the psycopg connection of a SQLAlchemy
Connection: the Core statement is compiled by SQLAlchemy once per shape (the sizes of its
list parameters, an insert's columns), then each call only binds values, executes on the
driver's cursor and applies the columns' result processors.

Why: a single registration's client CPU went mostly to SQLAlchemy's per-execution work
(execution context, cache-key lookup, expanding-IN rendering, cursor description, result
objects) around six small statements (bench/registry_profile.py --profile). The SQL, its
bound constants and the type processing are SQLAlchemy's own, so the statements are
unchanged; errors come back as SQLAlchemy's (IntegrityError, OperationalError, ...), and a
lost connection invalidates the Connection as SQLAlchemy would (the API's 503, then
recovery). Anything else (SQLite, another driver, lists longer than MAX_LIST, several rows
at once, client-side defaults) goes through `Connection.execute` unchanged. What goes
through the driver is not seen by SQLAlchemy's cursor events nor echoed (nothing in simkyc
listens; bench/registry_profile.py counts round trips on the wire instead).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import Connection, CursorResult
from sqlalchemy.engine import Dialect
from sqlalchemy.exc import DBAPIError
from sqlalchemy.sql.base import Executable
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.elements import ClauseElement
from sqlalchemy.sql.selectable import SelectBase

MAX_LIST = 16  # longer lists (a bulk batch's) keep SQLAlchemy's path: shapes stay few
_CURSOR = "simkyc.driver_cursor"  # pool record info: the connection's reusable cursor
Processor = Callable[[Any], Any]


@dataclass(frozen=True)
class _Shape:
    """A statement compiled for one set of parameter names and list sizes."""

    sql: str
    constants: dict[str, Any]  # the statement's own bound values, processed
    variables: tuple[tuple[str, tuple[str, ...] | None, Processor | None], ...]


class DriverStatement:
    """A Core statement executed through the driver where it can be (see the module)."""

    def __init__(self, statement: Executable) -> None:
        self.statement = statement
        self._shapes: dict[tuple[Any, ...], _Shape | None] = {}
        self._results: dict[str, list[tuple[int, Processor]]] = {}

    def rows(self, connection: Connection, params: Mapping[str, Any]) -> list[tuple[Any, ...]]:
        """The rows of a SELECT, with the columns' types applied (enums, aware datetimes)."""
        shape = self._shape(connection, params)
        if shape is None:
            return [tuple(row) for row in connection.execute(self.statement, params)]
        cursor = self._execute(connection, shape, params)
        rows = cursor.fetchall()
        processors = self._result_processors(connection.dialect)
        if not processors:
            return cast(list[tuple[Any, ...]], rows)
        out = []
        for row in rows:
            values = list(row)
            for index, process in processors:
                values[index] = process(values[index])
            out.append(tuple(values))
        return out

    def run(self, connection: Connection, params: Mapping[str, Any] | Sequence[Mapping[str, Any]]
            ) -> int:
        """Execute an INSERT or UPDATE (several rows at once through SQLAlchemy); the
        number of rows it touched."""
        if not isinstance(params, Mapping):
            if len(params) != 1:
                result = connection.execute(self.statement, list(params))
                return cast(CursorResult[Any], result).rowcount
            params = params[0]
        shape = self._shape(connection, params)
        if shape is None:
            return cast(CursorResult[Any], connection.execute(self.statement, params)).rowcount
        return int(self._execute(connection, shape, params).rowcount)

    def _shape(self, connection: Connection, params: Mapping[str, Any]) -> _Shape | None:
        if connection.dialect.driver != "psycopg":
            return None
        key = (*params, *(len(v) if v.__class__ is list or v.__class__ is tuple else -1
                          for v in params.values()))  # the names, and the lists' sizes
        try:
            return self._shapes[key]
        except KeyError:
            pass
        long = any(isinstance(v, list | tuple) and len(v) > MAX_LIST for v in params.values())
        shape = None if long else _compile(self.statement, connection.dialect, params)
        if not long:  # (long lists' shapes are not kept: too many)
            self._shapes[key] = shape
        return shape

    def _execute(self, connection: Connection, shape: _Shape, params: Mapping[str, Any]
                 ) -> Any:
        values = dict(shape.constants)
        for key, names, process in shape.variables:
            value = params[key]
            if names is None:
                values[key] = value if process is None else process(value)
            elif process is None:
                values.update(zip(names, value, strict=True))
            else:
                values.update(zip(names, map(process, value), strict=True))
        pooled = connection.connection
        raw = pooled.driver_connection
        assert raw is not None  # a checked-out, valid connection
        cursor = pooled.info.get(_CURSOR)
        if cursor is None or cursor.connection is not raw or cursor.closed:
            cursor = pooled.info[_CURSOR] = raw.cursor()
        try:
            cursor.execute(shape.sql, values)
        except connection.dialect.loaded_dbapi.Error as error:
            raise _translated(connection, error, shape.sql, values, cursor) from error
        return cursor

    def _result_processors(self, dialect: Dialect) -> list[tuple[int, Processor]]:
        try:
            return self._results[dialect.name]
        except KeyError:
            assert isinstance(self.statement, SelectBase)
            found: list[tuple[int, Processor]] = []
            for index, column in enumerate(self.statement.selected_columns):
                process = column.type.dialect_impl(dialect).result_processor(dialect, None)
                if process is not None:
                    found.append((index, process))
            self._results[dialect.name] = found
            return found


def _compile(statement: Executable, dialect: Dialect, params: Mapping[str, Any]
             ) -> _Shape | None:
    """The statement's SQL for these parameter names and list sizes, or None where the
    driver path would not do what SQLAlchemy does (client-side defaults to compute)."""
    clause = cast(ClauseElement, statement)
    compiled = cast(SQLCompiler, clause.compile(dialect=dialect, column_keys=list(params)))
    if compiled.insert_prefetch or compiled.update_prefetch or compiled.positional:
        return None
    state = compiled.construct_expanded_state(dict(params))
    variables: list[tuple[str, tuple[str, ...] | None, Processor | None]] = []
    derived: set[str] = set()
    for key in params:
        names = state.parameter_expansion.get(key)
        if names is None:
            if key not in state.parameters:
                return None
            variables.append((key, None, state.processors.get(key)))
            derived.add(key)
        else:
            process = state.processors.get(names[0]) if names else None
            variables.append((key, tuple(names), process))
            derived.update(names)
    constants = {}
    for name, value in state.parameters.items():
        if name not in derived:
            process = state.processors.get(name)
            constants[name] = value if process is None else process(value)
    return _Shape(sql=state.statement, constants=constants, variables=tuple(variables))


def _translated(connection: Connection, error: Any, sql: str, values: Mapping[str, Any],
                cursor: Any) -> DBAPIError:
    """SQLAlchemy's exception for a driver error; a lost connection invalidates the
    Connection first (the pool then replaces it, as after any disconnect)."""
    dialect = connection.dialect
    lost = dialect.is_disconnect(error, connection.connection.driver_connection, cursor)
    if lost:
        connection.invalidate(error)
    return cast(DBAPIError, DBAPIError.instance(
        sql, dict(values), error, dialect.loaded_dbapi.Error, connection_invalidated=lost,
        dialect=dialect))
