"""Famous networks written in the shape calculator's text, with the figures published for them.

The parameter counts are torchvision's (`num_params` on its model pages, pytorch.org/vision,
which is `sum(p.numel() for p in model.parameters())`); the multiply-adds are the figures those
pages give as "GFLOPS", which count one multiply-add as one operation (timm's model cards call
the same numbers GMACs). Both at a 3×224×224 input.

* AlexNet is torchvision's variant (64, 192, 384, 256, 256 filters, one tower; the 2012 paper
  had two towers, 96 filters in the first layer and about 60 million parameters). Its adaptive
  average pooling to 6×6 is left out: at 224×224 the maps are 6×6 already, so it changes nothing.
* VGG-16 is configuration D of Simonyan and Zisserman, as torchvision builds it.
* The ResNet basic block is the first block of torchvision's ResNet-18 (`layer1[0]`): two 3×3
  convolutions of 64 filters without bias, each followed by batch norm, and the shortcut added
  before the last ReLU, at the 64×56×56 maps it works on. Its 73,984 parameters are the two
  kernels' 2·64·64·3·3 = 73,728 weights and the batch norms' scale and shift, 2·2·64 = 256; the
  batch norms' running means and variances (another 256 numbers) are buffers, not parameters.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class NetPreset:
    key: str  # in URLs
    name: str  # a proper name: not translated
    input_shape: str
    arch: str
    params: int  # published parameter count
    macs: float  # multiply-adds for one image
    macs_published: bool = True  # False: no published figure, worked out by hand


def _vgg_stage(filters: int, convs: int) -> list[str]:
    return [f"conv {filters} 3x3 pad 1, relu"] * convs + ["maxpool 2"]


ALEXNET = NetPreset(
    "alexnet",
    "AlexNet",
    "3x224x224",
    "conv 64 11x11 stride 4 pad 2, relu, maxpool 3 stride 2, "
    "conv 192 5x5 pad 2, relu, maxpool 3 stride 2, "
    "conv 384 3x3 pad 1, relu, conv 256 3x3 pad 1, relu, conv 256 3x3 pad 1, relu, "
    "maxpool 3 stride 2, flatten, dropout 0.5, dense 4096, relu, dropout 0.5, dense 4096, relu, "
    "dense 1000",
    params=61_100_840,
    macs=0.71e9,
)
VGG16 = NetPreset(
    "vgg16",
    "VGG-16",
    "3x224x224",
    ", ".join(
        [
            *_vgg_stage(64, 2),
            *_vgg_stage(128, 2),
            *_vgg_stage(256, 3),
            *_vgg_stage(512, 3),
            *_vgg_stage(512, 3),
            "flatten",
            "dense 4096, relu, dropout 0.5",
            "dense 4096, relu, dropout 0.5",
            "dense 1000",
        ]
    ),  # fmt: skip
    params=138_357_544,
    macs=15.47e9,
)
RESNET_BLOCK = NetPreset(
    "resnet-block",
    "ResNet basic block",
    "64x56x56",
    "conv 64 3x3 pad 1 nobias, batchnorm, relu, conv 64 3x3 pad 1 nobias, batchnorm, add 0, relu",
    params=73_984,
    macs=2 * 56 * 56 * 64 * 64 * 9,  # two 3×3 convolutions over 56×56 outputs
    macs_published=False,
)
PRESETS = {preset.key: preset for preset in (ALEXNET, VGG16, RESNET_BLOCK)}
