"""The printed schema, committed as `schema/schema.graphql` so every contract change shows in review."""

from __future__ import annotations

from pathlib import Path

from schema.build import build_schema

SDL_PATH = Path(__file__).with_name("schema.graphql")


def printed_sdl() -> str:
    return build_schema().as_str() + "\n"
