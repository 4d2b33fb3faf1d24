import { describe, expect, it } from 'vitest';
import { Fifo } from './fifo.ts';

describe('Fifo', () => {
  it('keeps first-in first-out order across wrap-around and growth', () => {
    const fifo = new Fifo<number>();
    const expected: number[] = [];
    const got: number[] = [];
    let next = 0;
    // Interleave pushes and shifts so the head wraps several times before and after growing.
    for (let round = 0; round < 50; round++) {
      for (let i = 0; i < 7; i++) {
        fifo.push(next);
        expected.push(next++);
      }
      for (let i = 0; i < 5; i++) got.push(fifo.shift() as number);
    }
    got.push(...fifo.drain());
    expect(got).toEqual(expected);
    expect(fifo.length).toBe(0);
    expect(fifo.shift()).toBeUndefined();
  });

  it('counts its length', () => {
    const fifo = new Fifo<string>();
    fifo.push('a');
    fifo.push('b');
    expect(fifo.length).toBe(2);
    expect(fifo.shift()).toBe('a');
    expect(fifo.length).toBe(1);
  });
});
