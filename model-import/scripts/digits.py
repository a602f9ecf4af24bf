"""Train a small CNN on scikit-learn's bundled digits (8x8) with numpy, export it to ONNX, quantize it statically to
QDQ int8 with onnxruntime, and write the held-out test split.

    python digits.py --out ../fixtures

Writes digits_fp32.onnx, digits_int8.onnx, digits_test_x.npy (float32 [N,1,8,8], pixel/16), digits_test_y.npy
(int64 [N]), digits_ort_int8_logits.npy (onnxruntime's float32 [N,10] outputs of the int8 model) and
digits_report.json (float and int8 accuracy from onnxruntime). Deterministic for a given seed.
"""
import argparse
import json
import os

import numpy as np
import onnx

import input_meta
from onnx import TensorProto, helper, numpy_helper
import onnxruntime as ort
from onnxruntime.quantization import CalibrationDataReader, QuantFormat, QuantType, quantize_static
from sklearn.datasets import load_digits


def im2col(x, k, stride, pad):
    n, c, h, w = x.shape
    xp = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    oh = (h + 2 * pad - k) // stride + 1
    ow = (w + 2 * pad - k) // stride + 1
    cols = np.empty((n, c, k, k, oh, ow), dtype=x.dtype)
    for i in range(k):
        for j in range(k):
            cols[:, :, i, j] = xp[:, :, i:i + stride * oh:stride, j:j + stride * ow:stride]
    return cols.transpose(0, 4, 5, 1, 2, 3).reshape(n * oh * ow, c * k * k), oh, ow


def col2im(cols, shape, k, stride, pad, oh, ow):
    n, c, h, w = shape
    cols = cols.reshape(n, oh, ow, c, k, k).transpose(0, 3, 4, 5, 1, 2)
    xp = np.zeros((n, c, h + 2 * pad, w + 2 * pad), dtype=cols.dtype)
    for i in range(k):
        for j in range(k):
            xp[:, :, i:i + stride * oh:stride, j:j + stride * ow:stride] += cols[:, :, i, j]
    return xp[:, :, pad:pad + h, pad:pad + w]


class Conv:
    def __init__(self, rng, cin, cout, k, stride, pad):
        self.w = rng.normal(0, np.sqrt(2.0 / (cin * k * k)), (cout, cin, k, k)).astype(np.float32)
        self.b = np.zeros(cout, np.float32)
        self.k, self.stride, self.pad = k, stride, pad

    def forward(self, x):
        self.shape = x.shape
        self.cols, oh, ow = im2col(x, self.k, self.stride, self.pad)
        self.oh, self.ow = oh, ow
        y = self.cols @ self.w.reshape(self.w.shape[0], -1).T + self.b
        return y.reshape(x.shape[0], oh, ow, -1).transpose(0, 3, 1, 2)

    def backward(self, dy):
        dy = dy.transpose(0, 2, 3, 1).reshape(-1, self.w.shape[0])
        self.dw = (dy.T @ self.cols).reshape(self.w.shape)
        self.db = dy.sum(0)
        dcols = dy @ self.w.reshape(self.w.shape[0], -1)
        return col2im(dcols, self.shape, self.k, self.stride, self.pad, self.oh, self.ow)


class Net:
    """conv3x3(1->8) relu conv3x3/2(8->16) relu flatten fc(256->10)"""

    def __init__(self, seed):
        rng = np.random.default_rng(seed)
        self.c1 = Conv(rng, 1, 8, 3, 1, 1)
        self.c2 = Conv(rng, 8, 16, 3, 2, 1)
        self.fw = rng.normal(0, np.sqrt(2.0 / 256), (256, 10)).astype(np.float32)
        self.fb = np.zeros(10, np.float32)

    def forward(self, x):
        self.a1 = np.maximum(self.c1.forward(x), 0)
        self.a2 = np.maximum(self.c2.forward(self.a1), 0)
        self.flat = self.a2.reshape(x.shape[0], -1)
        return self.flat @ self.fw + self.fb

    def backward(self, dlogits):
        self.dfw = self.flat.T @ dlogits
        self.dfb = dlogits.sum(0)
        d = (dlogits @ self.fw.T).reshape(self.a2.shape) * (self.a2 > 0)
        d = self.c2.backward(d) * (self.a1 > 0)
        self.c1.backward(d)

    def params(self):
        return [(self.c1, "w", "dw"), (self.c1, "b", "db"), (self.c2, "w", "dw"), (self.c2, "b", "db"),
                (self, "fw", "dfw"), (self, "fb", "dfb")]


