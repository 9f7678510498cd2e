// Opens a Stable Diffusion 1.x model as users have it: a diffusers folder or a single .safetensors file.
import { closeSync, existsSync, openSync, readSync, statSync } from 'node:fs';
import { basename, extname } from 'node:path';
import { AppError } from '../common/app-error.js';
import { checkArchitecture } from './check-architecture.js';
import { openDiffusersFolder } from './diffusers-folder.js';
import { refusePickle, type StableDiffusionModel } from './sd-model.js';
import { openSingleFile } from './single-file.js';

const PICKLE_EXTENSIONS = new Set(['.ckpt', '.pt', '.pth', '.bin', '.pkl']);

/** Opens and checks a model; throws a clear AppError for pickles, other families and broken files. */
export function openStableDiffusion(path: string): StableDiffusionModel {
  if (!existsSync(path)) throw new AppError('not-found', `No model at ${path}.`);
  const model = statSync(path).isDirectory() ? openDiffusersFolder(path) : openFile(path);
  checkArchitecture(model);
  return model;
}

function openFile(path: string): StableDiffusionModel {
  if (PICKLE_EXTENSIONS.has(extname(path).toLowerCase()) || looksLikePickle(path)) refusePickle(path);
  if (extname(path).toLowerCase() !== '.safetensors') {
    throw new AppError('unsupported-model', `${basename(path)} is not a .safetensors file or a diffusers folder.`);
  }
  return openSingleFile(path);
}

function looksLikePickle(path: string): boolean {
  const fd = openSync(path, 'r');
  try {
    const head = Buffer.alloc(2);
    readSync(fd, head, 0, 2, 0);
    return (head[0] === 0x80 && head[1]! <= 5) || (head[0] === 0x50 && head[1] === 0x4b); // pickle protocol, or torch's zip
  } finally {
    closeSync(fd);
  }
}
