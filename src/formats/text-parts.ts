/**
 * Text gathered into parts of about `partChars` characters, for writers whose output can
 * be longer than the longest string V8 makes: each part is joined once it is full, and
 * the pieces it was made of can be collected.
 */
export class TextParts {
  private pieces: string[] = [];
  private chars = 0;

  constructor(private readonly partChars: number) {}

  /** Adds text; true when the part is full and is to be taken. */
  put(text: string): boolean {
    this.pieces.push(text);
    this.chars += text.length;
    return this.chars >= this.partChars;
  }

  /** Whether nothing was put since the last take. */
  get empty(): boolean {
    return this.pieces.length === 0;
  }

  /** The part so far, as one string; the next part starts empty. */
  take(): string {
    const text = this.pieces.join('');
    this.pieces = [];
    this.chars = 0;
    return text;
  }
}
