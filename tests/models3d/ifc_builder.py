"""A small IFC model made with ifcopenshell.api: a 2-storey building with walls, slabs, spaces."""

from __future__ import annotations

from pathlib import Path

import numpy as np


def build_ifc(
    path: Path,
    schema: str = "IFC4",
    site_latlon: tuple[float, float] | None = (22.5605, 113.8805),
    map_conversion: tuple[str, float, float] | None = None,
    spaces_per_storey: int = 3,
) -> Path:
    """Write a 12 × 8 m building of two 3 m storeys, its walls, slabs and spaces."""
    import ifcopenshell
    import ifcopenshell.api as api
    import ifcopenshell.api.aggregate
    import ifcopenshell.api.context
    import ifcopenshell.api.geometry
    import ifcopenshell.api.pset
    import ifcopenshell.api.root
    import ifcopenshell.api.spatial
    import ifcopenshell.api.unit

    f = ifcopenshell.file(schema=schema)
    if schema == "IFC2X3":
        _owner(f)
    project = api.root.create_entity(f, ifc_class="IfcProject", name="Test project")
    api.unit.assign_unit(f)
    model = api.context.add_context(f, context_type="Model")
    body = api.context.add_context(
        f, context_type="Model", context_identifier="Body", target_view="MODEL_VIEW", parent=model
    )
    site = api.root.create_entity(f, ifc_class="IfcSite", name="Site")
    building = api.root.create_entity(f, ifc_class="IfcBuilding", name="楼栋")
    api.aggregate.assign_object(f, products=[site], relating_object=project)
    api.aggregate.assign_object(f, products=[building], relating_object=site)
    if site_latlon is not None:
        lat, lon = site_latlon
        site.RefLatitude = _dms(lat)
        site.RefLongitude = _dms(lon)
        site.RefElevation = 5.0
    if map_conversion is not None:
        _pset_map_conversion(f, project, *map_conversion)
    for level in range(2):
        storey = api.root.create_entity(f, ifc_class="IfcBuildingStorey", name=f"{level + 1}F")
        storey.Elevation = level * 3000.0  # project units: millimetres (assign_unit default)
        api.aggregate.assign_object(f, products=[storey], relating_object=building)
        api.geometry.edit_object_placement(f, product=storey, matrix=_at(0, 0, level * 3.0))
        _storey_content(f, body, storey, level, spaces_per_storey)
    f.write(str(path))
    return path


def _dms(value: float) -> tuple[int, int, int, int]:
    d = int(value)
    m = int((value - d) * 60)
    s_float = ((value - d) * 60 - m) * 60
    s = int(s_float)
    return (d, m, s, round((s_float - s) * 1e6))


def _at(x: float, y: float, z: float) -> np.ndarray:
    m = np.eye(4)
    m[:3, 3] = [x, y, z]
    return m


def _storey_content(f, body, storey, level: int, n_spaces: int) -> None:
    import ifcopenshell.api as api

    elements = []
    for i, (x, y, length, angle) in enumerate(
        [(0, 0, 12, 0), (12, 0, 8, 90), (12, 8, 12, 180), (0, 8, 8, 270)]
    ):
        wall = api.root.create_entity(f, ifc_class="IfcWall", name=f"W{level}{i}")
        rep = api.geometry.add_wall_representation(
            f, context=body, length=length, height=3.0, thickness=0.2
        )
        api.geometry.assign_representation(f, product=wall, representation=rep)
        m = _at(x, y, level * 3.0)
        a = np.radians(angle)
        m[:2, :2] = [[np.cos(a), -np.sin(a)], [np.sin(a), np.cos(a)]]
        api.geometry.edit_object_placement(f, product=wall, matrix=m)
        elements.append(wall)
    slab = api.root.create_entity(f, ifc_class="IfcSlab", name=f"Slab{level}")
    rep = api.geometry.add_slab_representation(
        f, context=body, depth=0.2, polyline=[(0, 0), (12, 0), (12, 8), (0, 8)]
    )
    api.geometry.assign_representation(f, product=slab, representation=rep)
    api.geometry.edit_object_placement(f, product=slab, matrix=_at(0, 0, level * 3.0))
    elements.append(slab)
    api.spatial.assign_container(f, products=elements, relating_structure=storey)
    width = 12.0 / n_spaces
    spaces = []
    for k in range(n_spaces):
        space = api.root.create_entity(f, ifc_class="IfcSpace", name=f"{level + 1}{k + 1:02d}")
        space.LongName = f"Room {k + 1}"
        x0 = k * width
        rep = api.geometry.add_slab_representation(
            f,
            context=body,
            depth=2.6,
            polyline=[
                (x0 + 0.1, 0.1),
                (x0 + width - 0.1, 0.1),
                (x0 + width - 0.1, 7.9),
                (x0 + 0.1, 7.9),
            ],
        )
        api.geometry.assign_representation(f, product=space, representation=rep)
        api.geometry.edit_object_placement(f, product=space, matrix=_at(0, 0, level * 3.0 + 0.2))
        spaces.append(space)
    api.aggregate.assign_object(f, products=spaces, relating_object=storey)


def _pset_map_conversion(f, project, crs: str, east: float, north: float) -> None:
    import ifcopenshell.api as api

    pset = api.pset.add_pset(f, product=project, name="ePSet_MapConversion")
    api.pset.edit_pset(
        f,
        pset=pset,
        properties={
            "Eastings": east,
            "Northings": north,
            "OrthogonalHeight": 5.0,
            "XAxisAbscissa": 1.0,
            "XAxisOrdinate": 0.0,
            "Scale": 1.0,
        },
    )
    crs_pset = api.pset.add_pset(f, product=project, name="ePSet_ProjectedCRS")
    api.pset.edit_pset(f, pset=crs_pset, properties={"Name": crs})


def _owner(f) -> None:
    """IFC 2x3 needs an owner history on every rooted entity."""
    import ifcopenshell.api.owner.settings as owner

    user = f.createIfcPersonAndOrganization(
        f.createIfcPerson(FamilyName="Test"), f.createIfcOrganization(Name="citytwin")
    )
    app = f.createIfcApplication(user.TheOrganization, "1", "citytwin tests", "citytwin")
    owner.get_user = lambda _file: user
    owner.get_application = lambda _file: app
