import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { runRecord } from '../results/record.ts';
import { createMemoryTracker } from './memory.ts';

const memorySchema = runRecord.shape.memory;

describe('createMemoryTracker', () => {
  it('keeps the peak tensor bytes after tensors are freed', async () => {
    await tf.setBackend('cpu');
    const tracker = createMemoryTracker(tf);
    const before = tf.memory().numBytes;
    const big = tf.zeros([1024, 256]); // 1 MiB of float32
    tracker.observe();
    big.dispose();
    tracker.observe();
    const r = tracker.result();
    expect(memorySchema.parse(r)).toEqual(r);
    expect(r.peakTensorBytes).toBe(before + 1024 * 256 * 4);
    expect(tf.memory().numBytes).toBe(before);
  });

  it('reports RSS at least as high as the current RSS and the kernel high-water mark', () => {
    const tracker = createMemoryTracker({ memory: () => ({ numBytes: 0 }) });
    const r = tracker.result();
    expect(r.peakRssBytes).toBeGreaterThanOrEqual(process.memoryUsage().rss * 0.9);
    expect(r.peakRssBytes).toBeGreaterThanOrEqual(process.resourceUsage().maxRSS * 1024);
    expect(r.peakTensorBytes).toBe(0);
  });

  it('sees an RSS peak that happened between observations', () => {
    const tracker = createMemoryTracker({ memory: () => ({ numBytes: 0 }) });
    tracker.observe();
    const first = tracker.result().peakRssBytes;
    // 200 MB above the high-water mark so far, touched and dropped without an observe() in
    // between (the mark can sit above today's RSS: start-up, or memory the GC has returned)
    const headroom = Math.max(0, first - process.memoryUsage.rss());
    let block: Buffer | null = Buffer.alloc(headroom + 200 * 1024 * 1024, 1);
    expect(block[12345]).toBe(1);
    block = null;
    expect(tracker.result().peakRssBytes).toBeGreaterThanOrEqual(first + 150 * 1024 * 1024);
  });
});
