"""Strawberry types, scalars and directives (the screen-pop issue builds them)."""
