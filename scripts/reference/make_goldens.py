#!/usr/bin/env python3
"""Writes the reference goldens the engine's models and samplers are tested against.

A tiny Stable Diffusion 1.x pipeline with seeded random weights is built in PyTorch with HF diffusers
(UNet2DConditionModel, AutoencoderKL, DDIM/Euler/Euler ancestral/DPM-Solver++ (2M, 2M SDE, SDE)/UniPC/LCM/TCD schedulers) and a CLIP text transformer,
saved as a diffusers folder, and run on fixed inputs. Inputs and outputs go to one safetensors file:

  test/fixtures/reference/tiny-sd/          the model, as a diffusers folder (weights in float16, so both
                                            sides compute in float32 from exactly the same values)
  test/fixtures/reference/goldens.safetensors
  test/fixtures/reference/tiny-{clip,dino,dinov2,lpips}/  the report card's networks (LPIPS also as torch.onnx.export writes it)
  test/fixtures/reference/tiny-lora/        a LoRA over every layer kind, in kohya's and PEFT's naming
  test/fixtures/reference/tiny-taesd/       TAESD (AutoencoderTiny) as a diffusers folder and as the original single files

test/unit/models/reference.test.ts opens the folder with the app's own loader and compares every output
(max abs error <= 1e-4 x max abs value). CI uses the committed files; torch is needed only to rewrite them.

transformers is not packaged for Debian, so the text encoder is `ClipText` below: a plain-torch
transcription of transformers' CLIPTextTransformer (pre-LayerNorm blocks, causal mask, quick-GELU, final
LayerNorm) with transformers' parameter names; it shares no code with the app.

Run (Debian 12: python3-torch python3-numpy, plus the diffusers source shipped in ../shared/peer-bench):

  mkdir -p /tmp/diffusers && tar -xzf ../shared/peer-bench/diffusers-v0.31.0-src.tar.gz -C /tmp/diffusers
  python3 scripts/reference/make_goldens.py --diffusers-src /tmp/diffusers/src

Reproducible: the same torch, diffusers and BLAS build write byte-identical files (the metadata records the
first two); another BLAS build moves the last bits of the computed goldens (relative 1e-6, far inside the 1e-4
the tests allow), never the inputs or the model. `--keep-from FILE` keeps FILE's bytes for every golden it has
(new sections added on another machine then leave the committed ones as they were).
"""
import argparse
import json
import math
import os
import struct
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
SEED = 20261202

# The tiny model: SD 1.x's block structure, small widths, and head and group counts unlike SD's so a
# loader that ignores the config cannot pass.
UNET = dict(
    sample_size=8, in_channels=4, out_channels=4, block_out_channels=[32, 64], layers_per_block=1,
    down_block_types=["CrossAttnDownBlock2D", "DownBlock2D"], up_block_types=["UpBlock2D", "CrossAttnUpBlock2D"],
    cross_attention_dim=48, attention_head_dim=4, norm_num_groups=16, norm_eps=1e-5,
)
TEXT = dict(
    vocab_size=1000, hidden_size=48, intermediate_size=96, num_hidden_layers=2, num_attention_heads=6,
    max_position_embeddings=77, layer_norm_eps=1e-5, hidden_act="quick_gelu",
)
VAE = dict(
    in_channels=3, out_channels=3, latent_channels=4, block_out_channels=[32, 64], layers_per_block=1,
    down_block_types=["DownEncoderBlock2D"] * 2, up_block_types=["UpDecoderBlock2D"] * 2,
    norm_num_groups=16, sample_size=32, scaling_factor=0.18215,
)
# SD 1.5's scheduler settings (its scheduler_config.json)
SCHEDULE = dict(num_train_timesteps=1000, beta_start=0.00085, beta_end=0.012, beta_schedule="scaled_linear")
STEPS = 3
GUIDANCE = 7.5

# The report card's networks (issue 25), small: a CLIP model (both towers and their projections), a DINO v1
# ViT (transformers' ViTModel, as facebook/dino-vits16 is stored) and LPIPS on an AlexNet-shaped trunk
# (torchvision's layer indices and kernels, narrower channels).
CLIP_TEXT = dict(TEXT, hidden_size=32, intermediate_size=64, num_hidden_layers=2, num_attention_heads=4, eos_token_id=999)
CLIP_VISION = dict(image_size=32, patch_size=8, hidden_size=40, intermediate_size=80, num_hidden_layers=2, num_attention_heads=5,
                   layer_norm_eps=1e-5, hidden_act="quick_gelu")
CLIP_PROJECTION = 24
DINO = dict(model_type="vit", image_size=32, patch_size=8, num_channels=3, hidden_size=24, intermediate_size=48, num_hidden_layers=2,
            num_attention_heads=3, layer_norm_eps=1e-6, hidden_act="gelu", qkv_bias=True)
LPIPS_CHANNELS = [16, 24, 32, 24, 24]  # AlexNet's are 64, 192, 384, 256, 256
DINOV2 = dict(model_type="dinov2", image_size=32, patch_size=8, num_channels=3, hidden_size=24, mlp_ratio=2, num_hidden_layers=2,
              num_attention_heads=3, layer_norm_eps=1e-6, hidden_act="gelu", qkv_bias=True, layerscale_value=1.0, use_swiglu_ffn=False)


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--diffusers-src", default=os.environ.get("DIFFUSERS_SRC"), required=os.environ.get("DIFFUSERS_SRC") is None,
                   help="the unpacked src/ of diffusers v0.31.0")
    p.add_argument("--out", default=os.path.join(ROOT, "test", "fixtures", "reference"))
    p.add_argument("--keep-from", help="an earlier goldens.safetensors whose values are kept for the names it has")
    return p.parse_args()


args = parse_args()
sys.path[:0] = [args.diffusers_src, os.path.join(ROOT, "..", "shared", "peer-bench", "stubs"), os.path.join(HERE, "stubs")]

import numpy as np  # noqa: E402
import torch  # noqa: E402
from torch import nn  # noqa: E402
import diffusers  # noqa: E402
from diffusers import (  # noqa: E402
    AutoencoderKL,
    AutoencoderTiny,
    DDIMScheduler,
    DPMSolverMultistepScheduler,
    EulerAncestralDiscreteScheduler,
    EulerDiscreteScheduler,
    LCMScheduler,
    TCDScheduler,
    UNet2DConditionModel,
    UniPCMultistepScheduler,
)
import diffusers.schedulers.scheduling_dpmsolver_multistep as dpmsolver_module  # noqa: E402
import diffusers.schedulers.scheduling_dpmsolver_sde as dpmsolver_sde_module  # noqa: E402  (torchsde: stubs/)
import diffusers.schedulers.scheduling_euler_ancestral_discrete as euler_ancestral_module  # noqa: E402
import diffusers.schedulers.scheduling_lcm as lcm_module  # noqa: E402
import diffusers.schedulers.scheduling_tcd as tcd_module  # noqa: E402

