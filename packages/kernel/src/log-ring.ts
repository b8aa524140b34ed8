/**
 * The last lines written to stdout, kept in memory so a service can show them (a dashboard, a crash
 * report). Bounded by bytes (UTF-16 code units, roughly): the oldest lines go first.
 */
export class LogRing {
  /** Kept lines from `head` on; slots before `head` are emptied as lines are trimmed, so their strings are freed at once. */
  private lines: string[] = [];
  private head = 0;
  private bytes = 0;
  private partial = '';

  constructor(private limit = 16 * 1024) {}

  /** Takes stdout text (a stdout writer). */
  write(text: string): void {
    const parts = (this.partial + text).split('\n');
    this.partial = parts.pop() ?? '';
    for (const line of parts) this.push(line);
    if (this.partial.length > this.limit) {
      this.push(this.partial);
      this.partial = '';
    }
  }

  private push(line: string): void {
    this.lines.push(line);
    this.bytes += line.length + 1;
    this.trim();
  }

  private trim(): void {
    while (this.bytes > this.limit && this.head < this.lines.length) {
      this.bytes -= this.lines[this.head]!.length + 1;
      this.lines[this.head] = '';
      this.head++;
    }
    // Compact once the emptied slots are half the array: amortised O(1) per line, and the array is never
    // more than twice the lines it keeps.
    if (this.head > 0 && this.head * 2 >= this.lines.length) {
      this.lines = this.lines.slice(this.head);
      this.head = 0;
    }
  }

  /** The kept lines, oldest first (a line still being written is included). */
  read(): string[] {
    const kept = this.lines.slice(this.head);
    return this.partial ? [...kept, this.partial] : kept;
  }

  /** The kept text. */
  text(): string {
    return this.read().join('\n');
  }

  clear(): void {
    this.lines = [];
    this.head = 0;
    this.bytes = 0;
    this.partial = '';
  }

  get capacity(): number {
    return this.limit;
  }

  /** Changes the byte limit; shrinking drops the oldest lines now. */
  resize(limit: number): void {
    this.limit = Math.max(0, limit);
    this.trim();
  }
}
