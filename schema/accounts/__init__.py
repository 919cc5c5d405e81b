"""The accounts slice: billing's account (`Account`), its bills, payments, meter and mandate, and fee
adjustments."""
