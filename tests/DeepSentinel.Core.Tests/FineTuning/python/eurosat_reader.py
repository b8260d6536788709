"""The independent reader of EuroSAT-style images: Debian's python3-gdal (osgeo) reads a file and
maps its bands onto the corpus's 12 L2A bands by its own rules (band descriptions when every band
has one; else 13 bands in EuroSAT's order with B10 dropped; 3 Byte bands are R, G, B scaled by
3000/255). Prints {"bands": [...], "data": {band: [row-major values]}} as JSON."""
import json
import sys

from osgeo import gdal

CORPUS = ["B01", "B02", "B03", "B04", "B05", "B06", "B07", "B08", "B8A", "B09", "B11", "B12"]
EUROSAT = ["B01", "B02", "B03", "B04", "B05", "B06", "B07", "B08", "B08A", "B09", "B10", "B11", "B12"]


def canonical(name):
    name = name.strip().upper()
    return "B8A" if name in ("B8A", "B08A") else name


path = sys.argv[1]
d = gdal.Open(path)
descriptions = [d.GetRasterBand(i + 1).GetDescription() for i in range(d.RasterCount)]
if all(descriptions):
    names = [canonical(n) for n in descriptions]
elif d.RasterCount == 13:
    names = [canonical(n) for n in EUROSAT]
elif d.RasterCount == 3:
    names = ["B04", "B03", "B02"]
else:
    raise SystemExit("unexpected band count")
byte = d.GetRasterBand(1).DataType == gdal.GDT_Byte
out = {"bands": [b for b in CORPUS if b in names], "data": {}}
for b in out["bands"]:
    a = d.GetRasterBand(names.index(b) + 1).ReadAsArray().astype("float64")
    if byte:
        a = a * 3000.0 / 255.0
    out["data"][b] = a.ravel().tolist()
print(json.dumps(out))
