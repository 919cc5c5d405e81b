"""The Starlette app and its command line: auth, limits, persisted queries, webhooks, metrics."""
