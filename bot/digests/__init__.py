"""Daily digests: the job (runner), its schedule (scheduler) and its ops command (cli)."""
