// The reader's errors and their wording.

/** Every error this reader throws; messages start with `heapsnapshot: `. */
export class HeapSnapshotError extends Error {
  override name = 'HeapSnapshotError';
}

export function describeByte(c: number): string {
  return c >= 0x20 && c < 0x7f ? `'${String.fromCharCode(c)}'` : `byte 0x${c.toString(16)}`;
}

export function unexpected(c: number, where: string, offset: number): HeapSnapshotError {
  return new HeapSnapshotError(
    `heapsnapshot: unexpected ${describeByte(c)} in ${where} at byte ${offset}`,
  );
}

export function notAnArray(key: string, c: number, offset: number): HeapSnapshotError {
  return new HeapSnapshotError(
    `heapsnapshot: "${key}" must be an array, found ${describeByte(c)} at byte ${offset}`,
  );
}

export function invalid(message: string): HeapSnapshotError {
  return new HeapSnapshotError(`heapsnapshot: invalid snapshot: ${message}`);
}
