"""Write step: schema-form batches → an extract, atomically.

Everything goes to a temporary file (or folder) beside the target, which replaces
the target with ``os.replace`` only when complete, so a wall watching the path
never sees half an extract; on failure or cancel the temporary is removed and the
target is untouched. Rows are written in the order given (files in the order
given, rows in file order): "the later row of a repeated id" is decided from it.
"""

from __future__ import annotations

import contextlib
import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq

from ..schema import BLOB, BOOLEAN, DATE, DOUBLE, INTEGER, TABLES, TEXT, TIMESTAMP
from .source import SOURCE_FILE, SOURCE_ROW
from .transform import ARROW_TYPES

FORMATS = ("duckdb", "parquet")
_SQL = {TEXT: "VARCHAR", TIMESTAMP: "TIMESTAMP", DATE: "DATE", DOUBLE: "DOUBLE",
        INTEGER: "BIGINT", BOOLEAN: "BOOLEAN", BLOB: "BLOB"}


def schema_of(table: str) -> pa.Schema:
    """The Arrow schema of a schema-form table as ``transform.apply`` produces it."""
    cols = [pa.field(c.name, ARROW_TYPES[c.kind]) for c in TABLES[table].columns]
    return pa.schema([*cols, pa.field(SOURCE_FILE, pa.string()),
                      pa.field(SOURCE_ROW, pa.int64())])


class ExtractWriter:
    """Writes tables into a temporary extract; ``commit`` puts it in place."""

    def __init__(self, out: str | Path, fmt: str = "duckdb") -> None:
        if fmt not in FORMATS:
            raise ValueError(f"format must be one of {FORMATS}")
        self.out = Path(out).expanduser().resolve()
        self.fmt = fmt
        self.out.parent.mkdir(parents=True, exist_ok=True)
        self.tmp = self.out.with_name(f".{self.out.name}.importing-{os.getpid()}")
        self._remove(self.tmp)
        self.rows: dict[str, int] = {}
        self._con: duckdb.DuckDBPyConnection | None = None
        self._writers: dict[str, pq.ParquetWriter] = {}
        if fmt == "duckdb":
            self._con = duckdb.connect(str(self.tmp), config={
                "autoinstall_known_extensions": False, "autoload_known_extensions": False,
                "memory_limit": "512MB"})
            self._con.execute("SET enable_progress_bar = false").fetchall()
            self._con.execute("SET preserve_insertion_order = true").fetchall()
        else:
            self.tmp.mkdir()

    def write_table(self, table: str, batches: Iterator[pa.RecordBatch]) -> int:
        """Write one table from its batches, in their order, in one streaming pass (one
        DuckDB statement: inserting batch by batch was three times slower)."""
        schema = schema_of(table)
        failure: list[BaseException] = []

        def cast() -> Iterator[pa.RecordBatch]:
            try:
                for b in batches:
                    yield pa.RecordBatch.from_arrays(
                        [b.column(f.name).cast(f.type) for f in schema], schema=schema)
            except BaseException as exc:  # DuckDB would wrap it: keep it to raise as is
                failure.append(exc)
                raise

        rows = 0
        if self._con is not None:
            reader = pa.RecordBatchReader.from_batches(schema, cast())
            self._con.register("_import_stream", reader)
            try:
                self._con.execute(f'CREATE TABLE "{table}" AS SELECT * FROM _import_stream'
                                  ).fetchall()
            except duckdb.Error:
                if failure:
                    raise failure[0] from None
                raise
            finally:
                self._con.unregister("_import_stream")
            rows = int(self._con.execute(f'SELECT count(*) FROM "{table}"').fetchall()[0][0])
        else:
            (self.tmp / table).mkdir()
            writer = pq.ParquetWriter(self.tmp / table / "part-00000.parquet", schema,
                                      compression="zstd")
            self._writers[table] = writer
            for b in cast():
                writer.write_batch(b)
                rows += b.num_rows
            writer.close()
            del self._writers[table]
        self.rows[table] = rows
        return rows

    def commit(self, meta: dict[str, str]) -> Path:
        keys = pa.array(list(meta), pa.string())
        vals = pa.array(list(meta.values()), pa.string())
        if self._con is not None:
            con = self._con
            con.execute("CREATE TABLE meta (key VARCHAR, value VARCHAR)").fetchall()
            con.register("_meta", pa.table({"key": keys, "value": vals}))
            con.execute("INSERT INTO meta SELECT * FROM _meta").fetchall()
            con.unregister("_meta")
            con.execute("CHECKPOINT").fetchall()
            con.close()
            self._con = None
            Path(f"{self.out}.wal").unlink(missing_ok=True)  # would be replayed into the new file
            os.replace(self.tmp, self.out)
        else:
            for w in self._writers.values():
                w.close()
            self._writers.clear()
            pq.write_table(pa.table({"key": keys, "value": vals}), self.tmp / "meta.parquet")
            self._swap_dir()
        return self.out

    def _swap_dir(self) -> None:
        if self.out.exists() and not self.out.is_dir():
            self.out.unlink()
        if self.out.exists():
            old = self.out.with_name(f".{self.out.name}.old-{os.getpid()}")
            self._remove(old)
            os.replace(self.out, old)
            os.replace(self.tmp, self.out)
            self._remove(old)
        else:
            os.replace(self.tmp, self.out)

    def abort(self) -> None:
        """Remove everything written so far; the target is left as it was."""
        if self._con is not None:
            with contextlib.suppress(duckdb.Error):
                self._con.close()
            self._con = None
        for w in self._writers.values():
            with contextlib.suppress(OSError):
                w.close()
        self._writers.clear()
        self._remove(self.tmp)

    @staticmethod
    def _remove(path: Path) -> None:
        if path.is_dir():
            shutil.rmtree(path, ignore_errors=True)
        else:
            path.unlink(missing_ok=True)
        Path(f"{path}.wal").unlink(missing_ok=True)
