"""Re-weight a QDQ int8 model: same graph and same activation quantization, different weights, as if the network had
been fine-tuned and re-quantized with the same activation calibration (the "retraining" fixture: one zkinfer setup,
whose keys depend on the architecture only, must serve both models).

    python reweight.py --model ../fixtures/digits_int8.onnx --out ../fixtures/digits_reweighted_int8.onnx --seed 1

For every Conv / Gemm / MatMul whose weight input is a DequantizeLinear of an int8 initializer:
  * int8 weights: + a random offset in [-OFFSET, OFFSET] per element, clipped to [-127, 127] (symmetric);
  * weight scale(s): x a random factor in [0.8, 1.2] per tensor, or per channel where the scale is per channel
    (this moves every requantisation multiplier M = s_x * s_w / s_y);
  * bias (an int32 initializer behind a DequantizeLinear): its float value b_q * s_b, x a factor in [0.9, 1.1] and
    + a little noise, re-quantized against the new bias scale s_b = s_x * s_w (float32, as onnxruntime's quantizer
    computes it), so that the QDQ invariant bias scale = input scale * weight scale still holds.
Everything else is left as it was: nodes, attributes, tensor names and shapes, shape initializers, metadata, and
every activation / model input / model output scale and zero point; the script checks this before writing. Replaced
tensors keep their names, element types, dims and storage form (raw_data or typed fields). Deterministic: the same
model and seed give the same bytes (numpy RandomState(seed), drawn in graph order).

Prints a JSON summary: the tensors changed, and onnxruntime's logits of both models on --inputs (max |delta|).
"""
import argparse
import json
import os

import numpy as np
import onnx
from onnx import helper, numpy_helper

WEIGHT_INPUT = {"Conv": 1, "Gemm": 1, "MatMul": 1}
BIAS_INPUT = {"Conv": 2, "Gemm": 2}
OFFSET = 6  # max |int offset| added to an int8 weight
SCALE_RANGE = (0.8, 1.2)  # weight scale factor
BIAS_RANGE = (0.9, 1.1)  # bias float factor
BIAS_NOISE = 0.05  # bias float noise, relative to the tensor's RMS


def replace(tensor, arr):
    """Overwrites `tensor`'s data with `arr` (same name, element type, dims and storage form)."""
    dtype = helper.tensor_dtype_to_np_dtype(tensor.data_type)
    arr = np.asarray(arr).astype(dtype).reshape(tuple(tensor.dims))
    if tensor.HasField("raw_data"):
        new = numpy_helper.from_array(arr, tensor.name)
    else:
        new = helper.make_tensor(tensor.name, tensor.data_type, list(tensor.dims), arr.ravel().tolist())
    assert new.data_type == tensor.data_type and list(new.dims) == list(tensor.dims)
    tensor.CopyFrom(new)


