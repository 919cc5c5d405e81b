"""The GIS backend: an ArcGIS FeatureServer client and its anti-corruption layer."""

from backends.gis.client import GisClient

__all__ = ["GisClient"]
