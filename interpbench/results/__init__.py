"""The benchmark's results: sweeps of runs written as records (``sweep``), read back into
leaderboards with their statistics (``report``), drawn as an HTML page (``report_html``)
and as circuit pictures (``plotting``)."""
