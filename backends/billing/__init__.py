"""营收 (billing/revenue) backend: a SOAP 1.1 client and the anti-corruption layer over it."""
