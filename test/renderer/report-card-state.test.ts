// The report card's state against a fake main side: it shows the concept's newest report, offers every other
// report to compare with, picks the concept's own SD model to draw with, and moves to a new report when one lands.
import { describe, expect, it } from 'vitest';
import { FakeTransport, settle } from './fake-transport.js';

const concept = { id: 'con_000001', name: 'Rex', classWord: 'dog', kind: 'subject', baseModelId: 'mod_000002' } as never;
const summary = (id: string, conceptId: string, label: string, createdAt: string) => ({
  id,
  conceptId,
  conceptName: label,
  label,
  stage: 2,
  set: 'default',
  metrics: {},
  createdAt,
});

describe('ReportCardState', () => {
  it('shows the newest report, compares with others, draws with the concept’s model, follows new reports', async () => {
    let list = [
      summary('evl_000002', 'con_000001', 'Faithful', '2026-12-02'),
      summary('evl_000001', 'con_000001', 'Fast', '2026-12-01'),
      summary('evl_000009', 'con_000009', 'Other', '2026-11-30'),
    ];
    const fake = new FakeTransport({
      'evaluations.list': () => list,
      'evaluations.get': (input) => ({ id: (input as { id: string }).id, label: (input as { id: string }).id }),
      'evaluations.start': () => ({ jobId: 'job_000001' }),
      'models.list': () => [
        { id: 'mod_000001', family: 'sd1', name: 'first' },
        { id: 'mod_000002', family: 'sd1', name: 'learned on' },
        { id: 'mod_000003', family: 'clip', name: 'clip' },
      ],
      'jobs.list': () => [],
      'training.list': () => [],
    });
    // imported once a transport exists: the jobs state it follows starts listening at import
    const { ReportCardState } = await import('../../src-renderer/src/lib/state/report-card.svelte.js');
    const card = new ReportCardState(() => concept);
    await settle();
    await settle();
    expect(card.reports.map((r) => r.id)).toEqual(['evl_000002', 'evl_000001']);
    expect(card.shownId).toBe('evl_000002');
    expect(card.comparable.map((r) => r.id)).toEqual(['evl_000001', 'evl_000009']);
    expect(card.sdModel).toBe('mod_000002');
    expect(card.metricModels).toEqual({ clip: true, dino: false, lpips: false });

    await card.compare('evl_000009');
    expect(card.other?.id).toBe('evl_000009');
    await card.measure();
    expect(fake.callsOf('evaluations.start')).toEqual([{ conceptId: 'con_000001', model: 'mod_000002', set: 'default' }]);

    list = [summary('evl_000003', 'con_000001', 'New', '2026-12-03'), ...list];
    fake.emit('evaluations', 'onChanged', { conceptId: 'con_000001' });
    await settle();
    await settle();
    expect(card.shownId).toBe('evl_000003');
    expect(card.compareId).toBe('evl_000009');
    card.destroy();
  });
});
