/** Twice the capacity, same contents. */
export function growUint32(a: Uint32Array): Uint32Array {
  const bigger = new Uint32Array(Math.max(a.length * 2, 16));
  bigger.set(a);
  return bigger;
}

/** A stack of unsigned 32-bit integers that grows as needed: the work list of a graph walk. */
export class Uint32Stack {
  private items: Uint32Array = new Uint32Array(1024);
  length = 0;

  push(n: number): void {
    if (this.length === this.items.length) this.items = growUint32(this.items);
    this.items[this.length++] = n;
  }

  /** The top item, removed; undefined behaviour when empty (check `length`). */
  pop(): number {
    return this.items[--this.length];
  }
}
