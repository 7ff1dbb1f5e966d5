"""Training runs: the run manager (app.runs.manager), what a worker process reports
(app.runs.reporter), the entry of every worker process (app.runs.entry) and the progress a run page
shows (app.runs.views). Imports nothing heavy: worker processes start here."""
