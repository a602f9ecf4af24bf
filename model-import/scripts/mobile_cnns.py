"""Generate three small mobile CNNs (MobileNet v3 small, EfficientNet-Lite and ShuffleNet v2 in miniature) and two
"ops zoo" networks (one of each activation / data-movement op, at opsets 13 and 21) with seeded weights, batch norm
folded into the convolutions, and quantize them statically to QDQ int8 with onnxruntime.

    python mobile_cnns.py --out ../fixtures                  # all five
    python mobile_cnns.py --model shufflenet_style --report   # one, and print its QDQ pattern per op type
    python mobile_cnns.py --format qoperator --out ../fixtures   # QOperator twins (STEM_qop_*), see below

No torch here: the graphs are written with onnx.helper in the shapes torch.onnx.export (TorchScript exporter, opset 17,
torchvision module layout) writes: node "/features/features.0/features.0.0/Conv" with output
"/features/features.0/features.0.0/Conv_output_0", initializers "features.0.0.weight" / ".bias", activations as their
own nodes (HardSwish, HardSigmoid alpha 1/6 beta 0.5, Relu, Clip(0, 6) for ReLU6), pooling as ReduceMean over axes
[2, 3] (axes an attribute at opset 17) or GlobalAveragePool, classifier Flatten + Gemm transB=1, squeeze-and-excite
as ReduceMean keepdims=1 -> Conv 1x1 -> Relu -> Conv 1x1 -> HardSigmoid -> Mul (broadcasting [1,C,1,1] over
[1,C,H,W]), channel shuffle as Reshape [1,g,C/g,H,W] -> Transpose [0,2,1,3,4] -> Reshape [1,C,H,W]. Convs: groups 1
or depthwise, no dilation, explicit symmetric pads. IR version 8 (onnxruntime reads it; onnx 1.23 would write 14).

Models (10 classes, input "input" float [1,3,32,32], output "logits" [1,10]); MACs count Conv and Gemm multiplies:
  mobilenet_v3_small_style  stem 3x3/2 + HardSwish; 4 bnecks (3x3/2 ReLU SE; 3x3/2 ReLU; 5x5 HardSwish SE residual;
                            5x5 HardSwish); 1x1 + HardSwish; ReduceMean keepdims=1; Flatten; Gemm + HardSwish; Gemm.
  efficientnet_lite_style   stem 3x3/2 + ReLU6; 4 MBConv (expand 1x1 + ReLU6, depthwise 5x5 + ReLU6, project 1x1,
                            residual Add on the two stride-1 ones), no SE; head 1x1 + ReLU6; ReduceMean keepdims=0; Gemm.
  shufflenet_style          stem 3x3/2 + Relu; MaxPool 3x3/2 pad 1; two stride-2 ShuffleNet v2 units (Concat of the
                            two branches on axis 1, channel shuffle g=2); 1x1 + Relu; GlobalAveragePool; Flatten; Gemm.
  ops_zoo_opset13           Conv 3x3/2 (8 ch); Conv + Conv -> Add -> Relu; Sigmoid; SiLU as x * Sigmoid(x); skip Add;
  ops_zoo_opset21           Tanh; LeakyRelu 0.1; Clip(-1, 1); HardSigmoid(0.25, 0.4); Mul by its ReduceMean keepdims=1;
                            skip Add; MaxPool 2x2/2; Unsqueeze(0) + Squeeze(0); ReduceMean keepdims=0; Gemm (ops_zoo's
                            docstring). Opset 13 (IR 8): Squeeze/Unsqueeze axes as inputs, ReduceMean axes an
                            attribute; opset 21 (IR 10): ReduceMean axes an input too. Every activation its own node
                            between a DequantizeLinear and a QuantizeLinear (the skip Adds keep Relu and Clip).

Writes, for each STEM: STEM_int8.onnx (QDQ; quantize_static, QInt8 activations and weights, per-tensor, symmetric
weights, asymmetric activations, MinMax calibration on seeded normal inputs; input tagged with ImageNet's mean/std),
STEM_inputs.npy (float32 [2,3,32,32], seeded normal), STEM_ort_int8_logits.npy (float32 [2,10], onnxruntime's
default session on the int8 model), STEM_ort_layers.npy + STEM_ort_layers.json (the per-layer oracle for input 0:
the int8 values, as float32, of every QuantizeLinear output in graph order, from a session with
GraphOptimizationLevel.ORT_DISABLE_ALL; the json lists name, shape, offset and len of each, format
"zkinfer-ort-layers/1"). --keep-fp32 also writes STEM_fp32.onnx. Prints one json line per model (MACs, params,
nodes, file sizes, onnxruntime's max |float - int8| logit difference). Deterministic for a given seed (same bytes).

--report prints, per op type, the Q/DQ pattern onnxruntime wrote around it (scales, zero points, removed ops, float
tensors that no Q/DQ touches). onnxruntime's default op_types_to_quantize lacks HardSwish, HardSigmoid, ReduceMean and
Tanh: they get Q/DQ only from quantized neighbours, so mobilenet_v3_small_style's last HardSwish -> ReduceMean
-> Flatten would stay float, a float island zkinfer refuses (it proves int8 arithmetic only). The fixtures therefore
list those ops too (every tensor quantized); --ort-default-ops reproduces onnxruntime's default.

--format qoperator writes the same networks (same weights, seed and calibration) in onnxruntime's QOperator format,
as STEM_qop_int8.onnx, STEM_qop_inputs.npy, STEM_qop_ort_int8_logits.npy and STEM_qop_ort_layers.npy / .json, for the
three mobile CNNs and ops_zoo_opset13 by default. int8 tensors flow straight between nodes: QLinearConv (default
domain), and in onnxruntime's com.microsoft domain QGemm (for Gemm; inputs A, a_scale, a_zp, B, b_scale, b_zp, int32
C, y_scale, y_zp; alpha, transB), QLinearAdd / QLinearMul (A, A_scale, A_zp, B, B_scale, B_zp, C_scale, C_zp),
QLinearConcat (Y_scale, Y_zp, then X, X_scale, X_zp per input; axis), QLinearGlobalAveragePool (X, x_scale, x_zp,
y_scale, y_zp; channels_last = 0), QLinearSigmoid / QLinearLeakyRelu (X, X_scale, X_zp, Y_scale, Y_zp; alpha);
MaxPool, Reshape, Transpose, Flatten, Squeeze, Unsqueeze apply to the int8 tensor (its quantization passes); Relu and
Clip vanish into their producer's output range. HardSwish, HardSigmoid, ReduceMean and Tanh have no QLinear form:
each is a float island between a DequantizeLinear and a QuantizeLinear (FloatIsland below: plain onnxruntime would
chain them in float, HardSwish -> ReduceMean [-> Flatten], which an int8 proof cannot express). The per-layer oracle
lists every int8 tensor (QuantizeLinear outputs, QLinear* / QGemm outputs, int8 data movement outputs). --report
prints each op's input layout.

Tested with Python 3.11, numpy 2.4.6, onnx 1.23.2, onnxruntime 1.31.1 (requirements.txt; `bash setup.sh`).
"""
import argparse
import collections
import json
import os
import tempfile

