"""The BigQuery fake judged by Google's GoogleSQL compliance corpus (``harness conformance``).

:mod:`corpus` reads the ``.test`` files, :mod:`printout` their expected results, :mod:`scope`
applies ``scope.yml`` (which cases BigQuery's dialect covers), :mod:`tables` builds each file's
tables, :mod:`cases` runs a file's cases on the :mod:`faces` (engine and REST emulator),
:mod:`compare` judges them, :mod:`runner` spreads files over worker processes with a per-case time
limit, and :mod:`report` prints, writes and ratchets the results.
"""
