"""Strawberry types, scalars and directives: the public GraphQL contract."""

from schema.build import build_schema

__all__ = ["build_schema"]
