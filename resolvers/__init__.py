"""Query, mutation and subscription resolvers and per-request loaders (the screen-pop issue)."""
