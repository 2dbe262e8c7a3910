/**
 * What tracked allocators and tracked wasm heaps share: bounds-checked accessors that
 * count reads and writes per block, and the profile.
 *
 * Accessors take the pointer of a live tracked block and an offset into it; an access
 * outside the block throws OutOfBoundsError, a pointer that is not a live block
 * ForeignPointerError. Multi-byte values are little-endian (as WebAssembly's memory is).
 */
import { writeDhat } from '../formats/dhat.js';
import type { Profile } from '../model/profile.js';
import { writeFileAtomicSync } from '../util/atomic-write.js';
import type { HeapTracker, TrackAnomalies } from './heap-tracker.js';

export abstract class TrackedHeap {
  private view: DataView | undefined;
  private bytes: Uint8Array | undefined;

  constructor(
    protected readonly tracker: HeapTracker,
    /** The current memory (a wasm memory's buffer changes when it grows). */
    private readonly memory: () => ArrayBuffer | SharedArrayBuffer,
    private readonly mode: string,
    private readonly notes: string[],
  ) {}

  read8(ptr: number, offset = 0): number {
    return this.dataView().getUint8(this.tracker.access(ptr, offset, 1, false));
  }

  read16(ptr: number, offset = 0): number {
    return this.dataView().getUint16(this.tracker.access(ptr, offset, 2, false), true);
  }

  /** An unsigned 32-bit integer. */
  read32(ptr: number, offset = 0): number {
    return this.dataView().getUint32(this.tracker.access(ptr, offset, 4, false), true);
  }

  readF64(ptr: number, offset = 0): number {
    return this.dataView().getFloat64(this.tracker.access(ptr, offset, 8, false), true);
  }

  write8(ptr: number, offset: number, value: number): void {
    this.dataView().setUint8(this.tracker.access(ptr, offset, 1, true), value);
  }

  write16(ptr: number, offset: number, value: number): void {
    this.dataView().setUint16(this.tracker.access(ptr, offset, 2, true), value, true);
  }

  /** Writes the low 32 bits of `value` (signed or unsigned). */
  write32(ptr: number, offset: number, value: number): void {
    this.dataView().setUint32(this.tracker.access(ptr, offset, 4, true), value >>> 0, true);
  }

  writeF64(ptr: number, offset: number, value: number): void {
    this.dataView().setFloat64(this.tracker.access(ptr, offset, 8, true), value, true);
  }

  /** A copy of `length` bytes of the block from `offset`. */
  readBytes(ptr: number, offset: number, length: number): Uint8Array {
    const at = this.tracker.access(ptr, offset, length, false);
    return this.byteArray().slice(at, at + length);
  }

  writeBytes(ptr: number, offset: number, bytes: ArrayLike<number>): void {
    const at = this.tracker.access(ptr, offset, bytes.length, true);
    this.byteArray().set(bytes, at);
  }

  /** Size of a live tracked block, or undefined when `ptr` is not one. */
  sizeOf(ptr: number): number | undefined {
    return this.tracker.sizeOf(ptr);
  }

  /** Frees and allocations the tracker saw but could not place (see TrackAnomalies). */
  get anomalies(): Readonly<TrackAnomalies> {
    return this.tracker.anomalies;
  }

  /** A DHAT profile of everything so far; tracking continues. */
  toProfile(): Profile {
    return this.tracker.toProfile(this.mode, this.notes);
  }

  /** Writes `toProfile()` as a DHAT file (atomically). Open it with `heapscope report` or dh_view. */
  writeProfile(path: string): void {
    writeFileAtomicSync(path, writeDhat(this.toProfile()));
  }

  private dataView(): DataView {
    const buffer = this.memory();
    if (this.view?.buffer !== buffer) this.view = new DataView(buffer);
    return this.view;
  }

  private byteArray(): Uint8Array {
    const buffer = this.memory();
    if (this.bytes?.buffer !== buffer) this.bytes = new Uint8Array(buffer);
    return this.bytes;
  }
}
