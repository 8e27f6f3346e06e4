"""OGC 3D Tiles 1.1 writing: the city model, point clouds and single models.

3D Tiles writing lives here rather than in ``tiles`` because its inputs (extruded prisms, IFC
meshes, point chunks) are all ``models3d``'s; ``tiles`` may serve what this writes.
"""
