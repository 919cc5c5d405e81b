"""The operations Tidegate's own clients send, shipped with the BFF as package data.

`gql/*.graphql` and `manifest.json` are read at start-up (the persisted-query safelist, the
ring-time screen pop), so they travel in the wheel; this package only says where they are.
"""

from pathlib import Path

GQL_DIR = Path(__file__).resolve().parent
