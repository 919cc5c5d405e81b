"""Stand-ins for the utility's four back-office systems.

Each simulator is another company's product: it shares nothing with the BFF
(`backends/`, `services/`, `schema/`, `gateway/`), only the seeded world below.
"""
