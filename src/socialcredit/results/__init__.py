"""What a run leaves behind, built from the engine's arrays: one module per table.

- ``metrics``: the tidy daily metrics (``tidy_metrics``); ``aggregation``: how they combine
  across cells (sum or mean) and ``daily_totals``.
- ``snapshot``: the final per-agent table (``snapshot``).
- ``summary``: the small JSON-able summary (``summarize``).
- ``credit``: credit files, the event log of a sample of agents (``credit_sample``,
  ``decode_events``, ``credit_file``; the log is ``events.parquet``, ``credit.duckdb`` in old
  folders).
- ``orgs``: the organisations' daily table, firm table and summary.

``socialcredit.api.simulate`` calls them; ``socialcredit.result.Result`` holds what they
return. Import from the submodules: this package imports nothing, so that the CLI's quick
commands do not load JAX.
"""
