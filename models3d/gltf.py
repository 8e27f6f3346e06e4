"""A minimal glTF 2.0 binary (.glb) writer with 3D Tiles 1.1 feature metadata.

One mesh with one primitive per file (triangles or points), written with numpy alone:
``POSITION`` (float32, glTF y-up), optional ``NORMAL``, ``COLOR_0`` (RGBA bytes) and
``_FEATURE_ID_0`` (float32 per vertex), plus an ``EXT_structural_metadata`` property table that
``EXT_mesh_features`` points at, so that a click on a vertex's feature finds its row.

Rules followed (checked by the Khronos validator in the tests): every buffer view starts on an
8-byte boundary (property tables need 8, vertex data 4), vertex attributes are 4-byte elements or
larger, ``POSITION`` carries ``min``/``max``, and the JSON and BIN chunks are padded to 4 bytes.
"""

from __future__ import annotations

import json
import struct
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from numpy.typing import NDArray

#: glTF constants.
_ARRAY_BUFFER, _ELEMENT_ARRAY_BUFFER = 34962, 34963
_FLOAT, _UNSIGNED_BYTE, _UNSIGNED_SHORT, _UNSIGNED_INT = 5126, 5121, 5123, 5125
TRIANGLES, POINTS = 4, 0
#: numpy dtypes of the EXT_structural_metadata scalar component types we write.
_COMPONENT_DTYPES = {
    "UINT8": np.uint8,
    "UINT16": np.uint16,
    "INT32": np.int32,
    "UINT32": np.uint32,
    "INT64": np.int64,
    "FLOAT32": np.float32,
    "FLOAT64": np.float64,
}


@dataclass(frozen=True)
class Column:
    """One property of a property table.

    Parameters
    ----------
    name
        Property id (letters, digits, underscores).
    values
        Strings for ``component_type=None`` (a STRING property), else numbers.
    component_type
        ``None`` for strings, else one of ``UINT8``, ``UINT16``, ``INT32``, ``UINT32``,
        ``INT64``, ``FLOAT32``, ``FLOAT64``.
    description
        Shown in the schema.
    """

    name: str
    values: list[str] | NDArray[Any]
    component_type: str | None = None
    description: str = ""


@dataclass(frozen=True)
class FeatureTable:
    """The rows of features one primitive's ``_FEATURE_ID_0`` indexes (row i = feature i)."""

    class_name: str
    columns: list[Column]

    @property
    def count(self) -> int:
        """Number of rows."""
        return len(self.columns[0].values) if self.columns else 0


@dataclass
class Mesh:
    """One glTF primitive's data, positions already in glTF y-up axes."""

    positions: NDArray[np.float32]
    mode: int = TRIANGLES
    normals: NDArray[np.float32] | None = None
    indices: NDArray[np.uint32] | None = None
    feature_ids: NDArray[np.float32] | None = None
    colors: NDArray[np.uint8] | None = None
    base_color: tuple[float, float, float, float] = (0.82, 0.8, 0.76, 1.0)


@dataclass
class _Bin:
    """The BIN chunk under construction and the JSON that describes it."""

    data: bytearray = field(default_factory=bytearray)
    views: list[dict[str, Any]] = field(default_factory=list)
    accessors: list[dict[str, Any]] = field(default_factory=list)

    def view(self, raw: bytes, target: int | None = None) -> int:
        # A buffer view may not be empty (a column of empty strings has no bytes).
        raw = raw or b"\0"
        self.data.extend(b"\0" * (-len(self.data) % 8))
        entry: dict[str, Any] = {"buffer": 0, "byteOffset": len(self.data), "byteLength": len(raw)}
        if target is not None:
            entry["target"] = target
        self.data.extend(raw)
        self.views.append(entry)
        return len(self.views) - 1

    def accessor(
        self, array: NDArray[Any], ctype: int, kind: str, target: int, **extra: Any
    ) -> int:
        view = self.view(np.ascontiguousarray(array).tobytes(), target)
        entry = {"bufferView": view, "componentType": ctype, "count": len(array), "type": kind}
        entry.update(extra)
        self.accessors.append(entry)
        return len(self.accessors) - 1


def _attributes(mesh: Mesh, binary: _Bin) -> dict[str, int]:
    pos = np.ascontiguousarray(mesh.positions, dtype=np.float32)
    attrs = {
        "POSITION": binary.accessor(
            pos,
            _FLOAT,
            "VEC3",
            _ARRAY_BUFFER,
            min=[float(v) for v in pos.min(axis=0)],
            max=[float(v) for v in pos.max(axis=0)],
        )
    }
    if mesh.normals is not None:
        attrs["NORMAL"] = binary.accessor(
            mesh.normals.astype(np.float32), _FLOAT, "VEC3", _ARRAY_BUFFER
        )
    if mesh.colors is not None:
        attrs["COLOR_0"] = binary.accessor(
            mesh.colors.astype(np.uint8), _UNSIGNED_BYTE, "VEC4", _ARRAY_BUFFER, normalized=True
        )
    if mesh.feature_ids is not None:
        attrs["_FEATURE_ID_0"] = binary.accessor(
            mesh.feature_ids.astype(np.float32), _FLOAT, "SCALAR", _ARRAY_BUFFER
        )
    return attrs


def _indices(indices: NDArray[Any], binary: _Bin) -> int:
    top = int(indices.max()) if len(indices) else 0
    if top < 65535:
        return binary.accessor(
            indices.astype(np.uint16), _UNSIGNED_SHORT, "SCALAR", _ELEMENT_ARRAY_BUFFER
        )
    return binary.accessor(
        indices.astype(np.uint32), _UNSIGNED_INT, "SCALAR", _ELEMENT_ARRAY_BUFFER
    )


