"""Service and layer descriptions: the only place coded values are explained."""

from __future__ import annotations

from typing import Any

from simulators.gis.layers import Layer
from simulators.gis.schema import MAX_RECORD_COUNT, SPATIAL_REFERENCE
from simulators.world.geography import bounds

VERSION = 10.91
COPYRIGHT = "江城市水务集团 管网GIS"
TIME_REFERENCE = {"timeZone": "China Standard Time", "respectsDaylightSaving": False}


def _extent(box: tuple[float, float, float, float]) -> dict[str, Any]:
    return {
        "xmin": box[0],
        "ymin": box[1],
        "xmax": box[2],
        "ymax": box[3],
        "spatialReference": SPATIAL_REFERENCE,
    }


def catalog() -> dict[str, Any]:
    services = [{"name": "Water", "type": "FeatureServer"}]
    return {"currentVersion": VERSION, "folders": [], "services": services}


def service_info(layers: dict[int, Layer]) -> dict[str, Any]:
    lon0, lat0, lon1, lat1 = bounds()
    extent = _extent((lon0 - 0.002, lat0 - 0.002, lon1 + 0.002, lat1 + 0.002))
    return {
        "currentVersion": VERSION,
        "serviceDescription": "临江区供水管网: 管线、阀门、用户接水点、网格、停水范围、水源与压力分区",
        "hasVersionedData": False,
        "supportsDisconnectedEditing": False,
        "hasStaticData": False,
        "maxRecordCount": MAX_RECORD_COUNT,
        "supportedQueryFormats": "JSON",
        "capabilities": "Query",
        "description": "",
        "copyrightText": COPYRIGHT,
        "spatialReference": SPATIAL_REFERENCE,
        "initialExtent": extent,
        "fullExtent": extent,
        "allowGeometryUpdates": False,
        "units": "esriDecimalDegrees",
        "syncEnabled": False,
        "layers": [
            {
                "id": layer.schema.id,
                "name": layer.schema.name,
                "parentLayerId": -1,
                "defaultVisibility": True,
                "subLayerIds": None,
                "minScale": 0,
                "maxScale": 0,
                "geometryType": layer.schema.geometry_type,
            }
            for layer in layers.values()
        ],
        "tables": [],
    }


def layer_info(layer: Layer) -> dict[str, Any]:
    s = layer.schema
    return {
        "currentVersion": VERSION,
        "id": s.id,
        "name": s.name,
        "type": "Feature Layer",
        "description": s.description,
        "copyrightText": COPYRIGHT,
        "defaultVisibility": True,
        "parentLayer": None,
        "subLayers": [],
        "minScale": 0,
        "maxScale": 0,
        "geometryType": s.geometry_type,
        "sourceSpatialReference": SPATIAL_REFERENCE,
        "extent": _extent(layer.extent),
        "hasZ": False,
        "hasM": False,
        "hasAttachments": False,
        "htmlPopupType": "esriServerHTMLPopupTypeNone",
        "displayField": s.display_field,
        "typeIdField": None,
        "objectIdField": "OBJECTID",
        "globalIdField": "",
        "uniqueIdField": {"name": "OBJECTID", "isSystemMaintained": True},
        "geometryField": {"name": "SHAPE", "type": "esriFieldTypeGeometry", "alias": "SHAPE"},
        "fields": [f.as_json() for f in s.fields],
        "dateFieldsTimeReference": TIME_REFERENCE,
        "relationships": [],
        "types": [],
        "templates": [],
        "capabilities": "Query",
        "maxRecordCount": s.max_record_count,
        "standardMaxRecordCount": s.max_record_count,
        "supportedQueryFormats": "JSON",
        "supportsAdvancedQueries": True,
        "supportsStatistics": False,
        "useStandardizedQueries": True,
        "advancedQueryCapabilities": {
            "useStandardizedQueries": True,
            "supportsStatistics": False,
            "supportsOrderBy": True,
            "supportsDistinct": False,
            "supportsPagination": True,
            "supportsTrueCurve": False,
            "supportsReturningQueryExtent": False,
            "supportsQueryWithDistance": True,
            "supportsSqlExpression": False,
        },
    }


def all_layers(layers: dict[int, Layer]) -> dict[str, Any]:
    return {"layers": [layer_info(layer) for layer in layers.values()], "tables": []}