def reweight(model, seed):
    g = model.graph
    rng = np.random.RandomState(seed)
    inits = {t.name: t for t in g.initializer}
    producer = {o: n for n in g.node for o in n.output}
    uses = {}
    for n in g.node:
        for i in n.input:
            uses[i] = uses.get(i, 0) + 1
    for o in g.output:
        uses[o.name] = uses.get(o.name, 0) + 1

    def arr(name):
        return numpy_helper.to_array(inits[name])

    def dq_of_init(name):
        """The DequantizeLinear producing `name` from an initializer, or None."""
        d = producer.get(name)
        if d is None or d.op_type != "DequantizeLinear" or d.input[0] not in inits:
            return None
        return d

    def own(name, what):
        """`name` must be a constant read by exactly one node, so changing it cannot touch an activation."""
        if name not in inits:
            raise SystemExit(f"{what} `{name}` is not an initializer")
        if uses.get(name, 0) != 1:
            raise SystemExit(f"{what} `{name}` is shared by {uses.get(name, 0)} inputs; refusing to change it")

    changed = []
    for node in g.node:
        if node.op_type not in WEIGHT_INPUT or len(node.input) <= WEIGHT_INPUT[node.op_type]:
            continue
        wdq = dq_of_init(node.input[WEIGHT_INPUT[node.op_type]])
        if wdq is None or inits[wdq.input[0]].data_type != onnx.TensorProto.INT8:
            continue  # not an int8 QDQ weight (e.g. MatMul of two activations)
        w_name, ws_name = wdq.input[0], wdq.input[1]
        zp = arr(wdq.input[2]) if len(wdq.input) > 2 and wdq.input[2] else np.zeros(1, np.int8)
        if np.any(zp != 0):
            raise SystemExit(f"weights `{w_name}` are not symmetric (zero point {zp}); refusing")
        own(w_name, "weights")
        own(ws_name, "weight scale")
        w = arr(w_name).astype(np.int32)
        w_new = np.clip(w + rng.randint(-OFFSET, OFFSET + 1, size=w.shape), -127, 127)
        s_w = arr(ws_name).astype(np.float32)
        s_w_new = (s_w * rng.uniform(*SCALE_RANGE, size=s_w.shape)).astype(np.float32)
        replace(inits[w_name], w_new)
        replace(inits[ws_name], s_w_new)
        changed += [w_name, ws_name]

        bias = node.input[BIAS_INPUT[node.op_type]] if len(node.input) > BIAS_INPUT.get(node.op_type, 99) else ""
        if not bias:
            continue
        bdq = dq_of_init(bias)
        if bdq is None or inits[bdq.input[0]].data_type != onnx.TensorProto.INT32:
            raise SystemExit(f"{node.name}: bias `{bias}` is not an int32 DequantizeLinear; refusing")
        xdq = producer.get(node.input[0])
        if xdq is None or xdq.op_type != "DequantizeLinear" or xdq.input[1] not in inits:
            raise SystemExit(f"{node.name}: input `{node.input[0]}` is not a DequantizeLinear with a constant scale")
        b_name, bs_name = bdq.input[0], bdq.input[1]
        own(b_name, "bias")
        own(bs_name, "bias scale")
        s_x = arr(xdq.input[1]).astype(np.float32)
        b_q = arr(b_name).astype(np.int64)
        s_b = arr(bs_name)
        b = b_q.astype(np.float64) * s_b.astype(np.float64)
        rms = float(np.sqrt(np.mean(b * b))) or 1e-3
        b_new = b * rng.uniform(*BIAS_RANGE, size=b.shape) + rng.normal(0.0, BIAS_NOISE * rms, size=b.shape)
        s_b_new = (s_x * s_w_new).astype(np.float32).reshape(-1)  # onnxruntime: input_scale * weight_scale
        if s_b_new.size not in (1, b.size) or s_b_new.size != s_b.size:
            raise SystemExit(f"{node.name}: bias scale has {s_b.size} values, the new one {s_b_new.size}")
        b_q_new = np.clip(np.round(b_new / s_b_new.astype(np.float64)), -(2 ** 31), 2 ** 31 - 1)
        replace(inits[b_name], b_q_new)
        replace(inits[bs_name], s_b_new)
        changed += [b_name, bs_name]
    if not changed:
        raise SystemExit("no int8 QDQ weights found")
    return changed


def check_same_architecture(before, after, changed):
    """Everything but the changed initializers' values is identical, and those keep name, type and dims."""
    a, b = onnx.ModelProto(), onnx.ModelProto()
    a.CopyFrom(before)
    b.CopyFrom(after)
    for m in (a, b):
        for t in m.graph.initializer:
            if t.name in changed:
                keep = (t.name, t.data_type, list(t.dims))
                t.Clear()
                t.name, t.data_type = keep[0], keep[1]
                t.dims.extend(keep[2])
    assert a.SerializeToString() == b.SerializeToString(), "graph, activation quantization or metadata changed"


def ort_logits(path, x):
    import onnxruntime as ort
    sess = ort.InferenceSession(path, providers=["CPUExecutionProvider"])
    name = sess.get_inputs()[0].name
    return np.concatenate([sess.run(None, {name: x[i:i + 1]})[0] for i in range(len(x))]).astype(np.float32)


def main():
    fixtures = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "fixtures")
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--inputs", default=os.path.join(fixtures, "digits_test_x.npy"),
                    help="float inputs [N, ...] for the onnxruntime comparison")
    args = ap.parse_args()

    before = onnx.load(args.model)
    after = onnx.ModelProto()
    after.CopyFrom(before)
    changed = reweight(after, args.seed)
    check_same_architecture(before, after, set(changed))
    onnx.checker.check_model(after)
    onnx.save(after, args.out)

    x = np.load(args.inputs).astype(np.float32)
    y0, y1 = ort_logits(args.model, x), ort_logits(args.out, x)
    summary = {"out": os.path.basename(args.out), "seed": args.seed, "bytes": os.path.getsize(args.out),
               "tensors_changed": len(changed), "changed": changed, "inputs": len(x),
               "max_abs_logit_delta": float(np.max(np.abs(y1 - y0))),
               "outputs_differing": int(np.sum(np.any(y1 != y0, axis=1))),
               "argmax_agree": float(np.mean(np.argmax(y0, 1) == np.argmax(y1, 1)))}
    print(json.dumps(summary))
    if not np.any(y1 != y0):
        raise SystemExit("the re-weighted model's outputs equal the original's")


if __name__ == "__main__":
    main()
