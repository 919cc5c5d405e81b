"""The GIS backend: an ArcGIS FeatureServer client and its anti-corruption layer."""
