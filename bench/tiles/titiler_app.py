"""The tiles benchmark's anchor: TiTiler's COG endpoints (titiler.core's TilerFactory, the router
titiler.application mounts at /cog), served by uvicorn from bench/tiles/run.py:
  bench/.venv/bin/uvicorn --app-dir bench/tiles titiler_app:app --workers 2
Tiles: /cog/tiles/WebMercatorQuad/{z}/{x}/{y}.png?url=FILE&rescale=0,10200&colormap_name=viridis"""
from fastapi import FastAPI
from titiler.core.errors import DEFAULT_STATUS_CODES, add_exception_handlers
from titiler.core.factory import TilerFactory

app = FastAPI(title="TiTiler COG tiler (sco benchmark anchor)")
cog = TilerFactory(router_prefix="/cog")
app.include_router(cog.router, prefix="/cog")
add_exception_handlers(app, DEFAULT_STATUS_CODES)