torch.manual_seed(SEED)
torch.set_num_threads(1)  # one thread: the same sums in the same order on every run


class ClipTextLayer(nn.Module):
    def __init__(self, c):
        super().__init__()
        d = c["hidden_size"]
        self.heads = c["num_attention_heads"]
        self.self_attn = nn.Module()
        for name in ("q_proj", "k_proj", "v_proj", "out_proj"):
            setattr(self.self_attn, name, nn.Linear(d, d))
        self.layer_norm1 = nn.LayerNorm(d, eps=c["layer_norm_eps"])
        self.mlp = nn.Module()
        self.mlp.fc1 = nn.Linear(d, c["intermediate_size"])
        self.mlp.fc2 = nn.Linear(c["intermediate_size"], d)
        self.layer_norm2 = nn.LayerNorm(d, eps=c["layer_norm_eps"])

    def forward(self, x, mask):
        b, n, d = x.shape
        a = self.self_attn
        h = self.layer_norm1(x)
        split = lambda t: t.view(b, n, self.heads, d // self.heads).transpose(1, 2)  # noqa: E731
        q = split(a.q_proj(h) * (d // self.heads) ** -0.5)
        k, v = split(a.k_proj(h)), split(a.v_proj(h))
        w = torch.softmax(q @ k.transpose(-1, -2) + mask, dim=-1)
        x = x + a.out_proj((w @ v).transpose(1, 2).reshape(b, n, d))
        h = self.mlp.fc1(self.layer_norm2(x))
        return x + self.mlp.fc2(h * torch.sigmoid(1.702 * h))  # quick_gelu


class ClipText(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.text_model = nn.Module()
        m = self.text_model
        m.embeddings = nn.Module()
        m.embeddings.token_embedding = nn.Embedding(c["vocab_size"], c["hidden_size"])
        m.embeddings.position_embedding = nn.Embedding(c["max_position_embeddings"], c["hidden_size"])
        m.encoder = nn.Module()
        m.encoder.layers = nn.ModuleList([ClipTextLayer(c) for _ in range(c["num_hidden_layers"])])
        m.final_layer_norm = nn.LayerNorm(c["hidden_size"], eps=c["layer_norm_eps"])

    def forward(self, ids):
        m = self.text_model
        n = ids.shape[1]
        x = m.embeddings.token_embedding(ids) + m.embeddings.position_embedding.weight[:n]
        mask = torch.full((n, n), torch.finfo(torch.float32).min).triu(1)
        for layer in m.encoder.layers:
            x = layer(x, mask)
        return m.final_layer_norm(x)


class ClipVision(nn.Module):
    """transformers' CLIPVisionTransformer: patches (no bias) + class token + positions, pre-LayerNorm ("pre_layrnorm"),
    the CLIP blocks without a mask, and post_layernorm on the class token."""

    def __init__(self, c):
        super().__init__()
        self.vision_model = m = nn.Module()
        d, grid = c["hidden_size"], c["image_size"] // c["patch_size"]
        m.embeddings = nn.Module()
        m.embeddings.patch_embedding = nn.Conv2d(3, d, c["patch_size"], stride=c["patch_size"], bias=False)
        m.embeddings.class_embedding = nn.Parameter(torch.zeros(d))
        m.embeddings.position_embedding = nn.Embedding(grid * grid + 1, d)
        m.pre_layrnorm = nn.LayerNorm(d, eps=c["layer_norm_eps"])
        m.encoder = nn.Module()
        m.encoder.layers = nn.ModuleList([ClipTextLayer(c) for _ in range(c["num_hidden_layers"])])
        m.post_layernorm = nn.LayerNorm(d, eps=c["layer_norm_eps"])

    def forward(self, pixels):
        m = self.vision_model
        x = m.embeddings.patch_embedding(pixels).flatten(2).transpose(1, 2)
        x = torch.cat([m.embeddings.class_embedding.expand(x.shape[0], 1, -1), x], 1) + m.embeddings.position_embedding.weight
        x = m.pre_layrnorm(x)
        for layer in m.encoder.layers:
            x = layer(x, 0.0)
        return m.post_layernorm(x[:, 0])


class ClipModel(nn.Module):
    """transformers' CLIPModel's embeddings: image_embeds = visual_projection(pooled image), text_embeds =
    text_projection(the final states at the first end-of-text token); both without bias."""

    def __init__(self, text_c, vision_c, dim):
        super().__init__()
        self.text, self.vision = ClipText(text_c), ClipVision(vision_c)
        self.eos = text_c["eos_token_id"]
        self.visual_projection = nn.Linear(vision_c["hidden_size"], dim, bias=False)
        self.text_projection = nn.Linear(text_c["hidden_size"], dim, bias=False)

    def image_embeds(self, pixels):
        return self.visual_projection(self.vision(pixels))

    def text_embeds(self, ids):
        states = self.text(ids)
        first_eos = (ids == self.eos).int().argmax(-1)
        return self.text_projection(states[torch.arange(ids.shape[0]), first_eos])

    def state(self):
        return {**self.text.state_dict(), **self.vision.state_dict(), "visual_projection.weight": self.visual_projection.weight,
                "text_projection.weight": self.text_projection.weight, "logit_scale": torch.tensor(math.log(1 / 0.07))}


class DinoLayer(nn.Module):
    def __init__(self, c):
        super().__init__()
        d = c["hidden_size"]
        self.heads = c["num_attention_heads"]
        self.attention = nn.Module()
        self.attention.attention = nn.Module()
        for name in ("query", "key", "value"):
            setattr(self.attention.attention, name, nn.Linear(d, d))
        self.attention.output = nn.Module()
        self.attention.output.dense = nn.Linear(d, d)
        self.intermediate = nn.Module()
        self.intermediate.dense = nn.Linear(d, c["intermediate_size"])
        self.output = nn.Module()
        self.output.dense = nn.Linear(c["intermediate_size"], d)
        self.layernorm_before = nn.LayerNorm(d, eps=c["layer_norm_eps"])
        self.layernorm_after = nn.LayerNorm(d, eps=c["layer_norm_eps"])

    def forward(self, x):
        b, n, d = x.shape
        a = self.attention.attention
        h = self.layernorm_before(x)
        split = lambda t: t.view(b, n, self.heads, d // self.heads).transpose(1, 2)  # noqa: E731
        q, k, v = split(a.query(h)), split(a.key(h)), split(a.value(h))
        w = torch.softmax(q @ k.transpose(-1, -2) / math.sqrt(d // self.heads), dim=-1)
        x = x + self.attention.output.dense((w @ v).transpose(1, 2).reshape(b, n, d))
        return x + self.output.dense(nn.functional.gelu(self.intermediate.dense(self.layernorm_after(x))))


class Dino(nn.Module):
    """transformers' ViTModel (DINO v1 checkpoints): patches with bias + cls_token + position_embeddings, pre-norm blocks with
    exact GELU, a final layernorm; the embedding is the class token of the last hidden state."""

    def __init__(self, c):
        super().__init__()
        d, grid = c["hidden_size"], c["image_size"] // c["patch_size"]
        self.embeddings = nn.Module()
        self.embeddings.cls_token = nn.Parameter(torch.zeros(1, 1, d))
        self.embeddings.position_embeddings = nn.Parameter(torch.zeros(1, grid * grid + 1, d))
        self.embeddings.patch_embeddings = nn.Module()
        self.embeddings.patch_embeddings.projection = nn.Conv2d(3, d, c["patch_size"], stride=c["patch_size"])
        self.encoder = nn.Module()
        self.encoder.layer = nn.ModuleList([DinoLayer(c) for _ in range(c["num_hidden_layers"])])
        self.layernorm = nn.LayerNorm(d, eps=c["layer_norm_eps"])

    def forward(self, pixels):
        e = self.embeddings
        x = e.patch_embeddings.projection(pixels).flatten(2).transpose(1, 2)
        x = torch.cat([e.cls_token.expand(x.shape[0], 1, -1), x], 1) + e.position_embeddings
        for layer in self.encoder.layer:
            x = layer(x)
        return self.layernorm(x)[:, 0]


class Dinov2Layer(DinoLayer):
    """transformers' Dinov2Layer: DINO v1's attention under other names (norm1, norm2, mlp.fc1/fc2) and a learned scale on
    each residual branch (layer_scale1/2.lambda1)."""

    def __init__(self, c):
        super().__init__({**c, "intermediate_size": c["hidden_size"] * c["mlp_ratio"]})
        d = c["hidden_size"]
        del self.intermediate, self.output, self.layernorm_before, self.layernorm_after
        self.norm1, self.norm2 = nn.LayerNorm(d, eps=c["layer_norm_eps"]), nn.LayerNorm(d, eps=c["layer_norm_eps"])
        self.mlp = nn.Module()
        self.mlp.fc1, self.mlp.fc2 = nn.Linear(d, d * c["mlp_ratio"]), nn.Linear(d * c["mlp_ratio"], d)
        self.layer_scale1, self.layer_scale2 = nn.Module(), nn.Module()
        self.layer_scale1.lambda1 = nn.Parameter(torch.ones(d))
        self.layer_scale2.lambda1 = nn.Parameter(torch.ones(d))

    def forward(self, x):
        b, n, d = x.shape
        a = self.attention.attention
        h = self.norm1(x)
        split = lambda t: t.view(b, n, self.heads, d // self.heads).transpose(1, 2)  # noqa: E731
        q, k, v = split(a.query(h)), split(a.key(h)), split(a.value(h))
        w = torch.softmax(q @ k.transpose(-1, -2) / math.sqrt(d // self.heads), dim=-1)
        x = x + self.layer_scale1.lambda1 * self.attention.output.dense((w @ v).transpose(1, 2).reshape(b, n, d))
        return x + self.layer_scale2.lambda1 * self.mlp.fc2(nn.functional.gelu(self.mlp.fc1(self.norm2(x))))


class Dinov2(Dino):
    """transformers' Dinov2Model at its stored size (the position embeddings need no interpolation there): DINO v1's
    embeddings (plus an unused mask_token), Dinov2Layer blocks, the class token after the final layernorm."""

    def __init__(self, c):
        super().__init__({**c, "intermediate_size": c["hidden_size"] * c["mlp_ratio"]})
        self.embeddings.mask_token = nn.Parameter(torch.zeros(1, c["hidden_size"]))
        self.encoder.layer = nn.ModuleList([Dinov2Layer(c) for _ in range(c["num_hidden_layers"])])


class Lpips(nn.Module):
    """lpips' LPIPS(net="alex") at its defaults (inputs in [-1, 1], the scaling layer, unit-normalised ReLU features of five
    slices, squared differences weighted by 1x1 convs without bias, spatial means summed), on an AlexNet-shaped trunk stored
    with lpips' own names: net.sliceK.<torchvision features index>, linK.model.1."""

    SLICES = {1: [0], 2: [3], 3: [6], 4: [8], 5: [10]}

    def __init__(self, ch):
        super().__init__()
        self.register_buffer("shift", torch.tensor([-0.030, -0.088, -0.188]).view(1, 3, 1, 1))
        self.register_buffer("scale", torch.tensor([0.458, 0.448, 0.450]).view(1, 3, 1, 1))
        c = [3] + ch
        convs = {0: nn.Conv2d(c[0], c[1], 11, stride=4, padding=2), 3: nn.Conv2d(c[1], c[2], 5, padding=2),
                 6: nn.Conv2d(c[2], c[3], 3, padding=1), 8: nn.Conv2d(c[3], c[4], 3, padding=1), 10: nn.Conv2d(c[4], c[5], 3, padding=1)}
        self.net = nn.Module()
        for k, idx in self.SLICES.items():
            s = nn.Module()
            setattr(s, str(idx[0]), convs[idx[0]])
            setattr(self.net, f"slice{k}", s)
        for k in range(5):
            lin = nn.Module()
            lin.model = nn.Sequential(nn.Dropout(), nn.Conv2d(ch[k], 1, 1, bias=False))
            setattr(self, f"lin{k}", lin)

    def features(self, x):
        out = []
        for k, idx in self.SLICES.items():
            if k in (2, 3):
                x = nn.functional.max_pool2d(x, 3, 2)
            x = torch.relu(getattr(getattr(self.net, f"slice{k}"), str(idx[0]))(x))
            out.append(x)
        return out

    def forward(self, a, b):
        fa, fb = self.features((a - self.shift) / self.scale), self.features((b - self.shift) / self.scale)
        unit = lambda t: t / (torch.sqrt((t * t).sum(1, keepdim=True)) + 1e-10)  # noqa: E731
        return sum(getattr(self, f"lin{k}").model((unit(x) - unit(y)) ** 2).mean((2, 3), keepdim=True) for k, (x, y) in enumerate(zip(fa, fb)))


def eval_preprocess(image, mask, shortest, crop, mean, std):
    """The report card's view of an image for an embedding network: the masked part (image x mask; the rest black), resized
    so its shortest side is `shortest` (bicubic, antialiased as PIL does), centre-cropped to `crop`, then normalised."""
    x = image * mask
    h, w = x.shape[-2:]
    size = (shortest, int(w * shortest / h)) if h <= w else (int(h * shortest / w), shortest)
    x = nn.functional.interpolate(x, size=size, mode="bicubic", antialias=True, align_corners=False)
    top, left = (size[0] - crop) // 2, (size[1] - crop) // 2
    x = x[..., top:top + crop, left:left + crop]
    return (x - torch.tensor(mean).view(1, 3, 1, 1)) / torch.tensor(std).view(1, 3, 1, 1)


def metric_networks(g):
    """10. The report card's networks on random weights, saved as the folders a user would install."""
    clip = randomize(ClipModel(CLIP_TEXT, CLIP_VISION, CLIP_PROJECTION))
    root = os.path.join(args.out, "tiny-clip")
    write_json(os.path.join(root, "config.json"), {"model_type": "clip", "projection_dim": CLIP_PROJECTION,
                                                   "text_config": {**CLIP_TEXT, "projection_dim": CLIP_PROJECTION},
                                                   "vision_config": {**CLIP_VISION, "projection_dim": CLIP_PROJECTION}})
    write_safetensors(os.path.join(root, "model.safetensors"), clip.state(), dtype_of=lambda name, t: torch.float16)
    dino = randomize(Dino(DINO))
    write_json(os.path.join(args.out, "tiny-dino", "config.json"), DINO)
    write_safetensors(os.path.join(args.out, "tiny-dino", "model.safetensors"), dino.state_dict(), dtype_of=lambda name, t: torch.float16)
    lpips = randomize(Lpips(LPIPS_CHANNELS))
    lpips_state = {k: v for k, v in lpips.state_dict().items() if k not in ("shift", "scale")}
    write_safetensors(os.path.join(args.out, "tiny-lpips", "lpips_alex.safetensors"), lpips_state, dtype_of=lambda name, t: torch.float16)

    # the protocol's views: an odd-sized photo and a soft mask, foreground and background, for CLIP (resize = crop) and DINO (resize > crop)
    photo = torch.rand(2, 3, 40, 56)
    yy, xx = torch.meshgrid(torch.linspace(-1, 1, 40), torch.linspace(-1, 1, 56), indexing="ij")
    mask = torch.clamp(1.5 - 2 * (xx * xx + yy * yy), 0, 1).expand(2, 1, 40, 56).contiguous()
    g["eval.photo"], g["eval.mask"] = photo, mask
    clip_mean, clip_std = [0.48145466, 0.4578275, 0.40821073], [0.26862954, 0.26130258, 0.27577711]
    imagenet_mean, imagenet_std = [0.485, 0.456, 0.406], [0.229, 0.224, 0.225]
    g["eval.clip_fg"] = clip_fg = eval_preprocess(photo, mask, 32, 32, clip_mean, clip_std)
    g["eval.clip_bg"] = eval_preprocess(photo, 1 - mask, 32, 32, clip_mean, clip_std)
    g["eval.dino_fg"] = dino_fg = eval_preprocess(photo, mask, 36, 32, imagenet_mean, imagenet_std)
    g["eval.upsized"] = eval_preprocess(photo[:, :, :20, :24], mask[:, :, :20, :24], 32, 32, clip_mean, clip_std)

    ids = torch.randint(0, CLIP_TEXT["vocab_size"] - 1, (2, 77))
    ids[0, 9:], ids[1, 30:] = CLIP_TEXT["eos_token_id"], CLIP_TEXT["eos_token_id"]  # padded with end-of-text, as CLIP's tokenizer does
    g["clip.ids"] = ids
    with torch.no_grad():
        g["clip.image_embeds"] = clip.image_embeds(clip_fg)
        g["clip.text_embeds"] = clip.text_embeds(ids)
        g["dino.cls"] = dino(dino_fg)
        a, b = torch.rand(2, 3, 64, 64) * 2 - 1, torch.rand(2, 3, 64, 64) * 2 - 1
        g["lpips.a"], g["lpips.b"] = a, b
        g["lpips.distance"] = lpips(a, b).flatten()
    # the same network as PyTorch's ONNX exporter writes it (how people ship LPIPS as ONNX): any batch and size
    torch.onnx.export(lpips.eval(), (a, b), os.path.join(args.out, "tiny-lpips", "lpips_alex.onnx"), input_names=["in0", "in1"],
                      output_names=["distance"], opset_version=17,
                      dynamic_axes={"in0": {0: "n", 2: "h", 3: "w"}, "in1": {0: "n", 2: "h", 3: "w"}, "distance": {0: "n"}})

    # DINOv2 (drawn last, so everything above keeps its values); layer scales away from 1 and from 0
    dinov2 = randomize(Dinov2(DINOV2))
    with torch.no_grad():
        for name, p in dinov2.named_parameters():
            if name.endswith("lambda1"):
                p.copy_((0.6 + 0.2 * torch.randn_like(p)).half().float())
    write_json(os.path.join(args.out, "tiny-dinov2", "config.json"), DINOV2)
    write_safetensors(os.path.join(args.out, "tiny-dinov2", "model.safetensors"), dinov2.state_dict(), dtype_of=lambda name, t: torch.float16)
    with torch.no_grad():
        g["dinov2.cls"] = dinov2(g["eval.dino_fg"])


LORA_RANK, LORA_ALPHA = 4, 2.0  # linear and 1x1 layers: alpha != rank, so a reader that ignores alpha cannot pass
LOCON_RANK, LOCON_ALPHA = 3, 4.0  # k x k convolutions (LyCORIS LoCon's conv_dim, conv_alpha): a k x k down, a 1x1 up


def lora_factors(name, module):
    """Random factors for one layer, shaped as kohya's networks/lora.py and LyCORIS's LoCon make them: a Linear's down
    [r, in] and up [out, r]; a Conv2d's down a conv of its own kernel, stride and padding [r, in, k, k], its up 1x1."""
    conv = isinstance(module, nn.Conv2d)
    k = module.kernel_size[0] if conv else 1
    rank, alpha = (LOCON_RANK, LOCON_ALPHA) if k > 1 else (LORA_RANK, LORA_ALPHA)
    fan_in, fan_out = (module.in_channels, module.out_channels) if conv else (module.in_features, module.out_features)
    down = (torch.randn(rank, fan_in, k, k) if conv else torch.randn(rank, fan_in)) / math.sqrt(fan_in * k * k)
    up = (torch.randn(fan_out, rank, 1, 1) if conv else torch.randn(fan_out, rank)) * 0.5
    return down.half().float(), up.half().float(), torch.tensor(alpha)


def merged_delta(down, up, alpha):
    """kohya's merge (networks/lora.py merge_to, A1111's lora weight calc): W += alpha/r * up . down, as a conv for k x k."""
    scale = float(alpha) / down.shape[0]
    if down.dim() == 2:
        return scale * (up @ down)
    if down.shape[2:] == (1, 1):
        return scale * (up.flatten(1) @ down.flatten(1)).unsqueeze(2).unsqueeze(3)
    return scale * torch.einsum("or,rikl->oikl", up.flatten(1), down)


def lora_cases(g, unet, text, vae, ids, sample, timestep, context, noise):
    """11. A random LoRA on every Linear and Conv2d of the UNet (attention, proj_in/out as 1x1 convs, feed-forward,
    ResNet conv1/conv2/conv_shortcut, time_emb_proj, down/upsamplers, conv_in/conv_out, the time embedding) and of the
    text encoder (attention and MLP), written in kohya's naming (lora_down/lora_up/alpha) and in PEFT's (lora_A/lora_B,
    alpha folded into B, as diffusers' converter does), merged into copies of the models; their outputs and a 4-step
    DDIM image with guidance are the goldens."""
    import copy
    kohya, peft = {}, {}
    merged = {"unet": copy.deepcopy(unet), "text": copy.deepcopy(text)}
    for part, model, kohya_prefix, peft_prefix in (("unet", unet, "lora_unet_", "unet."), ("text", text, "lora_te_", "text_encoder.")):
        targets = dict(merged[part].named_modules())
        for name, module in model.named_modules():
            if not isinstance(module, (nn.Linear, nn.Conv2d)):
                continue
            down, up, alpha = lora_factors(name, module)
            kname = kohya_prefix + name.replace(".", "_")
            kohya[f"{kname}.lora_down.weight"], kohya[f"{kname}.lora_up.weight"], kohya[f"{kname}.alpha"] = down, up, alpha
            peft[f"{peft_prefix}{name}.lora_A.weight"], peft[f"{peft_prefix}{name}.lora_B.weight"] = down, up * (float(alpha) / down.shape[0])
            with torch.no_grad():
                targets[name].weight += merged_delta(down, up, alpha).view_as(targets[name].weight)
    root = os.path.join(args.out, "tiny-lora")
    write_safetensors(os.path.join(root, "kohya-locon.safetensors"), kohya, dtype_of=lambda name, t: torch.float16, metadata=
                      {"ss_network_module": "lycoris.kohya", "ss_network_dim": str(LORA_RANK), "ss_network_alpha": str(LORA_ALPHA)})
    write_safetensors(os.path.join(root, "pytorch_lora_weights.safetensors"), peft)
    with torch.no_grad():
        g["lora.text_hidden"] = lora_context = merged["text"](ids)
        g["lora.unet_eps"] = merged["unet"](sample, timestep, encoder_hidden_states=context).sample

    def guided(x_in, t):
        cond, uncond = merged["unet"](torch.cat([x_in, x_in]), t, encoder_hidden_states=lora_context.flip(0)).sample.chunk(2)
        return uncond + GUIDANCE * (cond - uncond)

    _, g["lora.x"] = run_sampler("ddim", schedulers()["ddim"], 4, noise, guided)
    with torch.no_grad():
        g["lora.image"] = vae.decode(g["lora.x"][-1] / VAE["scaling_factor"]).sample


# TAESD (diffusers' AutoencoderTiny) at SD 1.5's depth (blocks 1,3,3,3 / 3,3,3,1), narrower: 8 channels for 64
TAESD = dict(in_channels=3, out_channels=3, latent_channels=4, encoder_block_out_channels=[8, 8, 8, 8], decoder_block_out_channels=[8, 8, 8, 8],
             num_encoder_blocks=[1, 3, 3, 3], num_decoder_blocks=[3, 3, 3, 1], act_fn="relu", upsample_fn="nearest", upsampling_scaling_factor=2,
             latent_magnitude=3, latent_shift=0.5, scaling_factor=1.0)


def taesd_cases(g):
    """13. TAESD on random weights, saved as a diffusers folder (tiny-taesd/) and as the original single decoder and
    encoder files A1111 and ComfyUI read (taesd_decoder.safetensors: the decoder's Sequential with its leading Clamp,
    so each index is one more than diffusers'; taesd_encoder.safetensors: the same indices). Its decoder on latents as
    the UNet makes them, and its encoder on an image in [-1, 1], as diffusers' pipelines call them."""
    taesd = randomize(AutoencoderTiny(**TAESD))
    with torch.no_grad():  # ReLU nets at default init fade out over 30 convs: keep the signal alive through every layer
        for name, p in taesd.named_parameters():
            if p.ndim == 4:
                p.copy_((p * 2.0).half().float())
    root = os.path.join(args.out, "tiny-taesd")
    write_json(os.path.join(root, "config.json"), {"_class_name": "AutoencoderTiny", "_diffusers_version": diffusers.__version__, **TAESD})
    state = taesd.state_dict()
    write_safetensors(os.path.join(root, "diffusion_pytorch_model.safetensors"), state, dtype_of=lambda name, t: torch.float16)
    def renamed(prefix, shift):
        out = {}
        for k, v in state.items():
            if k.startswith(prefix):
                index, rest = k[len(prefix):].split(".", 1)
                out[f"{int(index) + shift}.{rest}"] = v
        return out
    write_safetensors(os.path.join(root, "taesd_decoder.safetensors"), renamed("decoder.layers.", 1), dtype_of=lambda name, t: torch.float16)
    write_safetensors(os.path.join(root, "taesd_encoder.safetensors"), renamed("encoder.layers.", 0), dtype_of=lambda name, t: torch.float16)
    g["taesd.latents"] = latents = torch.randn(1, 4, 8, 8) * 2
    g["taesd.image"] = image = torch.rand(1, 3, 64, 48) * 2 - 1
    with torch.no_grad():
        g["taesd.decoded"] = taesd.decode(latents / TAESD["scaling_factor"]).sample
        g["taesd.encoded"] = taesd.encode(image).latents * TAESD["scaling_factor"]


def randomize(module):
    """Seeded weights everywhere, none of them zero or one: a wrong mapping cannot hide behind a default
    (norm scales 1 + noise, every bias and norm offset noise); then rounded to float16 for storage."""
    with torch.no_grad():
        for name, p in module.named_parameters():
            if p.ndim == 1:
                base = 1.0 if name.endswith("weight") else 0.0
                p.copy_(base + 0.1 * torch.randn_like(p))
            elif "embedding" in name:
                p.copy_(0.5 * torch.randn_like(p))
            p.copy_(p.half().float())
    return module.eval()


def write_safetensors(path, tensors, metadata=None, dtype_of=lambda name, t: t.dtype):
    """Minimal safetensors writer (the real package is not on Debian): sorted names, 8-byte aligned header."""
    codes = {torch.float32: ("F32", "<f4"), torch.float16: ("F16", "<f2"), torch.int64: ("I64", "<i8")}
    header, blobs, offset = {}, [], 0
    for name in sorted(tensors):
        t = tensors[name].detach().contiguous()
        code, np_dtype = codes[dtype_of(name, t)]
        raw = t.to(dtype_of(name, t)).numpy().astype(np_dtype).tobytes()
        header[name] = {"dtype": code, "shape": list(t.shape), "data_offsets": [offset, offset + len(raw)]}
        blobs.append(raw)
        offset += len(raw)
    if metadata:
        header["__metadata__"] = metadata
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * ((8 - len(text) % 8) % 8)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for raw in blobs:
            f.write(raw)


def read_safetensors(path, only):
    """The float32 tensors of a file write_safetensors wrote, for the names in `only` that it holds."""
    with open(path, "rb") as f:
        size = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(size))
        data = f.read()
    out = {}
    for name, entry in header.items():
        if name == "__metadata__" or name not in only or entry["dtype"] != "F32":
            continue
        start, end = entry["data_offsets"]
        out[name] = torch.from_numpy(np.frombuffer(data[start:end], dtype="<f4").copy()).reshape(entry["shape"])
    return out


def write_json(path, value):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        json.dump(value, f, indent=2, sort_keys=True)
        f.write("\n")


def save_folder(root, unet, text, vae):
    half = lambda name, t: torch.float16  # noqa: E731
    write_json(os.path.join(root, "model_index.json"), {"_class_name": "StableDiffusionPipeline", "_diffusers_version": diffusers.__version__})
    write_json(os.path.join(root, "unet", "config.json"), {"_class_name": "UNet2DConditionModel", **UNET})
    write_safetensors(os.path.join(root, "unet", "diffusion_pytorch_model.safetensors"), unet.state_dict(), dtype_of=half)
    write_json(os.path.join(root, "text_encoder", "config.json"), {"architectures": ["CLIPTextModel"], **TEXT})
    write_safetensors(os.path.join(root, "text_encoder", "model.safetensors"), text.state_dict(), dtype_of=half)
    write_json(os.path.join(root, "vae", "config.json"), {"_class_name": "AutoencoderKL", **VAE})
    write_safetensors(os.path.join(root, "vae", "diffusion_pytorch_model.safetensors"), vae.state_dict(), dtype_of=half)


def schedulers():
    return {
        # SD 1.5's DDIM: "leading" spacing, steps_offset 1, final ᾱ = ᾱ_0
        "ddim": DDIMScheduler(**SCHEDULE, clip_sample=False, set_alpha_to_one=False, steps_offset=1, timestep_spacing="leading"),
        "euler": EulerDiscreteScheduler(**SCHEDULE, timestep_spacing="linspace"),
        "dpmpp2m": DPMSolverMultistepScheduler(**SCHEDULE, algorithm_type="dpmsolver++", solver_order=2, timestep_spacing="linspace"),
        # its defaults: order 2, x0 prediction, bh2, lower order at the end (deterministic: no draws, so the goldens after it stay)
        "unipc": UniPCMultistepScheduler(**SCHEDULE, timestep_spacing="linspace"),
    }


def run_sampler(name, scheduler, steps, x_T, model):
    """x after each step; diffusers' DPM-Solver++ and UniPC keep x variance-preserving (x = a*x0 + s*eps, noise at the
    start), the app keeps its sigma-space samplers at x = x0 + sigma*eps, so its x is stored as x / a."""
    scheduler.set_timesteps(steps)
    x = x_T * scheduler.init_noise_sigma
    xs = []
    with torch.no_grad():
        for t in scheduler.timesteps:
            x = scheduler.step(model(scheduler.scale_model_input(x, t), t), t, x).prev_sample
            xs.append(x)
    if name in ("dpmpp2m", "unipc"):
        xs = [x * math.sqrt(float(sigma) ** 2 + 1) for x, sigma in zip(xs, scheduler.sigmas[1:])]
    return scheduler.timesteps.to(torch.float32), torch.stack(xs)


STOCHASTIC = {
    "euler_a": (euler_ancestral_module, lambda **kw: EulerAncestralDiscreteScheduler(**SCHEDULE, timestep_spacing="linspace", **kw)),
    "dpmpp2m_sde": (
        dpmsolver_module,
        lambda **kw: DPMSolverMultistepScheduler(**SCHEDULE, algorithm_type="sde-dpmsolver++", solver_order=2, timestep_spacing="linspace", **kw),
    ),
    # the few-step samplers of LCM-LoRA and TCD-LoRA, as their model cards set them up: from SD 1.5's scheduler config
    # (final alpha = alpha_0, steps_offset 1; both ignore the offset), 50 distillation steps, TCD's step at eta (gamma) 0.3
    "lcm": (lcm_module, lambda **kw: LCMScheduler(**SCHEDULE, set_alpha_to_one=False, steps_offset=1, **kw)),
    "tcd": (tcd_module, lambda **kw: TCDScheduler(**SCHEDULE, set_alpha_to_one=False, steps_offset=1, **kw)),
}


def run_stochastic(name, steps, x_T, model, step_noise, **config):
    """A sampler that adds noise at each step, its noise given (step_noise[i] at step i, in place of diffusers'
    randn_tensor), so the engine, fed the same noise, must land on the same x after every step."""
    module, make = STOCHASTIC[name]
    drawn = iter(step_noise)
    original = module.randn_tensor
    module.randn_tensor = lambda shape, **_: next(drawn).reshape(shape)
    try:
        # the app keeps x in sigma-space for both (x = x0 + sigma*eps): dpmpp2m_sde's VP x is rescaled as dpmpp2m's
        return run_sampler("dpmpp2m" if name == "dpmpp2m_sde" else name, make(**config), steps, x_T, model)
    finally:
        module.randn_tensor = original


def brownian_path(scheduler, fresh, begin=0):
    """DPM++ SDE's noise on the engine's Brownian path: z over sigma->sigma_mid is fresh[k] (k: the call, counted
    from `begin`); z over sigma->sigma_next shares it, z = sqrt(d_m/d)*z_mid + sqrt(1 - d_m/d)*fresh[k]."""
    first = {}

    def noise_sampler(sigma, sigma_to):
        k = scheduler.step_index - begin
        if scheduler.state_in_first_order:
            first.update(sigma=float(sigma), mid=float(sigma_to), z=fresh[k])
            return fresh[k]
        c = math.sqrt((first["sigma"] - first["mid"]) / (first["sigma"] - float(sigma_to)))
        return c * first["z"] + math.sqrt(1 - c * c) * fresh[k]

    return noise_sampler


def run_dpmpp_sde(steps, x_T, model, fresh, **config):
    """DPM++ SDE (DPMSolverSDEScheduler): two model calls a step, its noise given. Its Brownian tree is replaced by
    the same path the engine draws: z over sigma->sigma_mid is fresh[k]; z over sigma->sigma_next shares it,
    z = sqrt(d_m/d)*z_mid + sqrt(1 - d_m/d)*fresh[k] (d: the interval's length in sigma)."""
    scheduler = dpmsolver_sde_module.DPMSolverSDEScheduler(**SCHEDULE, timestep_spacing="linspace", **config)
    scheduler.set_timesteps(steps)
    scheduler.noise_sampler = brownian_path(scheduler, fresh)
    x = x_T * scheduler.init_noise_sigma
    xs = []
    with torch.no_grad():
        for t in scheduler.timesteps:
            x = scheduler.step(model(scheduler.scale_model_input(x, t), t), t, x).prev_sample
            xs.append(x)
    return scheduler.timesteps.to(torch.float32), torch.stack(xs)


def run_img2img(name, scheduler, steps, strength, init, noise, model, step_noise=None):
    """img2img as diffusers' StableDiffusionImg2ImgPipeline drives a scheduler: of `steps`, the last
    int(steps * strength) run (begin index set), from `init` noised to the first of them by the scheduler's own
    add_noise. Stochastic samplers get step_noise[k] at their k-th step; DPM++ SDE's Brownian path as in run_dpmpp_sde.
    x after each step, the multistep samplers' VP x rescaled to the app's sigma-space as run_sampler does."""
    scheduler.set_timesteps(steps)
    t_start = steps - min(int(steps * strength), steps)
    begin = t_start * scheduler.order
    timesteps = scheduler.timesteps[begin:]
    if hasattr(scheduler, "set_begin_index"):  # DDIM keeps no step index: add_noise reads the timestep itself
        scheduler.set_begin_index(begin)
    x = scheduler.add_noise(init, noise, timesteps[:1])
    drawn = iter(step_noise if step_noise is not None else [])
    module = {"euler_a": euler_ancestral_module, "dpmpp2m_sde": dpmsolver_module, "lcm": lcm_module, "tcd": tcd_module}.get(name)
    original = module.randn_tensor if module else None
    if module:
        module.randn_tensor = lambda shape, **_: next(drawn).reshape(shape)
    if name == "dpmpp_sde":
        scheduler.noise_sampler = brownian_path(scheduler, step_noise, begin)
    xs = []
    try:
        with torch.no_grad():
            for t in timesteps:
                x = scheduler.step(model(scheduler.scale_model_input(x, t), t), t, x).prev_sample
                xs.append(x)
    finally:
        if module:
            module.randn_tensor = original
    if name in ("dpmpp2m", "unipc", "dpmpp2m_sde"):
        xs = [x * math.sqrt(float(sigma) ** 2 + 1) for x, sigma in zip(xs, scheduler.sigmas[begin + 1:])]
    return timesteps.to(torch.float32), torch.stack(xs)


def img2img_schedulers():
    """Every sampler the app has, configured as in sections 5-12."""
    made = dict(schedulers())
    made.update({name: make() for name, (_, make) in STOCHASTIC.items()})
    made["dpmpp_sde"] = dpmsolver_sde_module.DPMSolverSDEScheduler(**SCHEDULE, timestep_spacing="linspace")
    return made


def toy_eps(x_in, t):
    """An imperfect, nonlinear ε-model: a perfect one would hide DPM-Solver++'s correction and DDIM's ᾱ."""
    return torch.tanh(0.7 * x_in) + 0.1 * math.cos(float(t) / 100)


def main():
    unet = randomize(UNet2DConditionModel(**{k: v for k, v in UNET.items()}))
    text = randomize(ClipText(TEXT))
    vae = randomize(AutoencoderKL(**{k: v for k, v in VAE.items() if k != "scaling_factor"}))
    save_folder(os.path.join(args.out, "tiny-sd"), unet, text, vae)
    g = {}

    # 1. Text encoder: two prompts of random ids (the tiny vocabulary has no BPE words; token ids are tested elsewhere)
    ids = torch.randint(0, TEXT["vocab_size"], (2, 77))
    g["text.ids"] = ids
    with torch.no_grad():
        g["text.hidden"] = context = text(ids)

    # 2. UNet: a batch of two at different timesteps, conditioned on those states
    sample = torch.randn(2, 4, 8, 8)
    timestep = torch.tensor([981.0, 37.5])
    g["unet.sample"], g["unet.timestep"] = sample, timestep
    with torch.no_grad():
        g["unet.eps"] = unet(sample, timestep, encoder_hidden_states=context).sample

    # 3. Gradient through the frozen UNet w.r.t. the text states (Stage I's path): L = Σ eps · R
    weights = torch.randn(2, 4, 8, 8)
    states = context.clone().requires_grad_(True)
    (unet(sample, timestep, encoder_hidden_states=states).sample * weights).sum().backward()
    g["grad.weights"], g["grad.states"] = weights, states.grad

    # 4. VAE: encode an image to the posterior (× scaling factor), decode latents
    image = torch.rand(1, 3, 32, 32) * 2 - 1
    latents = torch.randn(1, 4, 8, 8)
    g["vae.image"], g["vae.latents"] = image, latents
    with torch.no_grad():
        posterior = vae.encode(image).latent_dist
        g["vae.mean"] = posterior.mean * VAE["scaling_factor"]
        g["vae.std"] = posterior.std * VAE["scaling_factor"]
        g["vae.decoded"] = vae.decode(latents / VAE["scaling_factor"]).sample

    # 5. Samplers: 3 steps with classifier-free guidance, the real UNet predicting ε for prompt 1 (cond) and 0 (uncond)
    noise = torch.randn(1, 4, 8, 8)
    g["sample.noise"] = noise
    def guided_unet(x_in, t):
        cond, uncond = unet(torch.cat([x_in, x_in]), t, encoder_hidden_states=context.flip(0)).sample.chunk(2)  # rows: prompt 1, prompt 0
        return uncond + GUIDANCE * (cond - uncond)

    for name, scheduler in schedulers().items():
        g[f"{name}.timesteps"], g[f"{name}.x"] = run_sampler(name, scheduler, STEPS, noise, guided_unet)

    # 6. Samplers alone, 10 steps (Karras sigmas too) on the toy ε-model, every rule exercised many times
    toy_noise = torch.randn(1, 4, 2, 2)
    g["toy.noise"] = toy_noise
    for name, scheduler in schedulers().items():
        g[f"toy.{name}.timesteps"], g[f"toy.{name}.x"] = run_sampler(name, scheduler, 10, toy_noise, toy_eps)
        if name != "ddim":
            karras = type(scheduler).from_config(scheduler.config, use_karras_sigmas=True)
            g[f"toy.{name}.karras.timesteps"], g[f"toy.{name}.karras.x"] = run_sampler(name, karras, 10, toy_noise, toy_eps)

    # 7. Euler ancestral (added last: the draws above, and so every golden before it, stay as they were), its
    #    step noise drawn here: 10 toy steps, and 3 with the real UNet and guidance
    g["toy.euler_a.step_noise"] = toy_step_noise = torch.randn(10, 1, 4, 2, 2)
    g["toy.euler_a.timesteps"], g["toy.euler_a.x"] = run_stochastic("euler_a", 10, toy_noise, toy_eps, toy_step_noise)
    g["euler_a.step_noise"] = unet_step_noise = torch.randn(STEPS, 1, 4, 8, 8)
    g["euler_a.timesteps"], g["euler_a.x"] = run_stochastic("euler_a", STEPS, noise, guided_unet, unet_step_noise)

    # 8. DPM-Solver++(2M) SDE, the same way (after Euler ancestral's draws), Karras sigmas too
    g["toy.dpmpp2m_sde.step_noise"] = sde_noise = torch.randn(10, 1, 4, 2, 2)
    g["toy.dpmpp2m_sde.timesteps"], g["toy.dpmpp2m_sde.x"] = run_stochastic("dpmpp2m_sde", 10, toy_noise, toy_eps, sde_noise)
    g["toy.dpmpp2m_sde.karras.timesteps"], g["toy.dpmpp2m_sde.karras.x"] = run_stochastic(
        "dpmpp2m_sde", 10, toy_noise, toy_eps, sde_noise, use_karras_sigmas=True
    )
    g["dpmpp2m_sde.step_noise"] = unet_sde_noise = torch.randn(STEPS, 1, 4, 8, 8)
    g["dpmpp2m_sde.timesteps"], g["dpmpp2m_sde.x"] = run_stochastic("dpmpp2m_sde", STEPS, noise, guided_unet, unet_sde_noise)

    # 9. DPM++ SDE (DPMSolverSDEScheduler), after all the draws above; 2n - 1 model calls for n steps
    g["toy.dpmpp_sde.step_noise"] = toy_sde_fresh = torch.randn(19, 1, 4, 2, 2)
    g["toy.dpmpp_sde.timesteps"], g["toy.dpmpp_sde.x"] = run_dpmpp_sde(10, toy_noise, toy_eps, toy_sde_fresh)
    g["toy.dpmpp_sde.karras.timesteps"], g["toy.dpmpp_sde.karras.x"] = run_dpmpp_sde(10, toy_noise, toy_eps, toy_sde_fresh, use_karras_sigmas=True)
    g["dpmpp_sde.step_noise"] = unet_sde_fresh = torch.randn(2 * STEPS - 1, 1, 4, 8, 8)
    g["dpmpp_sde.timesteps"], g["dpmpp_sde.x"] = run_dpmpp_sde(STEPS, noise, guided_unet, unet_sde_fresh)

    # 10. The report card's networks and views (after every draw above)
    metric_networks(g)

    # 11. A LoRA over every layer kind (after every draw above), merged as kohya's and A1111's code merge it
    lora_cases(g, unet, text, vae, ids, sample, timestep, context, noise)

    # 12. LCM and TCD (after every draw above), their step noise drawn here: 10 toy steps, and 3 with the UNet and guidance
    for name in ("lcm", "tcd"):
        g[f"toy.{name}.step_noise"] = few_noise = torch.randn(10, 1, 4, 2, 2)
        g[f"toy.{name}.timesteps"], g[f"toy.{name}.x"] = run_stochastic(name, 10, toy_noise, toy_eps, few_noise)
        g[f"{name}.step_noise"] = few_unet_noise = torch.randn(STEPS, 1, 4, 8, 8)
        g[f"{name}.timesteps"], g[f"{name}.x"] = run_stochastic(name, STEPS, noise, guided_unet, few_unet_noise)

    # 13. TAESD (after every draw above)
    taesd_cases(g)

    # 14. img2img (after every draw above): 10 toy steps at strength 0.6 (the last 6 run) from a random image's latents
    #     for every sampler, and the UNet with guidance for DDIM and DPM++ 2M (3 steps at 0.7: the last 2)
    g["img2img.toy.init"] = toy_init = torch.randn(1, 4, 2, 2)
    g["img2img.toy.step_noise"] = toy_img_noise = torch.randn(12, 1, 4, 2, 2)
    for name, scheduler in img2img_schedulers().items():
        g[f"img2img.toy.{name}.timesteps"], g[f"img2img.toy.{name}.x"] = run_img2img(name, scheduler, 10, 0.6, toy_init, toy_noise, toy_eps, toy_img_noise)
    g["img2img.init"] = unet_init = torch.randn(1, 4, 8, 8)
    for name in ("ddim", "dpmpp2m"):
        g[f"img2img.{name}.timesteps"], g[f"img2img.{name}.x"] = run_img2img(name, schedulers()[name], STEPS, 0.7, unet_init, noise, guided_unet)

    g = {k: v.to(torch.float32) for k, v in g.items()}  # ids too: exact below 2^24, and one reader for all
    meta = {"torch": torch.__version__, "diffusers": diffusers.__version__, "seed": str(SEED), "steps": str(STEPS), "guidance": str(GUIDANCE)}
    if args.keep_from:
        g.update(read_safetensors(args.keep_from, only=g.keys()))
    write_safetensors(os.path.join(args.out, "goldens.safetensors"), g, meta)
    for k in sorted(g):
        v = g[k].to(torch.float64)
        print(f"{k:16} {list(g[k].shape)!s:20} max|x| {v.abs().max().item():.4g}")
    assert all(math.isfinite(v.to(torch.float64).abs().max().item()) for v in g.values())


main()
