"""BIM import: IFC 2x3 and IFC 4 models (ifcopenshell) to 3D Tiles, linked to floors and rooms."""
