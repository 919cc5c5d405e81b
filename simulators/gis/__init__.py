"""The GIS simulator: an ArcGIS FeatureServer stand-in serving the seeded pipe network.

It answers the way ArcGIS does, quirks included: errors inside HTTP 200 bodies, coded
values explained only by layer domains, epoch-millisecond dates and paged results.
"""
