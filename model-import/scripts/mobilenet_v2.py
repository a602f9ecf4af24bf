"""Generate MobileNet v2 (Sandler et al. 2018, torchvision's layout) with seeded weights, batch norm folded into the
convolutions, ReLU6 as Clip(0, 6), and quantize it statically to QDQ int8 with onnxruntime.

    python mobilenet_v2.py --width 0.35 --resolution 96 --out ../fixtures

Writes mobilenet_v2_<width>_<resolution>_int8.onnx and prints its MACs and parameter count (DESIGN.md: 11.93M MACs /
1.670M params at (0.35, 96), 97.13M / 1.959M at (0.5, 224), 153.94M / 2.623M at (0.75, 192)). --keep-fp32 also writes
the float model. Deterministic for a given seed.
"""
import argparse
import json
import os
import tempfile

import numpy as np
import onnx

import input_meta
from onnx import TensorProto, helper, numpy_helper
from onnxruntime.quantization import CalibrationDataReader, QuantFormat, QuantType, quantize_static

SETTINGS = [(1, 16, 1, 1), (6, 24, 2, 2), (6, 32, 3, 2), (6, 64, 4, 2), (6, 96, 3, 1), (6, 160, 3, 2), (6, 320, 1, 1)]


def make_divisible(v, divisor=8):
    new_v = max(divisor, int(v + divisor / 2) // divisor * divisor)
    if new_v < 0.9 * v:
        new_v += divisor
    return new_v


class Builder:
    def __init__(self, seed, resolution):
        self.rng = np.random.default_rng(seed)
        self.nodes, self.inits = [], []
        self.macs = 0
        self.params = 0
        self.hw = resolution
        self.count = 0

    def conv(self, x, cin, cout, k, stride, groups, relu6):
        """Conv (BN folded: weight and bias) [+ Clip(0, 6)]."""
        self.count += 1
        name = f"conv{self.count}"
        fan_in = cin // groups * k * k
        w = self.rng.normal(0, np.sqrt(2.0 / fan_in), (cout, cin // groups, k, k)).astype(np.float32)
        b = self.rng.normal(0, 0.05, cout).astype(np.float32)
        self.inits += [numpy_helper.from_array(w, name + ".w"), numpy_helper.from_array(b, name + ".b")]
        pad = k // 2
        out_hw = (self.hw + 2 * pad - k) // stride + 1
        self.macs += out_hw * out_hw * cout * (cin // groups) * k * k
        self.params += w.size + b.size
        self.hw = out_hw
        y = name + ".out"
        self.nodes.append(helper.make_node("Conv", [x, name + ".w", name + ".b"], [y], name=name,
                                           kernel_shape=[k, k], pads=[pad] * 4, strides=[stride] * 2, group=groups))
        if relu6:
            z = name + ".relu6"
            self.nodes.append(helper.make_node("Clip", [y, "zero", "six"], [z], name=name + "_relu6"))
            return z
        return y

    def add(self, a, b):
        self.count += 1
        y = f"add{self.count}"
        self.nodes.append(helper.make_node("Add", [a, b], [y], name=y))
        return y


def build(width, resolution, seed):
    bld = Builder(seed, resolution)
    bld.inits += [numpy_helper.from_array(np.array(0.0, np.float32), "zero"),
                  numpy_helper.from_array(np.array(6.0, np.float32), "six")]
    cin = make_divisible(32 * width)
    last = make_divisible(1280 * max(1.0, width))
    x = bld.conv("input", 3, cin, 3, 2, 1, True)
    for t, c, n, s in SETTINGS:
        cout = make_divisible(c * width)
        for i in range(n):
            stride = s if i == 0 else 1
            hidden = int(round(cin * t))
            h = x
            if t != 1:
                h = bld.conv(h, cin, hidden, 1, 1, 1, True)
            h = bld.conv(h, hidden, hidden, 3, stride, hidden, True)
            h = bld.conv(h, hidden, cout, 1, 1, 1, False)
            x = bld.add(x, h) if stride == 1 and cin == cout else h
            cin = cout
    x = bld.conv(x, cin, last, 1, 1, 1, True)
    bld.nodes.append(helper.make_node("GlobalAveragePool", [x], ["pooled"], name="pool"))
    bld.nodes.append(helper.make_node("Flatten", ["pooled"], ["flat"], name="flatten", axis=1))
    w = bld.rng.normal(0, np.sqrt(1.0 / last), (1000, last)).astype(np.float32)
    b = np.zeros(1000, np.float32)
    bld.inits += [numpy_helper.from_array(w, "fc.w"), numpy_helper.from_array(b, "fc.b")]
    bld.nodes.append(helper.make_node("Gemm", ["flat", "fc.w", "fc.b"], ["logits"], name="fc", transB=1))
    bld.macs += last * 1000
    bld.params += w.size + b.size
    graph = helper.make_graph(
        bld.nodes, f"mobilenet_v2_{width}_{resolution}",
        [helper.make_tensor_value_info("input", TensorProto.FLOAT, [1, 3, resolution, resolution])],
        [helper.make_tensor_value_info("logits", TensorProto.FLOAT, [1, 1000])], bld.inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)], producer_name="zkinfer")
    model.ir_version = 8  # onnxruntime 1.31 reads IR <= 13; onnx 1.23 would write 14
    onnx.checker.check_model(model)
    return model, bld.macs, bld.params


class Calibration(CalibrationDataReader):
    def __init__(self, resolution, count, seed):
        rng = np.random.default_rng(seed)
        # Images normalised like ImageNet inputs: roughly zero mean, unit variance.
        self.it = iter([{"input": rng.normal(0, 1, (1, 3, resolution, resolution)).astype(np.float32)}
                        for _ in range(count)])

    def get_next(self):
        return next(self.it, None)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--width", type=float, required=True)
    ap.add_argument("--resolution", type=int, required=True)
    ap.add_argument("--out", default=os.path.join(os.path.dirname(__file__), "..", "fixtures"))
    ap.add_argument("--seed", type=int, default=2024)
    ap.add_argument("--calibration", type=int, default=8)
    ap.add_argument("--keep-fp32", action="store_true")
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)
    model, macs, params = build(args.width, args.resolution, args.seed)
    stem = f"mobilenet_v2_{args.width}_{args.resolution}"
    with tempfile.TemporaryDirectory() as tmp:
        fp32 = os.path.join(args.out if args.keep_fp32 else tmp, stem + "_fp32.onnx")
        onnx.save(model, fp32)
        int8 = os.path.join(args.out, stem + "_int8.onnx")
        quantize_static(fp32, int8, Calibration(args.resolution, args.calibration, args.seed),
                        quant_format=QuantFormat.QDQ, activation_type=QuantType.QInt8, weight_type=QuantType.QInt8,
                        extra_options={"WeightSymmetric": True, "ActivationSymmetric": False})
    input_meta.tag(int8, "rgb", [0.485, 0.456, 0.406], [0.229, 0.224, 0.225])
    # Two seeded inputs and onnxruntime's outputs of the int8 model, the oracle for the integer reference.
    import onnxruntime as ort
    rng = np.random.default_rng(args.seed + 1)
    inputs = rng.normal(0, 1, (2, 3, args.resolution, args.resolution)).astype(np.float32)
    sess = ort.InferenceSession(int8, providers=["CPUExecutionProvider"])
    outputs = np.concatenate([sess.run(None, {"input": inputs[i:i + 1]})[0] for i in range(2)]).astype(np.float32)
    np.save(os.path.join(args.out, stem + "_inputs.npy"), inputs)
    np.save(os.path.join(args.out, stem + "_ort_int8_logits.npy"), outputs)
    print(json.dumps({"model": stem, "macs": macs, "params": params, "int8_bytes": os.path.getsize(int8)}))


if __name__ == "__main__":
    main()
