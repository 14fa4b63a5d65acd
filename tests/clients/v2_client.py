"""Scores rows through riskpipe serve with Triton's stock Open Inference Protocol HTTP client.

Usage: v2_client.py HOST:PORT MODEL ROWS.json OUT.json
ROWS.json: {"column": [values...]} for every input the model's metadata lists (no missing
numbers: the V2 JSON encoding has no missing FP64). Writes every output tensor as a list.
"""
import json
import sys

import numpy as np
import tritonclient.http as http

url, model, rows_file, out_file = sys.argv[1:]
rows = json.load(open(rows_file))
client = http.InferenceServerClient(url=url)
assert client.is_server_live() and client.is_server_ready()
assert client.is_model_ready(model)
meta = client.get_model_metadata(model)
inputs = []
for i in meta["inputs"]:
    values = rows[i["name"]]
    t = http.InferInput(i["name"], [len(values)], i["datatype"])
    if i["datatype"] == "BYTES":
        t.set_data_from_numpy(np.array(values, dtype=np.object_), binary_data=False)
    else:
        t.set_data_from_numpy(np.array(values, dtype=np.float64), binary_data=False)
    inputs.append(t)
outputs = [http.InferRequestedOutput(o["name"], binary_data=False) for o in meta["outputs"]]
result = client.infer(model, inputs, outputs=outputs)
out = {}
for o in meta["outputs"]:
    a = result.as_numpy(o["name"])
    def plain(x):
        if x is None or isinstance(x, str):
            return x
        return x.decode() if isinstance(x, bytes) else float(x)
    out[o["name"]] = [plain(x) for x in a.tolist()]
json.dump(out, open(out_file, "w"))
