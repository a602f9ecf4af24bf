"""Tiny ONNX models the importer must reject with a clear error, one per case (fixtures/errors/).

    python error_cases.py --out ../fixtures/errors
"""
import argparse
import os
import tempfile

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper
from onnxruntime.quantization import CalibrationDataReader, QuantFormat, QuantType, quantize_static


def model(nodes, inits, in_dims=(1, 4, 8, 8), out_dims=(1, 4, 8, 8)):
    graph = helper.make_graph(nodes, "case", [helper.make_tensor_value_info("input", TensorProto.FLOAT, list(in_dims))],
                              [helper.make_tensor_value_info("output", TensorProto.FLOAT, list(out_dims))], inits)
    m = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13), helper.make_opsetid("com.microsoft", 1)],
                          producer_name="zkinfer")
    m.ir_version = 8
    return m


def conv(name, inp, out, cin, cout, group=1, dilation=1, seed=0):
    w = np.random.default_rng(seed).normal(0, 0.3, (cout, cin // group, 3, 3)).astype(np.float32)
    b = np.zeros(cout, np.float32)
    node = helper.make_node("Conv", [inp, name + ".w", name + ".b"], [out], name=name, kernel_shape=[3, 3],
                            pads=[dilation] * 4, group=group, dilations=[dilation, dilation])
    return node, [numpy_helper.from_array(w, name + ".w"), numpy_helper.from_array(b, name + ".b")]


class Calibration(CalibrationDataReader):
    def __init__(self):
        rng = np.random.default_rng(0)
        self.it = iter([{"input": rng.normal(0, 1, (1, 4, 8, 8)).astype(np.float32)} for _ in range(4)])

    def get_next(self):
        return next(self.it, None)


def quantized(m, path, fmt=QuantFormat.QDQ):
    with tempfile.TemporaryDirectory() as tmp:
        fp32 = os.path.join(tmp, "m.onnx")
        onnx.save(m, fp32)
        quantize_static(fp32, path, Calibration(), quant_format=fmt, activation_type=QuantType.QInt8,
                        weight_type=QuantType.QInt8, extra_options={"WeightSymmetric": True})


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default=os.path.join(os.path.dirname(__file__), "..", "fixtures", "errors"))
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)

    n, i = conv("conv", "input", "c", 4, 4)
    ms = helper.make_node("FastGelu", ["c"], ["output"], name="gelu", domain="com.microsoft")
    onnx.save(model([n, ms], i), os.path.join(args.out, "microsoft_domain.onnx"))

    n, i = conv("conv", "input", "c", 4, 4)
    # Softmax: a real classifier head op zkinfer does not prove (logits are the output).
    sm = helper.make_node("Softmax", ["c"], ["output"], name="softmax", axis=1)
    quantized(model([n, sm], i), os.path.join(args.out, "unsupported_op.onnx"))

    n, i = conv("conv", "input", "output", 4, 4)
    onnx.save(model([n], i, in_dims=("batch", 4, 8, 8), out_dims=("batch", 4, 8, 8)),
              os.path.join(args.out, "dynamic_shape.onnx"))

    n, i = conv("conv", "input", "output", 4, 4, dilation=2)
    quantized(model([n], i), os.path.join(args.out, "dilated_conv.onnx"))

    n, i = conv("conv", "input", "output", 4, 4, group=2)
    quantized(model([n], i), os.path.join(args.out, "grouped_conv.onnx"))

    # Not an error case: a QOperator-format model (QLinearConv), with onnxruntime's outputs for two inputs.
    n1, i1 = conv("conv1", "input", "c1", 4, 4, seed=1)
    relu = helper.make_node("Relu", ["c1"], ["r1"], name="relu1")
    n2, i2 = conv("conv2", "r1", "output", 4, 4, seed=2)
    qop = os.path.join(args.out, "..", "qoperator_convs_int8.onnx")
    quantized(model([n1, relu, n2], i1 + i2), qop, QuantFormat.QOperator)
    import onnxruntime as ort

    # Not an error case either: Pad and AveragePool in QDQ form, with onnxruntime's outputs.
    n1, i1 = conv("conv1", "input", "c1", 4, 4, seed=3)
    pads = numpy_helper.from_array(np.array([0, 0, 1, 1, 0, 0, 1, 1], np.int64), "pads")
    pad = helper.make_node("Pad", ["c1", "pads"], ["p1"], name="pad1", mode="constant")
    pool = helper.make_node("AveragePool", ["p1"], ["output"], name="pool1", kernel_shape=[2, 2], strides=[2, 2])
    pool_path = os.path.join(args.out, "..", "pad_pool_int8.onnx")
    quantized(model([n1, pad, pool], i1 + [pads], out_dims=(1, 4, 5, 5)), pool_path)
    xp = np.random.default_rng(6).normal(0, 1, (2, 4, 8, 8)).astype(np.float32)
    sess = ort.InferenceSession(pool_path, providers=["CPUExecutionProvider"])
    yp = np.concatenate([sess.run(None, {"input": xp[i:i + 1]})[0] for i in range(2)]).astype(np.float32)
    np.save(os.path.join(args.out, "..", "pad_pool_inputs.npy"), xp)
    np.save(os.path.join(args.out, "..", "pad_pool_ort_int8_logits.npy"), yp)

    # The same Pad + AveragePool in QOperator form (Pad applied to the int8 tensor, its constant the zero point;
    # com.microsoft QLinearAveragePool), with onnxruntime's outputs.
    qpool_path = os.path.join(args.out, "..", "pad_pool_qop_int8.onnx")
    quantized(model([n1, pad, pool], i1 + [pads], out_dims=(1, 4, 5, 5)), qpool_path, QuantFormat.QOperator)
    sess = ort.InferenceSession(qpool_path, providers=["CPUExecutionProvider"])
    yq = np.concatenate([sess.run(None, {"input": xp[i:i + 1]})[0] for i in range(2)]).astype(np.float32)
    np.save(os.path.join(args.out, "..", "pad_pool_qop_ort_int8_logits.npy"), yq)

    # MatMul in QDQ form (flatten, then a [256, 10] weight), with onnxruntime's outputs.
    n1, i1 = conv("conv1", "input", "c1", 4, 4, seed=4)
    shape = numpy_helper.from_array(np.array([1, 256], np.int64), "shape")
    flat = helper.make_node("Reshape", ["c1", "shape"], ["f1"], name="flatten")
    wm = numpy_helper.from_array(np.random.default_rng(7).normal(0, 0.1, (256, 10)).astype(np.float32), "mm.w")
    mm = helper.make_node("MatMul", ["f1", "mm.w"], ["output"], name="matmul")
    mm_path = os.path.join(args.out, "..", "matmul_int8.onnx")
    quantized(model([n1, flat, mm], i1 + [shape, wm], out_dims=(1, 10)), mm_path)
    xm = np.random.default_rng(8).normal(0, 1, (2, 4, 8, 8)).astype(np.float32)
    sess = ort.InferenceSession(mm_path, providers=["CPUExecutionProvider"])
    ym = np.concatenate([sess.run(None, {"input": xm[i:i + 1]})[0] for i in range(2)]).astype(np.float32)
    np.save(os.path.join(args.out, "..", "matmul_inputs.npy"), xm)
    np.save(os.path.join(args.out, "..", "matmul_ort_int8_logits.npy"), ym)

    x = np.random.default_rng(5).normal(0, 1, (2, 4, 8, 8)).astype(np.float32)
    sess = ort.InferenceSession(qop, providers=["CPUExecutionProvider"])
    y = np.concatenate([sess.run(None, {"input": x[i:i + 1]})[0] for i in range(2)]).astype(np.float32)
    np.save(os.path.join(args.out, "..", "qoperator_convs_inputs.npy"), x)
    np.save(os.path.join(args.out, "..", "qoperator_convs_ort_int8_logits.npy"), y)


if __name__ == "__main__":
    main()
