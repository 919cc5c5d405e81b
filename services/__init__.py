"""Resolvers: fetch domain records through per-request loaders; never build HTTP or parse wire formats."""
