"""What every simulator shares: latency, faults, the connection-pool model, stats, logs, admin routes."""
