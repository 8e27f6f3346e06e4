"""Loading reference data and importing real data in standard formats into PostGIS."""
