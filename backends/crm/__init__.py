"""The CRM: contacts and their interaction history, over its REST/JSON API."""
