// Existing model folders, used in place: an A1111 install (models/Stable-diffusion, models/Lora,
// embeddings) or a ComfyUI one (models/checkpoints, models/loras, models/embeddings). Every usable
// file is registered where it is (nothing copied), with its family; a rescan adds new files and drops
// the ones that are gone; pickles and other families are listed as refused, with the reason.
import { existsSync, readdirSync, statSync } from 'node:fs';
import { basename, extname, join, resolve, sep } from 'node:path';
import { toApiError } from '../common/app-error.js';
import type { Library, ModelRecord } from '../library/library.js';
import { readSafetensorsHeader } from '../weights/safetensors.js';
import { detectFamily } from './detect-family.js';
import { hashPath } from './install.js';

type Kind = 'checkpoint' | 'lora' | 'embedding';

/** Where each kind of file lives in the layouts people have. */
const LAYOUT: Record<Kind, string[]> = {
  checkpoint: ['models/Stable-diffusion', 'models/checkpoints'],
  lora: ['models/Lora', 'models/loras'],
  embedding: ['embeddings', 'models/embeddings'],
};

const PICKLES = new Set(['.ckpt', '.pt', '.pth', '.bin', '.pkl']);

export interface ScanReport {
  added: ModelRecord[];
  /** Files already registered, left as they are. */
  kept: number;
  /** Registered files under the folder that are gone: their rows were removed. */
  removed: string[];
  refused: Array<{ path: string; reason: string }>;
}

function filesUnder(dir: string): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...filesUnder(p));
    else if (entry.isFile()) out.push(p);
  }
  return out;
}

/** A LoRA (kohya or PEFT naming) or an embedding, from its keys; the reason when it is neither. */
function sideFileFamily(path: string, kind: Exclude<Kind, 'checkpoint'>): string | null {
  const keys = [...readSafetensorsHeader(path).tensors.keys()];
  if (kind === 'lora') return keys.some((k) => /^lora_(unet|te)_|\.lora_[AB]\.weight$/.test(k)) ? null : 'it holds no LoRA factors (kohya or diffusers naming)';
  return keys.includes('emb_params') || keys.length === 1 ? null : 'it is not a textual-inversion embedding (emb_params, or one tensor)';
}

export async function scanModelFolder(library: Library, folder: string): Promise<ScanReport> {
  const root = resolve(folder);
  const report: ScanReport = { added: [], kept: 0, removed: [], refused: [] };
  const known = new Map(library.listModels().map((m) => [m.path, m]));
  const seen = new Set<string>();
  for (const [kind, dirs] of Object.entries(LAYOUT) as Array<[Kind, string[]]>) {
    for (const dir of dirs.map((d) => join(root, d)).filter((d) => existsSync(d) && statSync(d).isDirectory())) {
      for (const path of filesUnder(dir)) {
        const ext = extname(path).toLowerCase();
        if (PICKLES.has(ext)) {
          report.refused.push({ path, reason: 'a pickle file, which can run code when opened; use its .safetensors version' });
          continue;
        }
        if (ext !== '.safetensors') continue;
        seen.add(path);
        if (known.has(path)) {
          report.kept++;
          continue;
        }
        try {
          let family: string = kind;
          if (kind === 'checkpoint') family = detectFamily(path).family;
          else {
            const why = sideFileFamily(path, kind);
            if (why) throw new Error(why);
          }
          const { sha256, bytes } = await hashPath(path);
          report.added.push(library.addModel({ family, format: 'single-file', name: basename(path), path, managed: false, sha256, sizeBytes: bytes, sourceUrl: null }));
        } catch (err) {
          report.refused.push({ path, reason: toApiError(err).message });
        }
      }
    }
  }
  // what was registered from this folder and is gone now
  for (const m of known.values()) {
    if (!m.managed && m.path.startsWith(root + sep) && !seen.has(m.path) && !existsSync(m.path)) {
      library.deleteModel(m.id);
      report.removed.push(m.path);
    }
  }
  return report;
}
