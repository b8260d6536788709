"""Reads an .npy file with numpy: prints its dtype, shape and values as JSON."""
import json
import sys

import numpy

array = numpy.load(sys.argv[1])
print(json.dumps({"dtype": str(array.dtype), "shape": list(array.shape), "values": array.reshape(-1).astype(float).tolist()}))
