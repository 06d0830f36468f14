"""A small Django site using consentgate.django: pages, an admin, an analytics snippet."""
