"""The tickets slice: repair work (`Ticket`), its history and live status, who does it, and the stubs
of tickets the caller may not read."""
