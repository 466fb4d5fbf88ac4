"""Monthly and daily CF-1.8 netCDF cubes written through GDAL's multidimensional API, for the reference tests
that need more years than the sample's one (trends, SPI): values[time, lat, lon] from January of
`first_year` on, on the sample grid's latitudes and longitudes."""
import datetime

import numpy as np
from osgeo import gdal


def read_sample_months(nc, variable):
    """The sample's 12 months of `variable` as GDAL's classic (north-up) view gives them, NaN for
    nodata, with the file's latitudes (in file order) and longitudes."""
    ds = gdal.Open(f'NETCDF:"{nc}":{variable}')
    a = ds.ReadAsArray().astype(np.float64)
    nd = ds.GetRasterBand(1).GetNoDataValue()
    ds = None
    if nd is not None:
        a[a == nd] = np.nan
    mds = gdal.OpenEx(nc, gdal.OF_MULTIDIM_RASTER)
    lat = mds.GetRootGroup().OpenMDArray("latitude").ReadAsArray()
    lon = mds.GetRootGroup().OpenMDArray("longitude").ReadAsArray()
    mds = None
    return a, lat, lon


def write_monthly_cube(path, variable, units, values, lat, lon, first_year):
    """values[time, row, col] in north-up order (rows as read_sample_months gives them)."""
    days = [(datetime.date(first_year + k // 12, k % 12 + 1, 15) - datetime.date(1950, 1, 1)).days for k in range(values.shape[0])]
    write_cube(path, variable, units, values, lat, lon, days, "days since 1950-01-01 00:00:00", "standard")


def write_daily_cube(path, variable, units, values, lat, lon, first_year, calendar="noleap"):
    """values[day, row, col] in north-up order, one step per day from 1 January of `first_year` in
    `calendar` (time in days since that day, so consecutive steps are consecutive days)."""
    write_cube(path, variable, units, values, lat, lon, np.arange(values.shape[0], dtype=np.float64),
               f"days since {first_year:04d}-01-01 00:00:00", calendar)


def write_cube(path, variable, units, values, lat, lon, times, time_units, calendar):
    stored = values[:, ::-1, :] if lat[0] < lat[-1] else values
    ds = gdal.GetDriverByName("netCDF").CreateMultiDimensional(path)
    root = ds.GetRootGroup()
    f64 = gdal.ExtendedDataType.Create(gdal.GDT_Float64)
    text = gdal.ExtendedDataType.CreateString()

    def attr(var, name, value):
        var.CreateAttribute(name, [], text).Write(value)

    dt = root.CreateDimension("time", "TEMPORAL", None, values.shape[0])
    dy = root.CreateDimension("latitude", "HORIZONTAL_Y", None, values.shape[1])
    dx = root.CreateDimension("longitude", "HORIZONTAL_X", None, values.shape[2])
    t = root.CreateMDArray("time", [dt], f64)
    t.Write(np.asarray(times, dtype=np.float64))
    attr(t, "units", time_units)
    attr(t, "calendar", calendar)
    attr(t, "standard_name", "time")
    for name, dim, data, unit in (("latitude", dy, lat, "degrees_north"), ("longitude", dx, lon, "degrees_east")):
        v = root.CreateMDArray(name, [dim], f64)
        v.Write(data)
        attr(v, "units", unit)
        attr(v, "standard_name", name)
    v = root.CreateMDArray(variable, [dt, dy, dx], gdal.ExtendedDataType.Create(gdal.GDT_Float32))
    v.SetNoDataValueDouble(1e20)
    v.Write(np.where(np.isnan(stored), 1e20, stored).astype(np.float32))
    attr(v, "units", units)
    ds = None


def read_raster(path):
    """A single-band raster as float64, NaN for nodata."""
    ds = gdal.Open(path)
    a = ds.GetRasterBand(1).ReadAsArray().astype(np.float64)
    nd = ds.GetRasterBand(1).GetNoDataValue()
    ds = None
    if nd is not None:
        a[a == nd] = np.nan
    return a
