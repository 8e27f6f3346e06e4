"""Address library, normalising, parsing, matching and reverse geocoding (imports only ``twin``)."""
