import { describe, expect, it } from 'vitest';
import { DueHeap } from './heap.ts';

function popAll(heap: DueHeap<string>): string[] {
  const keys: string[] = [];
  for (let entry = heap.pop(); entry; entry = heap.pop()) keys.push(entry.key);
  return keys;
}

describe('DueHeap', () => {
  it('pops keys by due time, equal times in insertion order', () => {
    const heap = new DueHeap<string>();
    heap.set('c', 30);
    heap.set('a', 10);
    heap.set('b1', 20);
    heap.set('b2', 20);
    heap.set('b3', 20);
    expect(heap.peek()).toEqual({ key: 'a', at: 10 });
    expect(popAll(heap)).toEqual(['a', 'b1', 'b2', 'b3', 'c']);
  });

  it('holds one entry per key and moves it when set again', () => {
    const heap = new DueHeap<string>();
    heap.set('x', 50);
    heap.set('y', 40);
    heap.set('x', 5);
    expect(heap.size).toBe(2);
    expect(heap.dueAt('x')).toBe(5);
    heap.set('x', 100);
    expect(popAll(heap)).toEqual(['y', 'x']);
  });

  it('deletes any key and keeps the order of the rest', () => {
    const heap = new DueHeap<string>();
    for (let i = 0; i < 20; i++) heap.set(`k${i}`, (i * 7) % 20);
    expect(heap.delete('k3')).toBe(true);
    expect(heap.delete('k3')).toBe(false);
    expect(heap.dueAt('k3')).toBeUndefined();
    const times: number[] = [];
    for (let entry = heap.pop(); entry; entry = heap.pop()) times.push(entry.at);
    expect(times).toHaveLength(19);
    expect(times).toEqual([...times].sort((a, b) => a - b));
  });

  it('agrees with a sort under a long deterministic mix of operations', () => {
    const heap = new DueHeap<string>();
    const model = new Map<string, number>();
    let seed = 42;
    const random = (n: number): number => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed % n;
    };
    for (let i = 0; i < 2_000; i++) {
      const key = `k${random(50)}`;
      if (random(4) === 0) {
        expect(heap.delete(key)).toBe(model.delete(key));
      } else {
        const at = random(1_000);
        heap.set(key, at);
        model.set(key, at);
      }
    }
    const expected = [...model.values()].sort((a, b) => a - b);
    const times: number[] = [];
    for (let entry = heap.pop(); entry; entry = heap.pop()) times.push(entry.at);
    expect(times).toEqual(expected);
  });

  it('empties on clear', () => {
    const heap = new DueHeap<string>();
    heap.set('a', 1);
    heap.clear();
    expect(heap.size).toBe(0);
    expect(heap.peek()).toBeUndefined();
    expect(heap.dueAt('a')).toBeUndefined();
  });
});
