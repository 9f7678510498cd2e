#!/usr/bin/env python3
"""Writes test/fixtures/reference/sd15-single-file-keys.json: every weight name and shape of a Stable Diffusion
1.5 single-file checkpoint (v1-5-pruned.safetensors, the layout A1111 and ComfyUI read), no weights.

The names come from the code that defines that layout, CompVis' original latent-diffusion modules
(ldm.modules.diffusionmodules.openaimodel.UNetModel and model.Encoder/Decoder) built with the numbers of
configs/stable-diffusion/v1-inference.yaml. The text encoder is transformers' CLIPTextModel (ViT-L/14 text
tower) under cond_stage_model.transformer; transformers is not packaged for Debian, so its names and shapes
are written out below from its CLIPTextTransformer. test/unit/weights/ldm-keys.test.ts checks the app's
diffusers → LDM key map and its shape inference against this list.

Run (Debian 12: python3-torch python3-numpy python3-pil), with a checkout of github.com/CompVis/stable-diffusion:

  python3 scripts/reference/sd15_single_file_keys.py --ldm-src ~/src/stable-diffusion
"""
import argparse
import json
import os
import sys
import types

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))

p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
p.add_argument("--ldm-src", required=True, help="a checkout of CompVis/stable-diffusion (holds ldm/)")
p.add_argument("--out", default=os.path.join(ROOT, "test", "fixtures", "reference", "sd15-single-file-keys.json"))
args = p.parse_args()
sys.path.insert(0, args.ldm_src)

# einops is used in forward passes only; nothing here runs one
sys.modules["einops"] = types.SimpleNamespace(rearrange=None, repeat=None)
# UNetModel checks `isinstance(context_dim, ListConfig)`; a plain list never is one
sys.modules["omegaconf"] = types.SimpleNamespace()
sys.modules["omegaconf.listconfig"] = types.SimpleNamespace(ListConfig=type("ListConfig", (list,), {}))

import torch  # noqa: E402
from torch import nn  # noqa: E402

# sizes only: skip the random initialisation of 1 B parameters
nn.init.kaiming_uniform_ = nn.init.uniform_ = nn.init.normal_ = lambda t, *a, **k: t
from ldm.modules.diffusionmodules.openaimodel import UNetModel  # noqa: E402
from ldm.modules.diffusionmodules.model import Decoder, Encoder  # noqa: E402

# configs/stable-diffusion/v1-inference.yaml
UNET = dict(image_size=32, in_channels=4, out_channels=4, model_channels=320, attention_resolutions=[4, 2, 1], num_res_blocks=2,
            channel_mult=[1, 2, 4, 4], num_heads=8, use_spatial_transformer=True, transformer_depth=1, context_dim=768,
            use_checkpoint=False, legacy=False)
DDCONFIG = dict(double_z=True, z_channels=4, resolution=256, in_channels=3, out_ch=3, ch=128, ch_mult=[1, 2, 4, 4],
                num_res_blocks=2, attn_resolutions=[], dropout=0.0)
EMBED_DIM = 4

keys = {}


def add(prefix, module):
    for name, t in module.state_dict().items():
        keys[prefix + name] = list(t.shape)


add("model.diffusion_model.", UNetModel(**UNET))
vae = nn.Module()
vae.encoder = Encoder(**DDCONFIG)
vae.decoder = Decoder(**DDCONFIG)
vae.quant_conv = nn.Conv2d(2 * DDCONFIG["z_channels"], 2 * EMBED_DIM, 1)  # ldm.models.autoencoder.AutoencoderKL
vae.post_quant_conv = nn.Conv2d(EMBED_DIM, DDCONFIG["z_channels"], 1)
add("first_stage_model.", vae)

# transformers' CLIPTextModel for openai/clip-vit-large-patch14 (hidden 768, 12 layers, MLP 3072, 77 positions)
t = "cond_stage_model.transformer.text_model."
keys[t + "embeddings.token_embedding.weight"] = [49408, 768]
keys[t + "embeddings.position_embedding.weight"] = [77, 768]
keys[t + "embeddings.position_ids"] = [1, 77]
for i in range(12):
    layer = f"{t}encoder.layers.{i}."
    for proj in ("q_proj", "k_proj", "v_proj", "out_proj"):
        keys[f"{layer}self_attn.{proj}.weight"] = [768, 768]
        keys[f"{layer}self_attn.{proj}.bias"] = [768]
    for norm in ("layer_norm1", "layer_norm2"):
        keys[f"{layer}{norm}.weight"] = [768]
        keys[f"{layer}{norm}.bias"] = [768]
    keys[f"{layer}mlp.fc1.weight"], keys[f"{layer}mlp.fc1.bias"] = [3072, 768], [3072]
    keys[f"{layer}mlp.fc2.weight"], keys[f"{layer}mlp.fc2.bias"] = [768, 3072], [768]
keys[t + "final_layer_norm.weight"] = [768]
keys[t + "final_layer_norm.bias"] = [768]

SOURCE = "CompVis/stable-diffusion ldm modules with v1-inference.yaml; transformers CLIPTextModel (ViT-L/14 text)"
lines = [f"  {json.dumps(k)}: {json.dumps(v)}" for k, v in sorted(keys.items())]
with open(args.out, "w") as f:
    f.write('{\n"source": ' + json.dumps(SOURCE) + ',\n"keys": {\n' + ",\n".join(lines) + "\n}}\n")
print(f"{len(keys)} keys → {args.out}")
