"""One package per back-office system: client, wire parsing, anti-corruption mapping (screen-pop issue)."""
