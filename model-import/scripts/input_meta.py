"""Records in an ONNX file how an image becomes the model's float input, as metadata_props that zkinfer reads:
x = (pixel / 255 - mean) / std per channel, after converting to `zkinfer.input.image` (gray or rgb) and resizing to
the input's H x W."""
import sys

import onnx


def tag(path, image, mean, std):
    model = onnx.load(path)
    keep = [p for p in model.metadata_props if not p.key.startswith("zkinfer.input.")]
    del model.metadata_props[:]
    model.metadata_props.extend(keep)
    for key, value in (("image", image), ("mean", ",".join(map(str, mean))), ("std", ",".join(map(str, std)))):
        entry = model.metadata_props.add()
        entry.key, entry.value = f"zkinfer.input.{key}", value
    onnx.save(model, path)


if __name__ == "__main__":
    # input_meta.py MODEL.onnx gray|rgb MEAN[,MEAN..] STD[,STD..]
    p, image, mean, std = sys.argv[1:5]
    tag(p, image, [float(v) for v in mean.split(",")], [float(v) for v in std.split(",")])
