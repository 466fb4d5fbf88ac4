#!/usr/bin/env python3
"""Runs one openEO process graph with openeo-processes-dask (the process implementations several
openEO back-ends run on xarray and Dask) through openeo-pg-parser-networkx, as such a back-end does:
the registry of every implemented process, the graph parsed and called. load_collection and
save_result are back-end specific (processes-dask has none): here load_collection opens the
collection's files with rioxarray (Dask chunks of 1024 x 1024) stacked over t and bands, and
save_result computes the result and writes a cloud-optimised GeoTIFF with sco's creation options
(rioxarray, GDAL's COG driver) or the vector cube's values as JSON.

Usage: pgd_run.py GRAPH.json COLLECTIONS.json OUT_DIR
  COLLECTIONS.json: {"ID": {"bands": [...], "items": [{"datetime": "...", "path": "..."}]}}
"""
import importlib
import inspect
import json
import os
import sys

import dask
import numpy as np
import pandas as pd
import rioxarray  # noqa: F401  (the .rio accessor)
import xarray as xr
from openeo_pg_parser_networkx import OpenEOProcessGraph, ProcessRegistry
from openeo_pg_parser_networkx.process_registry import Process
from openeo_processes_dask.process_implementations.core import process

graph_file, collections_file, out_dir = sys.argv[1:4]
COLLECTIONS = json.load(open(collections_file))
os.makedirs(out_dir, exist_ok=True)


def load_collection(id, spatial_extent=None, temporal_extent=None, bands=None, properties=None, **kwargs):
    c = COLLECTIONS[id]
    slices = []
    for item in c["items"]:
        da = rioxarray.open_rasterio(item["path"], chunks={"x": 1024, "y": 1024}, masked=False)
        da = da.rename({"band": "bands"}).assign_coords(bands=c["bands"])
        slices.append(da.expand_dims(t=[pd.Timestamp(item["datetime"]).tz_localize(None)]))
    cube = xr.concat(slices, dim="t") if len(slices) > 1 else slices[0]
    if bands:
        cube = cube.sel(bands=bands)
    return cube.astype(np.float32)


def save_result(data, format="GTiff", options=None, **kwargs):
    if format.lower() == "gtiff":
        # The same file as sco's: a cloud-optimised GeoTIFF, DEFLATE level 1 with the floating-point
        # predictor, 512 x 512 blocks, overviews by averaging.
        co = {"compress": "DEFLATE", "level": 1, "predictor": "YES", "blocksize": 512, "overviews": "AUTO", "resampling": "AVERAGE"}
        co.update({k.lower(): v for k, v in (options or {}).items()})  # the graph's GTiff options, as sco reads them
        if co["compress"] == "NONE":
            co.pop("predictor")
            co.pop("level")
        data = data.squeeze()
        data.rio.to_raster(os.path.join(out_dir, "result.tif"), driver="COG", num_threads="ALL_CPUS", compute=True, **co)
    else:
        values = data.compute()
        json.dump(values.to_numpy().tolist(), open(os.path.join(out_dir, "result.json"), "w"))
    return True


registry = ProcessRegistry(wrap_funcs=[process])
impl = importlib.import_module("openeo_processes_dask.process_implementations")
specs = importlib.import_module("openeo_processes_dask.specs")
for name, func in inspect.getmembers(impl, inspect.isfunction):
    if hasattr(specs, name):
        registry[("predefined", name)] = Process(spec=getattr(specs, name), implementation=func)
registry[("predefined", "load_collection")] = Process(spec=getattr(specs, "load_collection", {}), implementation=load_collection)
registry[("predefined", "save_result")] = Process(spec=getattr(specs, "save_result", {}), implementation=save_result)

with dask.config.set(scheduler="threads"):
    OpenEOProcessGraph(pg_data=json.load(open(graph_file))).to_callable(process_registry=registry)()
