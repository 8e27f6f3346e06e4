-- 0008 3D models: links from BIM (IFC) models to the twin's floors and rooms.
--
-- `twin 3d import-ifc --building CODE` matches each IfcBuildingStorey to a floor number and each
-- IfcSpace to a room; one row per storey and space of a model (a re-import replaces the model's
-- rows). The model is named by its file name; GlobalIds are unique within a model.
CREATE TABLE twin.bim_link (
    model         text NOT NULL CHECK (btrim(model) <> ''),
    global_id     text NOT NULL CHECK (length(global_id) = 22),
    ifc_type      text NOT NULL CHECK (ifc_type IN ('IfcBuildingStorey', 'IfcSpace')),
    name          text,
    building_code text NOT NULL REFERENCES twin.building (code) ON DELETE CASCADE,
    floor_no      smallint CHECK (floor_no IS NULL OR floor_no <> 0),
    room_code     text REFERENCES twin.room (code) ON DELETE SET NULL,
    linked_at     timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (model, global_id),
    -- A linked room belongs to the linked building.
    CONSTRAINT bim_link_room_in_building
        CHECK (room_code IS NULL OR left(room_code, 19) = building_code)
);
CREATE INDEX bim_link_building_idx ON twin.bim_link (building_code);
CREATE INDEX bim_link_room_idx ON twin.bim_link (room_code) WHERE room_code IS NOT NULL;
