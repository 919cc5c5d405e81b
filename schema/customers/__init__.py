"""The customers slice: who is calling (`Customer`), their contact history and the ring-time screen pop."""
