// The reader of `trace_tree`, the allocation trace tree of a snapshot taken while
// allocation tracking was on.

import type { TraceTree } from '../../model/snapshot/heap-snapshot.js';
import { HeapSnapshotError, notAnArray, unexpected } from './errors.js';
import {
  A_AFTER,
  A_DONE,
  A_FIRST,
  A_IN_VALUE,
  A_NEXT,
  A_OPEN,
  grow,
  isWhitespace,
  trim,
  U32_MAX,
  type ValueReader,
} from './tokens.js';

/**
 * `trace_tree`: `[id, function_info_index, count, size, [children…]]` where the
 * children list holds further flat 5-tuples. Flattened with an explicit stack of
 * parent indexes.
 */
export class TraceTreeReader implements ValueReader {
  done = false;
  count = 0;
  id = new Uint32Array(1024);
  functionInfoIndex = new Uint32Array(1024);
  allocCount = new Float64Array(1024);
  allocSize = new Float64Array(1024);
  parent = new Int32Array(1024);
  private state = A_OPEN;
  private value = 0;
  /** Position within the current tuple: 0–3 numbers, 4 the children list. */
  private field = 0;
  /** Index of the tuple whose children list each open array holds; -1 for the outer list. */
  private readonly stack: number[] = [];

  feed(buf: Buffer, start: number, end: number, base: number): number {
    let state = this.state;
    let value = this.value;
    let i = start;
    for (; i < end; i++) {
      const c = buf[i];
      if (state === A_IN_VALUE) {
        if (c >= 0x30 && c <= 0x39) {
          value = value * 10 + (c - 0x30);
          continue;
        }
        this.store(value, base + i);
        if (c === 0x2c) state = A_NEXT;
        else if (c === 0x5d) state = this.close(i, base);
        else if (isWhitespace(c)) state = A_AFTER;
        else throw this.unexpected(c, base + i);
        if (state === A_DONE) {
          i++;
          break;
        }
      } else if (state === A_FIRST || state === A_NEXT) {
        if (c >= 0x30 && c <= 0x39) {
          if (this.field === 4) throw this.malformed('expected a children list', base + i);
          value = c - 0x30;
          state = A_IN_VALUE;
        } else if (c === 0x5b) {
          if (this.field !== 4) throw this.malformed('unexpected nested list', base + i);
          this.stack.push(this.count - 1);
          this.field = 0;
          state = A_FIRST;
        } else if (c === 0x5d && state === A_FIRST) {
          state = this.close(i, base);
          if (state === A_DONE) {
            i++;
            break;
          }
        } else if (!isWhitespace(c)) throw this.unexpected(c, base + i);
      } else if (state === A_AFTER) {
        if (c === 0x2c) state = A_NEXT;
        else if (c === 0x5d) {
          state = this.close(i, base);
          if (state === A_DONE) {
            i++;
            break;
          }
        } else if (!isWhitespace(c)) throw this.unexpected(c, base + i);
      } else if (state === A_OPEN) {
        if (c === 0x5b) {
          this.stack.push(-1);
          state = A_FIRST;
        } else if (!isWhitespace(c)) throw notAnArray('trace_tree', c, base + i);
      }
    }
    this.state = state;
    this.value = value;
    this.done = state === A_DONE;
    return i;
  }

  /** Handles ']': ends a children list (completing its tuple) or the whole tree. */
  private close(i: number, base: number): number {
    if (this.field !== 0) throw this.malformed('a node has fewer than 5 fields', base + i);
    this.stack.pop();
    if (this.stack.length === 0) return A_DONE;
    this.field = 0; // the parent tuple is complete
    return A_AFTER;
  }

  private store(value: number, offset: number): void {
    const field = this.field;
    if (field === 0) {
      if (value > U32_MAX) throw this.malformed(`id ${value} does not fit in 32 bits`, offset);
      if (this.count === this.id.length) this.growAll();
      const n = this.count++;
      this.id[n] = value;
      this.parent[n] = this.stack[this.stack.length - 1];
    } else if (field === 1) {
      if (value > U32_MAX) throw this.malformed(`function index ${value} is too large`, offset);
      this.functionInfoIndex[this.count - 1] = value;
    } else if (field === 2) {
      if (value > Number.MAX_SAFE_INTEGER)
        throw this.malformed(`count ${value} is too large`, offset);
      this.allocCount[this.count - 1] = value;
    } else {
      if (value > Number.MAX_SAFE_INTEGER)
        throw this.malformed(`size ${value} is too large`, offset);
      this.allocSize[this.count - 1] = value;
    }
    this.field = field + 1;
  }

  private growAll(): void {
    const min = this.count + 1;
    this.id = grow(this.id, min);
    this.functionInfoIndex = grow(this.functionInfoIndex, min);
    this.allocCount = grow(this.allocCount, min);
    this.allocSize = grow(this.allocSize, min);
    this.parent = grow(this.parent, min);
  }

  private unexpected(c: number, offset: number): HeapSnapshotError {
    return unexpected(c, '"trace_tree"', offset);
  }

  private malformed(what: string, offset: number): HeapSnapshotError {
    return new HeapSnapshotError(`heapsnapshot: malformed "trace_tree": ${what} at byte ${offset}`);
  }

  result(): TraceTree {
    const count = this.count;
    const id = trim(this.id, count);
    const indexById = new Map<number, number>();
    for (let i = 0; i < count; i++) indexById.set(id[i], i);
    if (indexById.size !== count) {
      throw new HeapSnapshotError('heapsnapshot: malformed "trace_tree": duplicate trace node ids');
    }
    return {
      count,
      id,
      functionInfoIndex: trim(this.functionInfoIndex, count),
      allocCount: trim(this.allocCount, count),
      allocSize: trim(this.allocSize, count),
      parent: trim(this.parent, count),
      indexById,
    };
  }
}
