"""The clean domain model: what every adapter hands to the services, in our own vocabulary.

Wire shapes (SOAP columns, esriJSON attributes, vendor codes) never get past a backend's
mapping module; everything above `backends/` sees only these types. The model imports nothing
first-party and does no I/O: `ports` names what each back office is asked, in these types, and the
adapters in `backends/` answer it.
"""
