"""Import a station's own files into an extract (see README: Importing a station's files)."""
