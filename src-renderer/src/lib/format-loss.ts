// How the loss chart writes a number: plain down to 0.001, as a power of ten below (a log axis reaches 1e-6,
// where fixed decimals would all read "0"), and a missing term as a dash.
export function formatLoss(v: number | null | undefined): string {
  if (v === null || v === undefined || !Number.isFinite(v)) return '—';
  if (v === 0) return '0';
  const a = Math.abs(v);
  if (a >= 0.001 && a < 1e5) return String(Number(v.toPrecision(4)));
  const [mantissa, exponent] = v.toExponential(2).split('e');
  return `${Number(mantissa)}e${Number(exponent)}`;
}
