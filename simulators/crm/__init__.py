"""CRM simulator: a REST/JSON contact centre CRM with its own ids and epoch-second times."""