def _metadata(table: FeatureTable, binary: _Bin) -> dict[str, Any]:
    props: dict[str, Any] = {}
    table_props: dict[str, Any] = {}
    for col in table.columns:
        schema_prop: dict[str, Any] = {"description": col.description} if col.description else {}
        if col.component_type is None:
            encoded = [str(v).encode("utf-8") for v in col.values]
            offsets = np.zeros(len(encoded) + 1, dtype=np.uint32)
            offsets[1:] = np.cumsum([len(b) for b in encoded], dtype=np.uint64)
            schema_prop["type"] = "STRING"
            table_props[col.name] = {
                "values": binary.view(b"".join(encoded)),
                "stringOffsets": binary.view(offsets.tobytes()),
                "stringOffsetType": "UINT32",
            }
        else:
            dtype = _COMPONENT_DTYPES[col.component_type]
            schema_prop.update(type="SCALAR", componentType=col.component_type)
            raw = np.asarray(col.values).astype(dtype).tobytes()
            table_props[col.name] = {"values": binary.view(raw)}
        props[col.name] = schema_prop
    return {
        "schema": {"id": "citytwin", "classes": {table.class_name: {"properties": props}}},
        "propertyTables": [
            {"class": table.class_name, "count": table.count, "properties": table_props}
        ],
    }


def _material(mesh: Mesh) -> dict[str, Any]:
    material: dict[str, Any] = {
        "pbrMetallicRoughness": {
            "baseColorFactor": list(mesh.base_color),
            "metallicFactor": 0.0,
            "roughnessFactor": 0.9,
        }
    }
    if mesh.mode == POINTS:
        material["extensions"] = {"KHR_materials_unlit": {}}
    return material


def write_glb(mesh: Mesh, table: FeatureTable | None = None) -> bytes:
    """Encode one mesh (and the feature table its feature IDs index) as a glb.

    Parameters
    ----------
    mesh
        Positions in glTF axes (y-up), optional normals, colours, indices and feature IDs.
    table
        Rows for the feature IDs; requires ``mesh.feature_ids``.

    Returns
    -------
    bytes
        The whole .glb file.

    Examples
    --------
    >>> tri = Mesh(np.array([[0, 0, 0], [1, 0, 0], [0, 1, 0]], dtype=np.float32))
    >>> write_glb(tri)[:4]
    b'glTF'
    """
    binary = _Bin()
    primitive: dict[str, Any] = {"attributes": _attributes(mesh, binary), "mode": mesh.mode}
    primitive["material"] = 0
    if mesh.indices is not None:
        primitive["indices"] = _indices(mesh.indices, binary)
    doc: dict[str, Any] = {
        "asset": {"version": "2.0", "generator": "citytwin models3d"},
        "scene": 0,
        "scenes": [{"nodes": [0]}],
        "nodes": [{"mesh": 0}],
        "materials": [_material(mesh)],
    }
    used = ["KHR_materials_unlit"] if mesh.mode == POINTS else []
    if table is not None and mesh.feature_ids is not None:
        doc["extensions"] = {"EXT_structural_metadata": _metadata(table, binary)}
        primitive["extensions"] = {
            "EXT_mesh_features": {
                "featureIds": [{"featureCount": table.count, "attribute": 0, "propertyTable": 0}]
            }
        }
        used += ["EXT_mesh_features", "EXT_structural_metadata"]
    if used:
        doc["extensionsUsed"] = used
    doc["meshes"] = [{"primitives": [primitive]}]
    doc["buffers"] = [{"byteLength": len(binary.data)}]
    doc["bufferViews"] = binary.views
    doc["accessors"] = binary.accessors
    return _pack(doc, bytes(binary.data))


def _pack(doc: dict[str, Any], data: bytes) -> bytes:
    text = json.dumps(doc, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    text += b" " * (-len(text) % 4)
    data += b"\0" * (-len(data) % 4)
    total = 12 + 8 + len(text) + 8 + len(data)
    header = struct.pack("<4sII", b"glTF", 2, total)
    return (
        header
        + struct.pack("<I4s", len(text), b"JSON")
        + text
        + struct.pack("<I4s", len(data), b"BIN\0")
        + data
    )


def read_glb(raw: bytes) -> tuple[dict[str, Any], bytes]:
    """Split a glb into its JSON document and BIN chunk (for tests and tools).

    Raises
    ------
    ValueError
        When ``raw`` is not a glb version 2.
    """
    magic, version, _total = struct.unpack_from("<4sII", raw, 0)
    if magic != b"glTF" or version != 2:
        raise ValueError("not a glTF 2.0 binary")
    json_len = struct.unpack_from("<I", raw, 12)[0]
    doc = json.loads(raw[20 : 20 + json_len])
    data = b""
    if len(raw) > 20 + json_len:
        bin_len = struct.unpack_from("<I", raw, 20 + json_len)[0]
        data = raw[28 + json_len : 28 + json_len + bin_len]
    return doc, data


def read_accessor(doc: dict[str, Any], data: bytes, index: int) -> NDArray[Any]:
    """Decode accessor ``index`` of a glb read by :func:`read_glb` (tightly packed only)."""
    acc = doc["accessors"][index]
    view = doc["bufferViews"][acc["bufferView"]]
    dtype = {_FLOAT: np.float32, _UNSIGNED_BYTE: np.uint8, _UNSIGNED_SHORT: np.uint16}.get(
        acc["componentType"], np.uint32
    )
    width = {"SCALAR": 1, "VEC2": 2, "VEC3": 3, "VEC4": 4}[acc["type"]]
    start = view.get("byteOffset", 0) + acc.get("byteOffset", 0)
    arr = np.frombuffer(data, dtype=dtype, count=acc["count"] * width, offset=start)
    return arr.reshape(-1, width) if width > 1 else arr
