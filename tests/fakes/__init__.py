"""In-memory back offices: one fake per port in `domain.ports`, checked against it by mypy.

Each fake holds records in our vocabulary and answers the way the real adapter does over its simulator
(`tests/contracts/` runs one suite against both), and logs every call by method name, so a test can show
that a refused field never reached a back office.
"""
