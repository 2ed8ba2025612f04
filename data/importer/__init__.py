"""Import a station's own files into an extract (README: "Importing a station's files").

One step per module, each a function on Arrow data; ``cockpit import`` and the wizard
are shells over them, and Spark runs ``transform.apply`` batch by batch:

- ``read`` (``read_csv``, ``read_excel``, ``read_geo``, ``encoding``, ``header``): a file
  → ``source.SourceTable`` of its cells, with ``_source_file`` and ``_source_row``;
- ``propose`` (``synonyms``): headers and values → a ``mapping.FileMapping``;
- ``mapping``: the mapping as data, written to and read from a commented TOML file;
- ``values``: cells → typed values, with why each unreadable one was not read;
- ``transform``: ``apply(batch, plan)`` → a batch in the schema's form (``place`` puts
  rows without coordinates in their area by name);
- ``write``: the extract, atomically (DuckDB file or Parquet folder);
- ``report``: what was mapped to what and what was read, per file and column;
- ``run``: the whole import; ``session``: an import set up interactively.

Validation of the written extract (duplicates, coordinates, areas) stays where it is,
in ``data.validate``: the importer writes what the files say, and ``open_extract``
judges it like any other extract.
"""