import numpy as np
import onnx
import onnxruntime as ort

import input_meta
from mobilenet_v2 import make_divisible
from onnx import TensorProto, helper, numpy_helper
from onnxruntime.quantization import CalibrationDataReader, QuantFormat, QuantType, quantize_static
from onnxruntime.quantization.operators.base_operator import QuantOperatorBase
from onnxruntime.quantization.registry import QDQRegistry, QLinearOpsRegistry

RESOLUTION = 32
CLASSES = 10
OPSET = 17


FORMAT = "zkinfer-ort-layers/1"


class Mod:
    """A torch module's place in the export's names. torch.onnx names a node by its module scope: one component per
    module, the module's name relative to its closest ancestor that is not an nn.Sequential (so "features.0.0" under
    the model, but "block.0.0" under an InvertedResidual), e.g. "/features/features.1/block/block.0/block.0.0/Conv".
    Parameters take the full dotted path ("features.1.block.0.0.weight")."""

    def __init__(self, path="", pname="", comp="", seq=False):
        self.path, self.pname, self.comp, self.seq = path, pname, comp, seq

    def child(self, name, seq=False):
        comp = f"{self.comp}.{name}" if self.seq else str(name)
        return Mod(f"{self.path}/{comp}", f"{self.pname}.{name}" if self.pname else str(name), comp, seq)

    def seqs(self, dotted):
        """Descends through nn.Sequential children: seqs("features.1") = child("features", seq).child("1", seq)."""
        m = self
        for name in dotted.split("."):
            m = m.child(name, seq=True)
        return m


ROOT = Mod()


