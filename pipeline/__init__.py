"""The import and the aggregates on Apache Spark, for extracts larger than one
workstation can build (issue 15; docs/extract-schema-v2.md).

- ``spark``: is Java there, and the one SparkSession a build uses;
- ``jobs``: on the driver, every input file's mapping settled the way ``cockpit import``
  settles it, and the areas cleaned by the cockpit's own validator;
- ``rows``: on the executors, one file read, transformed (``data.importer.transform``)
  and cleaned (``data.row_stream``) batch by batch inside ``mapInArrow``;
- ``locate``: the one point-in-polygon function (a site with Apache Sedona swaps it);
- ``rules``: the table-level rules (repeated ids, references) in Spark SQL;
- ``aggregates``: incidents per day x hour x category x area and x grid cell;
- ``build``: the command line and the whole job.
"""
