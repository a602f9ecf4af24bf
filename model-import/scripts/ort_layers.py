"""Dumps onnxruntime's int8 value of every IR tensor (the QuantizeLinear outputs listed in DIR/names.txt by the
layer_diff example) for the first fixture input, as DIR/<index>.bin (i32 little-endian).

    python ort_layers.py MODEL.onnx INPUTS.npy DIR
"""
import sys

import numpy as np
import onnx
import onnxruntime as ort

model_path, inputs_path, out = sys.argv[1:4]
names = open(f"{out}/names.txt").read().splitlines()
m = onnx.load(model_path)
for n in names:
    m.graph.output.append(onnx.helper.make_tensor_value_info(n, onnx.TensorProto.INT8, None))
so = ort.SessionOptions()
so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
sess = ort.InferenceSession(m.SerializeToString(), so, providers=["CPUExecutionProvider"])
x = np.load(inputs_path)[:1].astype(np.float32)
for i, v in enumerate(sess.run(names, {"input": x})):
    v.astype(np.int32).ravel().tofile(f"{out}/{i}.bin")