class Builder:
    """A graph of float tensors with static shapes, named as torch.onnx.export names them."""

    def __init__(self, seed, opset=OPSET, ir_version=8):
        self.rng = np.random.default_rng(seed)
        self.opset, self.ir_version = opset, ir_version
        self.nodes, self.inits = [], []
        self.macs = 0
        self.params = 0
        self.shapes = {"input": (1, 3, RESOLUTION, RESOLUTION)}
        self.used = collections.Counter()
        self.constants = 0

    def node(self, mod, op, inputs, shape, **attrs):
        """Appends `op` in module `mod`'s scope; a second node of one op type in one scope gets "_1", and so on."""
        key = f"{mod.path}/{op}"
        n = self.used[key]
        self.used[key] += 1
        name = key if n == 0 else f"{key}_{n}"
        out = name + "_output_0"
        self.nodes.append(helper.make_node(op, inputs, [out], name=name, **attrs))
        self.shapes[out] = tuple(int(d) for d in shape)
        return out

    def constant(self, op, array):
        """A constant operand as the exporter leaves it after constant folding: an initializer "onnx::Op_N"."""
        self.constants += 1
        name = f"onnx::{op}_{1000 + self.constants}"
        self.inits.append(numpy_helper.from_array(array, name))
        return name

    def conv(self, x, mod, cout, k, stride=1, depthwise=False):
        """nn.Conv2d `mod` with its batch norm folded in (weight and bias); pads k//2 on every side."""
        _, cin, h, w = self.shapes[x]
        groups = cin if depthwise else 1
        assert not depthwise or cout == cin
        fan_in = cin // groups * k * k
        wt = self.rng.normal(0, np.sqrt(2.0 / fan_in), (cout, cin // groups, k, k)).astype(np.float32)
        b = self.rng.normal(0, 0.05, cout).astype(np.float32)
        self.inits += [numpy_helper.from_array(wt, mod.pname + ".weight"),
                       numpy_helper.from_array(b, mod.pname + ".bias")]
        pad = k // 2
        oh, ow = (h + 2 * pad - k) // stride + 1, (w + 2 * pad - k) // stride + 1
        self.macs += oh * ow * cout * fan_in
        self.params += wt.size + b.size
        return self.node(mod, "Conv", [x, mod.pname + ".weight", mod.pname + ".bias"], (1, cout, oh, ow),
                         dilations=[1, 1], group=groups, kernel_shape=[k, k], pads=[pad] * 4, strides=[stride] * 2)

    def act(self, x, mod, kind):
        shape = self.shapes[x]
        if kind == "relu":
            return self.node(mod, "Relu", [x], shape)
        if kind == "relu6":  # nn.ReLU6 exports as Clip(x, 0, 6)
            lo = self.constant("Clip", np.array(0.0, np.float32))
            hi = self.constant("Clip", np.array(6.0, np.float32))
            return self.node(mod, "Clip", [x, lo, hi], shape)
        if kind == "hswish":
            return self.node(mod, "HardSwish", [x], shape)
        if kind == "hsigmoid":  # nn.Hardsigmoid: relu6(x + 3) / 6
            return self.node(mod, "HardSigmoid", [x], shape, alpha=1.0 / 6, beta=0.5)
        if kind == "sigmoid":
            return self.node(mod, "Sigmoid", [x], shape)
        if kind == "tanh":
            return self.node(mod, "Tanh", [x], shape)
        raise ValueError(kind)

    def conv_act(self, x, mod, cout, k, stride, act, depthwise=False):
        """torchvision's Conv2dNormActivation `mod` (an nn.Sequential): .0 Conv, .1 BatchNorm (folded), .2 act."""
        y = self.conv(x, mod.child(0), cout, k, stride, depthwise)
        return self.act(y, mod.child(2), act) if act else y

    def mean(self, x, mod, keepdims):
        n, c = self.shapes[x][:2]
        shape = (n, c, 1, 1) if keepdims else (n, c)
        if self.opset >= 18:  # ReduceMean-18: axes an optional int64 input
            axes = self.constant("ReduceMean", np.array([2, 3], np.int64))
            return self.node(mod, "ReduceMean", [x, axes], shape, keepdims=int(keepdims))
        return self.node(mod, "ReduceMean", [x], shape, axes=[2, 3], keepdims=int(keepdims))

    def unsqueeze(self, x, mod, axis):
        s = list(self.shapes[x])
        shape = s[:axis] + [1] + s[axis:]
        if self.opset >= 13:  # Unsqueeze-13: axes an int64 input
            return self.node(mod, "Unsqueeze", [x, self.constant("Unsqueeze", np.array([axis], np.int64))], shape)
        return self.node(mod, "Unsqueeze", [x], shape, axes=[axis])

    def squeeze(self, x, mod, axis):
        s = list(self.shapes[x])
        assert s[axis] == 1
        shape = s[:axis] + s[axis + 1:]
        if self.opset >= 13:  # Squeeze-13: axes an optional int64 input
            return self.node(mod, "Squeeze", [x, self.constant("Squeeze", np.array([axis], np.int64))], shape)
        return self.node(mod, "Squeeze", [x], shape, axes=[axis])

    def global_pool(self, x, mod):
        n, c = self.shapes[x][:2]
        return self.node(mod, "GlobalAveragePool", [x], (n, c, 1, 1))

    def flatten(self, x, mod=ROOT):
        s = self.shapes[x]
        return self.node(mod, "Flatten", [x], (s[0], int(np.prod(s[1:]))), axis=1)

    def gemm(self, x, mod, cout, out_name=None):
        """nn.Linear `mod`: Gemm(x, W [cout, cin], b) with transB=1."""
        cin = self.shapes[x][1]
        wt = self.rng.normal(0, np.sqrt(1.0 / cin), (cout, cin)).astype(np.float32)
        b = self.rng.normal(0, 0.05, cout).astype(np.float32)
        self.inits += [numpy_helper.from_array(wt, mod.pname + ".weight"),
                       numpy_helper.from_array(b, mod.pname + ".bias")]
        self.macs += cin * cout
        self.params += wt.size + b.size
        y = self.node(mod, "Gemm", [x, mod.pname + ".weight", mod.pname + ".bias"], (1, cout), alpha=1.0, beta=1.0,
                      transB=1)
        if out_name:  # the graph output takes the name given to torch.onnx.export
            self.nodes[-1].output[0] = out_name
            self.shapes[out_name] = self.shapes.pop(y)
            y = out_name
        return y

    def add(self, a, b, mod):
        assert self.shapes[a] == self.shapes[b]
        return self.node(mod, "Add", [a, b], self.shapes[a])

    def mul(self, a, b, mod):
        return self.node(mod, "Mul", [a, b], np.broadcast_shapes(self.shapes[a], self.shapes[b]))

    def concat(self, xs, mod):
        s = self.shapes[xs[0]]
        return self.node(mod, "Concat", xs, (s[0], sum(self.shapes[x][1] for x in xs)) + s[2:], axis=1)

    def reshape(self, x, mod, shape):
        target = self.constant("Reshape", np.array(shape, np.int64))
        return self.node(mod, "Reshape", [x, target], shape)

    def transpose(self, x, mod, perm):
        s = self.shapes[x]
        return self.node(mod, "Transpose", [x], [s[p] for p in perm], perm=perm)

    def squeeze_excite(self, x, mod, squeeze):
        """torchvision's SqueezeExcitation `mod` (avgpool, fc1, activation, fc2, scale_activation); the pooling as
        ReduceMean keepdims=1, then scale * input with [1,C,1,1] broadcast over [1,C,H,W]."""
        c = self.shapes[x][1]
        s = self.mean(x, mod.child("avgpool"), keepdims=True)
        s = self.conv(s, mod.child("fc1"), squeeze, 1)
        s = self.act(s, mod.child("activation"), "relu")
        s = self.conv(s, mod.child("fc2"), c, 1)
        s = self.act(s, mod.child("scale_activation"), "hsigmoid")
        return self.mul(s, x, mod)

    def model(self, name, output):
        graph = helper.make_graph(
            self.nodes, name,
            [helper.make_tensor_value_info("input", TensorProto.FLOAT, [1, 3, RESOLUTION, RESOLUTION])],
            [helper.make_tensor_value_info(output, TensorProto.FLOAT, [1, CLASSES])], self.inits)
        model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", self.opset)], producer_name="pytorch",
                                  producer_version="2.5.0")
        model.ir_version = self.ir_version  # onnxruntime 1.31 reads IR <= 13; onnx 1.23 would write 14
        onnx.checker.check_model(model, full_check=True)
        return model


def mobilenet_v3_small_style(seed):
    """torchvision's MobileNetV3 layout: features.i an InvertedResidual whose `block` holds expand (when the expanded
    width differs), depthwise, [SqueezeExcitation], project; residual Add when stride 1 and in == out."""
    bld = Builder(seed)
    x = bld.conv_act("input", ROOT.seqs("features.0"), 16, 3, 2, "hswish")
    cin = 16
    # (kernel, expanded, out, SE, activation, stride), as torchvision's InvertedResidualConfig.
    for i, (k, exp, cout, se, act, stride) in enumerate([(3, 16, 16, True, "relu", 2),
                                                           (3, 64, 24, False, "relu", 2),
                                                           (5, 72, 24, True, "hswish", 1),
                                                           (5, 96, 40, False, "hswish", 1)], start=1):
        feat = ROOT.child("features", seq=True).child(i)  # InvertedResidual
        block = feat.child("block", seq=True)
        h, j = x, 0
        if exp != cin:
            h = bld.conv_act(h, block.child(j, seq=True), exp, 1, 1, act)
            j += 1
        h = bld.conv_act(h, block.child(j, seq=True), exp, k, stride, act, depthwise=True)
        j += 1
        if se:
            h = bld.squeeze_excite(h, block.child(j), make_divisible(exp // 4, 8))
            j += 1
        h = bld.conv_act(h, block.child(j, seq=True), cout, 1, 1, None)
        x = bld.add(h, x, feat) if stride == 1 and cin == cout else h
        cin = cout
    x = bld.conv_act(x, ROOT.seqs("features.5"), 192, 1, 1, "hswish")
    x = bld.mean(x, ROOT.child("avgpool"), keepdims=True)
    x = bld.flatten(x)
    classifier = ROOT.child("classifier", seq=True)
    x = bld.gemm(x, classifier.child(0), 96)
    x = bld.act(x, classifier.child(1), "hswish")
    # classifier.2 is Dropout: gone in eval mode.
    y = bld.gemm(x, classifier.child(3), CLASSES, out_name="logits")
    return bld.model("mobilenet_v3_small_style", y), bld.macs, bld.params


def efficientnet_lite_style(seed):
    """torchvision's EfficientNet layout (features.s.b an MBConv whose `block` holds expand, depthwise, project),
    Lite variant: ReLU6 everywhere, no squeeze-and-excite; residual Add when stride 1 and in == out."""
    bld = Builder(seed)
    x = bld.conv_act("input", ROOT.seqs("features.0"), 16, 3, 2, "relu6")
    cin = 16
    # stage -> [(expand ratio, kernel, stride, out)]
    for s, layers in enumerate([[(3, 5, 2, 24), (3, 5, 1, 24)], [(3, 5, 2, 32), (3, 5, 1, 32)]], start=1):
        for b, (ratio, k, stride, cout) in enumerate(layers):
            mbconv = ROOT.seqs(f"features.{s}").child(b)
            block = mbconv.child("block", seq=True)
            hid = cin * ratio
            h = bld.conv_act(x, block.child(0, seq=True), hid, 1, 1, "relu6")
            h = bld.conv_act(h, block.child(1, seq=True), hid, k, stride, "relu6", depthwise=True)
            h = bld.conv_act(h, block.child(2, seq=True), cout, 1, 1, None)
            # block.3 would be StochasticDepth: identity in eval mode.
            x = bld.add(h, x, mbconv) if stride == 1 and cin == cout else h
            cin = cout
    x = bld.conv_act(x, ROOT.seqs("features.3"), 160, 1, 1, "relu6")
    x = bld.mean(x, ROOT.child("avgpool"), keepdims=False)  # so torch.flatten has nothing left to do
    # classifier.0 is Dropout.
    y = bld.gemm(x, ROOT.child("classifier", seq=True).child(1), CLASSES, out_name="logits")
    return bld.model("efficientnet_lite_style", y), bld.macs, bld.params


def shufflenet_style(seed):
    """torchvision's ShuffleNetV2 layout (conv1, maxpool, stageN.i InvertedResidual with branch1 / branch2, conv5,
    fc), stride-2 units only (no Split): branch1 = depthwise 3x3/2 (.0) -> 1x1 (.2) -> Relu (.4); branch2 = 1x1 (.0)
    -> Relu (.2) -> depthwise 3x3/2 (.3) -> 1x1 (.5) -> Relu (.7); Concat; channel_shuffle(g=2)."""
    bld = Builder(seed)
    x = bld.conv_act("input", ROOT.seqs("conv1"), 24, 3, 2, "relu")
    _, _, h, w = bld.shapes[x]
    x = bld.node(ROOT.child("maxpool"), "MaxPool", [x], (1, 24, (h - 1) // 2 + 1, (w - 1) // 2 + 1),
                 ceil_mode=0, dilations=[1, 1], kernel_shape=[3, 3], pads=[1, 1, 1, 1], strides=[2, 2])
    for stage, cout in ((2, 64), (3, 128)):
        unit = ROOT.child(f"stage{stage}", seq=True).child(0)
        half = cout // 2
        b1 = unit.child("branch1", seq=True)
        y1 = bld.conv(x, b1.child(0), bld.shapes[x][1], 3, 2, depthwise=True)
        y1 = bld.conv(y1, b1.child(2), half, 1)
        y1 = bld.act(y1, b1.child(4), "relu")
        b2 = unit.child("branch2", seq=True)
        y2 = bld.conv(x, b2.child(0), half, 1)
        y2 = bld.act(y2, b2.child(2), "relu")
        y2 = bld.conv(y2, b2.child(3), half, 3, 2, depthwise=True)
        y2 = bld.conv(y2, b2.child(5), half, 1)
        y2 = bld.act(y2, b2.child(7), "relu")
        x = bld.concat([y1, y2], unit)
        _, c, h, w = bld.shapes[x]
        x = bld.reshape(x, unit, [1, 2, c // 2, h, w])
        x = bld.transpose(x, unit, [0, 2, 1, 3, 4])
        x = bld.reshape(x, unit, [1, c, h, w])
    x = bld.conv_act(x, ROOT.seqs("conv5"), 192, 1, 1, "relu")
    x = bld.global_pool(x, ROOT.child("avgpool"))
    x = bld.flatten(x)
    y = bld.gemm(x, ROOT.child("fc"), CLASSES, out_name="logits")
    return bld.model("shufflenet_style", y), bld.macs, bld.params


def ops_zoo(seed, opset, ir_version, name):
    """One of each elementwise / data-movement op a mobile CNN uses, in a torch module with submodules stem, branch_a,
    branch_b (Conv2d, batch norm folded), relu, sigmoid, tanh, leaky_relu, hardsigmoid, pool, fc; everything else
    written in forward (root-scope nodes "/Add", "/Sigmoid", "/Mul", "/Clip", ...):

        x = stem(input)                                  # Conv 3x3/2, 3 -> 8, [1,8,16,16]
        s = branch_a(x) + branch_b(x)                    # Conv 3x3 and Conv 1x1, 8 -> 8; Add
        y = sigmoid(relu(s))                             # Relu, Sigmoid
        y = y * torch.sigmoid(y) + s                     # SiLU as Sigmoid then Mul; Add (skip: see below)
        t = leaky_relu(tanh(y))                          # Tanh, LeakyRelu(0.1)
        h = hardsigmoid(torch.clamp(t, -1, 1))           # Clip(-1, 1), HardSigmoid(alpha 0.25, beta 0.4)
        h = h * h.mean((2, 3), keepdim=True) + t         # ReduceMean keepdims=1, broadcast Mul; Add (skip)
        h = pool(h)                                      # MaxPool 2x2/2, no pads, [1,8,4,4]
        h = h.unsqueeze(0).squeeze(0)                    # Unsqueeze / Squeeze axis 0 (data movement only)
        logits = fc(h.mean((2, 3)))                      # ReduceMean keepdims=0; Gemm transB=1, 8 -> 10

    The two skip Adds are there to keep Relu and Clip: onnxruntime's QDQ quantizer (QDQRemovableActivation) removes
    a Relu or Clip whose input tensor has a single consumer, whatever produced it (a Conv, an Add, a LeakyRelu), and
    gives that producer the activation's output (scale, zero point) instead; with a second consumer (the skip Add) it
    keeps the node between a DequantizeLinear and a QuantizeLinear. Every other op here is kept as it is.
    The opset decides how axes are passed: Squeeze/Unsqueeze take them as an int64 input from opset 13, ReduceMean
    from opset 18 (an attribute before)."""
    bld = Builder(seed, opset, ir_version)
    x = bld.conv("input", ROOT.child("stem"), 8, 3, 2)
    s = bld.add(bld.conv(x, ROOT.child("branch_a"), 8, 3), bld.conv(x, ROOT.child("branch_b"), 8, 1), ROOT)
    y = bld.act(bld.act(s, ROOT.child("relu"), "relu"), ROOT.child("sigmoid"), "sigmoid")
    y = bld.add(bld.mul(y, bld.act(y, ROOT, "sigmoid"), ROOT), s, ROOT)
    t = bld.act(y, ROOT.child("tanh"), "tanh")
    t = bld.node(ROOT.child("leaky_relu"), "LeakyRelu", [t], bld.shapes[t], alpha=0.1)
    lo = bld.constant("Clip", np.array(-1.0, np.float32))
    hi = bld.constant("Clip", np.array(1.0, np.float32))
    h = bld.node(ROOT, "Clip", [t, lo, hi], bld.shapes[t])
    h = bld.node(ROOT.child("hardsigmoid"), "HardSigmoid", [h], bld.shapes[h], alpha=0.25, beta=0.4)
    h = bld.add(bld.mul(h, bld.mean(h, ROOT, keepdims=True), ROOT), t, ROOT)
    n, c, hh, ww = bld.shapes[h]
    h = bld.node(ROOT.child("pool"), "MaxPool", [h], (n, c, hh // 2, ww // 2), ceil_mode=0, dilations=[1, 1],
                 kernel_shape=[2, 2], pads=[0, 0, 0, 0], strides=[2, 2])
    h = bld.squeeze(bld.unsqueeze(h, ROOT, 0), ROOT, 0)
    h = bld.mean(h, ROOT, keepdims=False)
    y = bld.gemm(h, ROOT.child("fc"), CLASSES, out_name="logits")
    return bld.model(name, y), bld.macs, bld.params


def ops_zoo_opset13(seed):
    return ops_zoo(seed, 13, 8, "ops_zoo_opset13")


def ops_zoo_opset21(seed):
    return ops_zoo(seed, 21, 10, "ops_zoo_opset21")  # IR 10: the version that introduced opset 21 (onnx 1.16)


MODELS = {"mobilenet_v3_small_style": mobilenet_v3_small_style,
          "efficientnet_lite_style": efficientnet_lite_style,
          "shufflenet_style": shufflenet_style,
          "ops_zoo_opset13": ops_zoo_opset13,
          "ops_zoo_opset21": ops_zoo_opset21}
# The models --format qoperator writes by default: the three mobile CNNs, and one ops zoo for QLinearSigmoid,
# QLinearLeakyRelu and int8 MaxPool / Squeeze / Unsqueeze.
QOP_MODELS = ["mobilenet_v3_small_style", "efficientnet_lite_style", "shufflenet_style", "ops_zoo_opset13"]


class Calibration(CalibrationDataReader):
    def __init__(self, count, seed):
        rng = np.random.default_rng(seed)
        # Images normalised like ImageNet inputs: roughly zero mean, unit variance.
        self.it = iter([{"input": rng.normal(0, 1, (1, 3, RESOLUTION, RESOLUTION)).astype(np.float32)}
                        for _ in range(count)])

    def get_next(self):
        return next(self.it, None)


def run(model_path, inputs, optimized=True):
    so = ort.SessionOptions()
    if not optimized:
        so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
    sess = ort.InferenceSession(model_path, so, providers=["CPUExecutionProvider"])
    return np.concatenate([sess.run(None, {"input": inputs[i:i + 1]})[0] for i in range(len(inputs))])


# Data-movement ops onnxruntime's QOperator format applies to int8 tensors directly (Direct8BitOp, QMaxPool): int8 in,
# int8 out, the input's (scale, zero point).
INT8_DATA_MOVEMENT = ("Reshape", "Transpose", "Flatten", "Squeeze", "Unsqueeze", "MaxPool")
# onnxruntime's extra activations, reductions and elementwise functions with no QLinear form: kept float between a
# DequantizeLinear and a QuantizeLinear (see FloatIsland).
FLOAT_ISLAND_OPS = ("HardSwish", "HardSigmoid", "ReduceMean", "Tanh")


def int8_tensors(m):
    """The int8 activation tensors of a QDQ or QOperator model, in graph order: QuantizeLinear outputs, the outputs of
    QLinear* / QGemm nodes (which carry their output's scale and zero point as inputs), and the outputs of data
    movement ops (Reshape, Transpose, Flatten, Squeeze, Unsqueeze, MaxPool) applied to an int8 tensor."""
    names = set()
    order = []
    for n in m.graph.node:
        int8 = (n.op_type == "QuantizeLinear"
                or n.op_type.startswith("QLinear") or n.op_type == "QGemm"
                or (n.op_type in INT8_DATA_MOVEMENT and n.input[0] in names))
        if int8:
            names.add(n.output[0])
            order.append(n.output[0])
    return order


def ort_layers(int8_path, x):
    """onnxruntime's int8 value of every int8 activation tensor (graph order; for a QDQ model the QuantizeLinear
    outputs) for input x, unoptimized session."""
    m = onnx.load(int8_path)
    names = int8_tensors(m)
    listed = {o.name for o in m.graph.output}
    for n in names:
        if n not in listed:
            m.graph.output.append(helper.make_tensor_value_info(n, TensorProto.INT8, None))
    so = ort.SessionOptions()
    so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
    sess = ort.InferenceSession(m.SerializeToString(), so, providers=["CPUExecutionProvider"])
    values = sess.run(names, {"input": x})
    tensors, flat, offset = [], [], 0
    for n, v in zip(names, values):
        assert v.dtype == np.int8, (n, v.dtype)
        tensors.append({"name": n, "shape": list(v.shape), "offset": offset, "len": int(v.size)})
        flat.append(v.astype(np.float32).ravel())
        offset += v.size
    return np.concatenate(flat), tensors


class FloatIsland(QuantOperatorBase):
    """A float op of the QOperator format (one with no QLinear form) kept alone between DequantizeLinear inputs and a
    QuantizeLinear output, as in the QDQ fixtures. onnxruntime's own QuantOperatorBase dequantizes an input only
    when it is an int8 tensor, and quantizes an output only when a QLinear consumer asks: a float op fed by another
    (MobileNet v3's HardSwish -> ReduceMean) reads the float tensor, and ReduceMean -> Flatten stays float (a Direct8Bit
    op like Flatten is int8 only when its input already is), chains of float ops an int8 proof cannot express. Here the
    output is quantized at once (onnxruntime's quantizer: its calibrated scale and zero point, its "Y_QuantizeLinear"
    node, shared with every QLinear consumer), and an input made by another float op is read back through a
    DequantizeLinear "X_DequantizeLinear" -> "X_dequantized"."""

    def quantize(self):
        q = self.quantizer
        producers = {o: n for n in q.new_nodes for o in n.output}
        for i, name in enumerate(self.node.input):
            p = producers.get(name)
            if p is None or p.op_type == "DequantizeLinear":
                continue  # a constant, the graph input, or an int8 tensor's float value (dequantized as usual)
            qnames, zps, scales, nodes = q.quantize_activation(self.node, [i])
            assert qnames is not None, f"{self.node.name}: no calibrated range for {name}"
            dq = next((n for n in q.new_nodes if n.name == name + "_DequantizeLinear"), None)
            if dq is None:
                dq = helper.make_node("DequantizeLinear", [qnames[0], scales[0], zps[0]], [name + "_dequantized"],
                                      name + "_DequantizeLinear")
                nodes = [*nodes, dq]
            q.new_nodes += nodes
            self.node.input[i] = dq.output[0]
        super().quantize()
        out = self.node.output[0]
        if out not in {o.name for o in q.model.graph().output}:
            # As a QLinear consumer would quantize it (input 0 of a stand-in consumer node).
            q.new_nodes += q._get_quantize_input_nodes(helper.make_node("Identity", [out], [out + "_consumer"]), 0,
                                                       q.activation_qType)


def quantize_qoperator(fp32, int8, calibration, every_op):
    """quantize_static in QOperator format. every_op: the same extra op types as the QDQ fixtures, each a FloatIsland
    (registered in onnxruntime's QLinearOpsRegistry for this call only). Not ForceQuantizeNoInputCheck: onnxruntime
    1.31's Direct8BitOp then leaves every Reshape / Transpose / Flatten of an activation float."""
    added = {op: FloatIsland for op in FLOAT_ISLAND_OPS if op not in QLinearOpsRegistry} if every_op else {}
    QLinearOpsRegistry.update(added)
    try:
        ops = sorted(set(QLinearOpsRegistry) | set(FLOAT_ISLAND_OPS))
        quantize_static(fp32, int8, calibration,
                        quant_format=QuantFormat.QOperator, activation_type=QuantType.QInt8,
                        weight_type=QuantType.QInt8, op_types_to_quantize=ops if every_op else None,
                        extra_options={"WeightSymmetric": True, "ActivationSymmetric": False})
    finally:
        for op in added:
            del QLinearOpsRegistry[op]


def generate(stem, out, seed, calibration, keep_fp32, every_op=False, fmt="qdq"):
    model, macs, params = MODELS[stem](seed)
    name = stem + ("_qop" if fmt == "qoperator" else "")
    with tempfile.TemporaryDirectory() as tmp:
        fp32 = os.path.join(out if keep_fp32 else tmp, stem + "_fp32.onnx")
        onnx.save(model, fp32)
        int8 = os.path.join(out, name + "_int8.onnx")
        if fmt == "qoperator":
            quantize_qoperator(fp32, int8, Calibration(calibration, seed), every_op)
        else:
            # Default op_types_to_quantize (None): onnxruntime's registries, which lack HardSwish, HardSigmoid,
            # ReduceMean and Tanh; those get Q/DQ only where a neighbour is quantized. The fixtures add them (every
            # tensor int8).
            ops = sorted(set(QLinearOpsRegistry) | set(QDQRegistry) | {"HardSwish", "HardSigmoid", "ReduceMean", "Tanh"})
            quantize_static(fp32, int8, Calibration(calibration, seed),
                            quant_format=QuantFormat.QDQ, activation_type=QuantType.QInt8, weight_type=QuantType.QInt8,
                            op_types_to_quantize=ops if every_op else None,
                            extra_options={"WeightSymmetric": True, "ActivationSymmetric": False})
        input_meta.tag(int8, "rgb", [0.485, 0.456, 0.406], [0.229, 0.224, 0.225])
        # Two seeded inputs; onnxruntime's outputs of the int8 model are the oracle for the integer reference.
        inputs = np.random.default_rng(seed + 1).normal(0, 1, (2, 3, RESOLUTION, RESOLUTION)).astype(np.float32)
        logits = run(int8, inputs).astype(np.float32)
        float_logits = run(fp32, inputs)
    np.save(os.path.join(out, name + "_inputs.npy"), inputs)
    np.save(os.path.join(out, name + "_ort_int8_logits.npy"), logits)
    layers, tensors = ort_layers(int8, inputs[:1])
    np.save(os.path.join(out, name + "_ort_layers.npy"), layers)
    with open(os.path.join(out, name + "_ort_layers.json"), "w") as f:
        json.dump({"format": FORMAT, "model": name, "input_index": 0, "tensors": tensors}, f, indent=1)
        f.write("\n")
    files = [name + s for s in ("_int8.onnx", "_inputs.npy", "_ort_int8_logits.npy", "_ort_layers.npy",
                                "_ort_layers.json")]
    q = onnx.load(int8)
    return {"model": name, "macs": macs, "params": params, "float_nodes": len(model.graph.node),
            "int8_nodes": len(q.graph.node), "quantized_tensors": len(tensors),
            "max_abs_logit_diff_float_vs_int8": float(np.abs(float_logits - logits).max()),
            "float_logit_range": float(np.abs(float_logits).max()),
            "bytes": {f: os.path.getsize(os.path.join(out, f)) for f in files}}


def report(stem, int8_path, fp32_model):
    """Prints how onnxruntime's QDQ export treats each compute op: where its inputs come from, where its output goes,
    the (scale, zero point) pairs, ops it removed, and float tensors that no Q/DQ touches."""
    m = onnx.load(int8_path)
    inits = {i.name: numpy_helper.to_array(i) for i in m.graph.initializer}
    producer = {o: n for n in m.graph.node for o in n.output}
    consumers = collections.defaultdict(list)
    for n in m.graph.node:
        for i in n.input:
            consumers[i].append(n)

    def qp(n):
        s, z = qkey(n)
        return f"s={s:.6g},zp={z}"

    def qkey(n):
        s = inits[n.input[1]]
        assert s.size == 1, f"{n.name}: per-channel scale"
        return (s.item(), int(inits[n.input[2]].item()) if len(n.input) > 2 else 0)

    def src(t):
        """What feeds a compute node's input t."""
        if t in inits:
            return f"init {inits[t].dtype} {inits[t].tolist() if inits[t].size <= 8 else list(inits[t].shape)}"
        p = producer.get(t)
        if p is None:
            return f"graph input {t}"
        if p.op_type == "DequantizeLinear":
            x = p.input[0]
            kind = (f"const {inits[x].dtype} {list(inits[x].shape)}" if x in inits
                    else f"{producer[x].op_type}" if x in producer else "input")
            return f"DQ({qp(p)}) <- {kind}"
        return f"FLOAT from {p.op_type}"

    def dst(t):
        cs = consumers.get(t, [])
        if not cs:
            return ["graph output (float)"]
        return [f"Q({qp(c)})" if c.op_type == "QuantizeLinear" else f"FLOAT to {c.op_type}" for c in cs]

    def short(s):
        """The kind of an input / output without its numbers: "DQ(w)" for a constant's DequantizeLinear."""
        return s.split(" <- ")[0].split("(")[0].split(" [")[0] + ("(w)" if "<- const" in s else "")

    print(f"== {stem}: {len(m.graph.node)} nodes; ops in float model:",
          dict(collections.Counter(n.op_type for n in fp32_model.graph.node)), "; in int8 model:",
          dict(collections.Counter(n.op_type for n in m.graph.node)))
    per_op = collections.defaultdict(collections.Counter)
    example = {}
    notes = collections.defaultdict(set)
    for n in m.graph.node:
        if n.op_type in ("QuantizeLinear", "DequantizeLinear"):
            continue
        ins = [src(i) for i in n.input if i]
        outs = dst(n.output[0])
        pattern = "in: " + " | ".join(short(s) for s in ins) + " ; out: " + " | ".join(short(o) for o in outs)
        per_op[n.op_type][pattern] += 1
        example.setdefault(n.op_type, (n.name, ins, outs))
        act_dq = [producer[i] for i in n.input if i in producer and producer[i].op_type == "DequantizeLinear"
                  and producer[i].input[0] not in inits]
        out_q = [c for c in consumers.get(n.output[0], []) if c.op_type == "QuantizeLinear"]
        if n.op_type in ("Reshape", "Transpose", "MaxPool", "Flatten", "Concat") and act_dq and out_q:
            same = all(qkey(d) == qkey(out_q[0]) for d in act_dq)
            notes[n.op_type].add("inputs and output share (scale, zp)" if same else
                                 f"(scale, zp) differ: in {[qkey(d) for d in act_dq]} out {qkey(out_q[0])}")
        if n.op_type in ("Concat", "Add", "Mul") and len(act_dq) > 1:
            keys = {qkey(d) for d in act_dq}
            notes[n.op_type].add("all inputs one (scale, zp)" if len(keys) == 1 else
                                 f"inputs differ: {sorted(keys)}")
    for op in sorted(per_op):
        print(f"  {op}:")
        for pat, c in per_op[op].items():
            print(f"    {c} x {pat}")
        for note in sorted(notes[op]):
            print(f"    note: {note}")
        name, ins, outs = example[op]
        print(f"    e.g. {name}: [{'; '.join(ins)}] -> {op} -> [{'; '.join(outs)}]")
    # Float islands: a float tensor made by a compute op and read by a compute op, no Q/DQ between.
    islands = [f"{producer[t].op_type} -> {c.op_type} ({t})" for t in consumers for c in consumers[t]
               if t in producer and producer[t].op_type not in ("QuantizeLinear", "DequantizeLinear")
               and c.op_type not in ("QuantizeLinear", "DequantizeLinear")]
    print("  float islands (compute op -> compute op on a float tensor):", islands or "none")
    # Q -> DQ pairs: does each Q feed DQs only, with the same parameters?
    odd = [n.name for n in m.graph.node if n.op_type == "QuantizeLinear" and any(
        c.op_type != "DequantizeLinear" or qkey(c) != qkey(n) for c in consumers[n.output[0]])]
    print("  QuantizeLinear not followed only by same-parameter DequantizeLinear:", odd or "none")


def report_qoperator(stem, int8_path):
    """Prints, per (domain, op type), how onnxruntime's QOperator format wrote it: each input as an int8 tensor, a
    float tensor, or a constant (dtype, size), and the attributes."""
    m = onnx.load(int8_path)
    inits = {i.name: numpy_helper.to_array(i) for i in m.graph.initializer}
    int8 = set(int8_tensors(m))

    def kind(t):
        if not t:
            return "-"
        if t in inits:
            v = inits[t]
            return f"{v.dtype}{'' if v.size == 1 else list(v.shape)}"
        return "int8" if t in int8 else "float"

    patterns = collections.defaultdict(collections.Counter)
    for n in m.graph.node:
        attrs = ", ".join(f"{a.name}={helper.get_attribute_value(a)}" for a in n.attribute
                          if a.name not in ("kernel_shape", "pads", "strides", "dilations", "group"))
        pattern = f"({', '.join(kind(i) for i in n.input)}) -> ({', '.join(kind(o) for o in n.output)})"
        patterns[(n.domain or "ai.onnx", n.op_type)][pattern + (f" [{attrs}]" if attrs else "")] += 1
    print(f"== {stem} (QOperator): {len(m.graph.node)} nodes")
    for (domain, op), pats in sorted(patterns.items()):
        for pat, c in pats.items():
            print(f"  {domain}:{op} x{c}: {pat}")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", choices=sorted(MODELS), action="append",
                    help="default: all five (QDQ); the three mobile CNNs and ops_zoo_opset13 (QOperator)")
    ap.add_argument("--out", default=os.path.join(os.path.dirname(__file__), "..", "fixtures"))
    ap.add_argument("--seed", type=int, default=2025)
    ap.add_argument("--calibration", type=int, default=8)
    ap.add_argument("--keep-fp32", action="store_true")
    ap.add_argument("--format", choices=["qdq", "qoperator"], default="qdq",
                    help="qoperator: STEM_qop_* files in onnxruntime's QOperator format (QLinear* ops)")
    ap.add_argument("--report", action="store_true", help="print the pattern onnxruntime wrote around each op")
    ap.add_argument("--ort-default-ops", action="store_true",
                    help="onnxruntime's default op_types_to_quantize (leaves float islands; not the fixtures)")
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)
    default = QOP_MODELS if args.format == "qoperator" else list(MODELS)
    for stem in args.model or default:
        print(json.dumps(generate(stem, args.out, args.seed, args.calibration, args.keep_fp32,
                                  not args.ort_default_ops, args.format)), flush=True)
        if args.report and args.format == "qoperator":
            report_qoperator(stem, os.path.join(args.out, stem + "_qop_int8.onnx"))
        elif args.report:
            report(stem, os.path.join(args.out, stem + "_int8.onnx"), MODELS[stem](args.seed)[0])


if __name__ == "__main__":
    main()
