import { describe, expect, it } from 'vitest';
import { planResizeAndCrop, roundHalfToEven } from './resize-plan.ts';

describe('roundHalfToEven', () => {
  it('rounds halves to the even neighbour, as Python round() does', () => {
    expect([0.5, 1.5, 2.5, 58.5, 59.5, 16, 16.4, 16.6].map(roundHalfToEven)).toEqual([0, 2, 2, 58, 60, 16, 16, 17]);
  });
});

describe('planResizeAndCrop', () => {
  it('reduces a landscape 500x375 to 341x256 and crops at left 58 (58.5 rounded to even), top 16', () => {
    expect(planResizeAndCrop(500, 375, 256, 224)).toEqual({
      sourceWidth: 500, sourceHeight: 375, resizedWidth: 341, resizedHeight: 256, direction: 'down', cropLeft: 58, cropTop: 16, cropSize: 224,
    });
  });

  it('rounds the longer side (700x467 → 384x256, where truncation would give 383)', () => {
    const plan = planResizeAndCrop(700, 467, 256, 224);
    expect([plan.resizedWidth, plan.resizedHeight, plan.cropLeft, plan.cropTop]).toEqual([384, 256, 80, 16]);
  });

  it('handles portrait images and enlargements', () => {
    const portrait = planResizeAndCrop(320, 685, 256, 224);
    expect([portrait.resizedWidth, portrait.resizedHeight, portrait.cropLeft, portrait.cropTop, portrait.direction]).toEqual([256, 548, 16, 162, 'down']);
    const small = planResizeAndCrop(100, 100, 256, 224);
    expect([small.resizedWidth, small.resizedHeight, small.cropLeft, small.cropTop, small.direction]).toEqual([256, 256, 16, 16, 'up']);
  });

  it('leaves an image whose shorter side is already the target alone', () => {
    const plan = planResizeAndCrop(256, 300, 256, 224);
    expect([plan.resizedWidth, plan.resizedHeight, plan.direction, plan.cropLeft, plan.cropTop]).toEqual([256, 300, 'none', 16, 38]);
  });

  it('refuses sizes without pixels', () => {
    expect(() => planResizeAndCrop(0, 10, 256, 224)).toThrow(RangeError);
  });
});
