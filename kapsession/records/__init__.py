"""Plain, immutable records of the clinic's data, and the errors of reading and writing them.

Storage builds these from what it reads and writes; services, the UI, the exports and the
command line take them as plain data. This package imports only the standard library and
`kapsession.domain` (an import-linter contract), so the UI can use it without reaching storage.
"""
