import sharp, { type Metadata } from 'sharp';
import { MAX_PHOTO_BYTES } from '../../../src-preload/contract/images.js';
import { AppError } from '../../common/app-error.js';

export interface IngestLimits {
  /** Larger files are refused before decoding. */
  maxFileBytes: number;
  /** Larger images are refused before decoding (decompression bombs). */
  maxInputPixels: number;
  /** The stored working image fits in this many pixels on its long side. */
  maxSide: number;
  /** Smaller photos are refused: nothing can be learned from a few pixels (concepts are learned at 512²). */
  minSide: number;
  thumbSide: number;
}

export const DEFAULT_INGEST_LIMITS: IngestLimits = {
  maxFileBytes: MAX_PHOTO_BYTES,
  maxInputPixels: 100_000_000,
  maxSide: 2048,
  minSide: 64,
  thumbSide: 384,
};

export interface NormalizedPhoto {
  sourceFormat: string;
  /** Size after EXIF orientation, before bounding. */
  sourceWidth: number;
  sourceHeight: number;
  png: Buffer;
  width: number;
  height: number;
  thumb: Buffer;
}

const ACCEPTED_FORMATS = new Set(['jpeg', 'png', 'webp', 'heif', 'avif', 'tiff']);

/** The library's thumbnails (photos, concepts): WebP, long side at most `side`. */
export function thumbnailOf(image: Buffer, side = DEFAULT_INGEST_LIMITS.thumbSide): Promise<Buffer> {
  return sharp(image).resize({ width: side, height: side, fit: 'inside', withoutEnlargement: true }).webp({ quality: 82 }).toBuffer();
}

/**
 * Turns a photo as the user has it into the library's working image: EXIF orientation
 * applied, sRGB, 8-bit RGB, long side at most `maxSide`, PNG; plus a WebP thumbnail.
 * Metadata (GPS and the rest) is not carried over.
 */
export async function normalizePhoto(bytes: Buffer, limits: IngestLimits = DEFAULT_INGEST_LIMITS): Promise<NormalizedPhoto> {
  if (bytes.byteLength === 0) throw new AppError('corrupt-image', 'The file is empty.');
  if (bytes.byteLength > limits.maxFileBytes) {
    throw new AppError('too-large', `The file is ${mb(bytes.byteLength)}; photos up to ${mb(limits.maxFileBytes)} can be imported.`);
  }
  const input = () => sharp(bytes, { limitInputPixels: limits.maxInputPixels, failOn: 'error', sequentialRead: true });

  let meta: Metadata;
  try {
    // the header alone: safe at any size, so the size check below can name the dimensions
    meta = await sharp(bytes, { limitInputPixels: false }).metadata();
  } catch (err) {
    throw classifySharpError(err);
  }
  const format = meta.format === 'heif' && meta.compression === 'av1' ? 'avif' : (meta.format ?? 'unknown');
  if (!ACCEPTED_FORMATS.has(format)) {
    throw new AppError('unsupported-image', `${format.toUpperCase()} files can't be imported; use a JPEG, PNG, WebP, AVIF or HEIF photo.`);
  }
  if (!meta.width || !meta.height) throw new AppError('corrupt-image', 'The image has no readable size; the file is probably damaged.');
  if (meta.width * meta.height > limits.maxInputPixels) {
    throw new AppError(
      'too-large',
      `The image is ${meta.width}×${meta.height} (${((meta.width * meta.height) / 1e6).toFixed(0)} MP); images up to ${(limits.maxInputPixels / 1e6).toFixed(0)} MP can be imported. Downscale it first.`,
    );
  }
  if (Math.min(meta.width, meta.height) < limits.minSide) {
    throw new AppError(
      'unsupported-image',
      `The image is ${meta.width}×${meta.height}; photos need at least ${limits.minSide} pixels on each side (concepts are learned at 512×512, so larger is better).`,
    );
  }
  const swapsSides = (meta.orientation ?? 1) >= 5;
  const sourceWidth = swapsSides ? meta.height : meta.width;
  const sourceHeight = swapsSides ? meta.width : meta.height;

  try {
    const { data: pixels, info } = await input()
      .rotate()
      .toColourspace('srgb')
      .removeAlpha()
      .resize({ width: limits.maxSide, height: limits.maxSide, fit: 'inside', withoutEnlargement: true })
      .raw()
      .toBuffer({ resolveWithObject: true });
    // encoded from the pixels alone (no density or other chunk from the source), so the same pixels are
    // the same file whatever they came in, and the library stores them once
    const png = await sharp(pixels, { raw: { width: info.width, height: info.height, channels: info.channels } })
      .png({ compressionLevel: 6 })
      .toBuffer();
    const thumb = await thumbnailOf(png, limits.thumbSide);
    return { sourceFormat: format, sourceWidth, sourceHeight, png, width: info.width, height: info.height, thumb };
  } catch (err) {
    throw classifySharpError(err, format);
  }
}

function classifySharpError(err: unknown, format?: string): AppError {
  const message = err instanceof Error ? err.message : String(err);
  if (/unsupported image format/i.test(message)) {
    return new AppError('unsupported-image', 'This is not an image format that can be imported; use a JPEG, PNG, WebP, AVIF or HEIF photo.');
  }
  if (/pixel limit/i.test(message)) {
    return new AppError('too-large', 'The image has too many pixels to import safely; downscale it first.');
  }
  if (format === 'heif' && /(compression|codec|decoder|hevc)/i.test(message)) {
    return new AppError('unsupported-image', 'HEIC photos (HEVC) cannot be decoded by this build; export the photo as JPEG or PNG first.');
  }
  return new AppError('corrupt-image', `The image could not be decoded; the file is damaged or truncated (${firstLine(message)}).`);
}

const firstLine = (s: string) => s.split('\n')[0]!.trim();
const mb = (n: number) => `${(n / 1024 / 1024).toFixed(n < 10 * 1024 * 1024 ? 1 : 0)} MB`;
