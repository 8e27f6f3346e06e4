"""3D city models: extrusion, IFC, LAS and CityJSON import, glTF (imports only ``twin``)."""
