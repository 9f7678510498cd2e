// Bytes that cross between the host and a device provider's memory, counted where every crossing happens:
// host tensors fed to a GPU session (uploads) and host outputs it returns (readbacks). Frozen weights
// inside a model file are uploaded when the session loads, not per run, and are not counted here.
export interface TransferCounts {
  uploadBytes: number;
  readbackBytes: number;
  uploads: number;
  readbacks: number;
}

const counts: TransferCounts = { uploadBytes: 0, readbackBytes: 0, uploads: 0, readbacks: 0 };

export function countUpload(bytes: number): void {
  counts.uploadBytes += bytes;
  counts.uploads++;
}

export function countReadback(bytes: number): void {
  counts.readbackBytes += bytes;
  counts.readbacks++;
}

/** The process's totals so far; subtract two of them for one step's. */
export const transferTotals = (): TransferCounts => ({ ...counts });

export const transfersSince = (before: TransferCounts): TransferCounts => ({
  uploadBytes: counts.uploadBytes - before.uploadBytes,
  readbackBytes: counts.readbackBytes - before.readbackBytes,
  uploads: counts.uploads - before.uploads,
  readbacks: counts.readbacks - before.readbacks,
});