def train(net, x, y, epochs, seed):
    rng = np.random.default_rng(seed)
    state = {}
    lr, b1, b2, eps, t = 2e-3, 0.9, 0.999, 1e-8, 0
    for _ in range(epochs):
        order = rng.permutation(len(x))
        for i in range(0, len(x), 32):
            idx = order[i:i + 32]
            logits = net.forward(x[idx])
            p = np.exp(logits - logits.max(1, keepdims=True))
            p /= p.sum(1, keepdims=True)
            p[np.arange(len(idx)), y[idx]] -= 1
            net.backward(p / len(idx))
            t += 1
            for obj, name, gname in net.params():
                g = getattr(obj, gname)
                m, v = state.get((id(obj), name), (np.zeros_like(g), np.zeros_like(g)))
                m = b1 * m + (1 - b1) * g
                v = b2 * v + (1 - b2) * g * g
                state[(id(obj), name)] = (m, v)
                upd = lr * (m / (1 - b1 ** t)) / (np.sqrt(v / (1 - b2 ** t)) + eps)
                setattr(obj, name, (getattr(obj, name) - upd).astype(np.float32))


def to_onnx(net, path):
    inits = [numpy_helper.from_array(a, n) for a, n in [
        (net.c1.w, "c1.w"), (net.c1.b, "c1.b"), (net.c2.w, "c2.w"), (net.c2.b, "c2.b"),
        (net.fw.T.copy(), "fc.w"), (net.fb, "fc.b"), (np.array([-1, 256], np.int64), "shape")]]
    nodes = [
        helper.make_node("Conv", ["input", "c1.w", "c1.b"], ["c1"], name="conv1", kernel_shape=[3, 3],
                         pads=[1, 1, 1, 1], strides=[1, 1]),
        helper.make_node("Relu", ["c1"], ["r1"], name="relu1"),
        helper.make_node("Conv", ["r1", "c2.w", "c2.b"], ["c2"], name="conv2", kernel_shape=[3, 3],
                         pads=[1, 1, 1, 1], strides=[2, 2]),
        helper.make_node("Relu", ["c2"], ["r2"], name="relu2"),
        helper.make_node("Reshape", ["r2", "shape"], ["flat"], name="flatten"),
        helper.make_node("Gemm", ["flat", "fc.w", "fc.b"], ["logits"], name="fc", transB=1),
    ]
    graph = helper.make_graph(
        nodes, "digits_cnn",
        [helper.make_tensor_value_info("input", TensorProto.FLOAT, [1, 1, 8, 8])],
        [helper.make_tensor_value_info("logits", TensorProto.FLOAT, [1, 10])], inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)], producer_name="zkinfer")
    model.ir_version = 8  # onnxruntime 1.31 reads IR <= 13; onnx 1.23 would write 14
    onnx.checker.check_model(model)
    onnx.save(model, path)


class Calibration(CalibrationDataReader):
    def __init__(self, x):
        self.it = iter([{"input": x[i:i + 1]} for i in range(len(x))])

    def get_next(self):
        return next(self.it, None)


def logits(path, x):
    sess = ort.InferenceSession(path, providers=["CPUExecutionProvider"])
    return np.concatenate([sess.run(None, {"input": x[i:i + 1]})[0] for i in range(len(x))]).astype(np.float32)


def accuracy(path, x, y):
    return float((np.argmax(logits(path, x), axis=1) == y).mean())


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default=os.path.join(os.path.dirname(__file__), "..", "fixtures"))
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--epochs", type=int, default=30)
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)

    digits = load_digits()
    x = (digits.images.astype(np.float32) / 16.0)[:, None]
    y = digits.target.astype(np.int64)
    order = np.random.default_rng(args.seed).permutation(len(x))
    test, tr = order[:360], order[360:]

    net = Net(args.seed)
    train(net, x[tr], y[tr], args.epochs, args.seed)
    fp32 = os.path.join(args.out, "digits_fp32.onnx")
    int8 = os.path.join(args.out, "digits_int8.onnx")
    to_onnx(net, fp32)
    quantize_static(fp32, int8, Calibration(x[tr][:200]), quant_format=QuantFormat.QDQ,
                    activation_type=QuantType.QInt8, weight_type=QuantType.QInt8,
                    extra_options={"WeightSymmetric": True, "ActivationSymmetric": False})
    # Images: grayscale, ink bright, scaled to [0, 1] like digits' 0..16 / 16.
    input_meta.tag(int8, "gray", [0.0], [1.0])
    np.save(os.path.join(args.out, "digits_test_x.npy"), x[test])
    np.save(os.path.join(args.out, "digits_test_y.npy"), y[test])
    # onnxruntime's outputs of the int8 model (dequantized logits), the oracle for the integer reference.
    np.save(os.path.join(args.out, "digits_ort_int8_logits.npy"), logits(int8, x[test]))
    report = {"train": int(len(tr)), "test": int(len(test)),
              "fp32_accuracy": accuracy(fp32, x[test], y[test]),
              "int8_accuracy": accuracy(int8, x[test], y[test])}
    with open(os.path.join(args.out, "digits_report.json"), "w") as f:
        json.dump(report, f, indent=2)
    print(json.dumps(report))


if __name__ == "__main__":
    main()
