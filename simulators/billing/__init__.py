"""The 营收 (billing/revenue) simulator: a legacy SOAP 1.1 service with the quirks of its kind.

`app.create_app` is the entry point; `soap` parses and writes envelopes, `render` turns world
records into pinyin-column rows, `ops` holds the operations and their documented conventions.
"""
