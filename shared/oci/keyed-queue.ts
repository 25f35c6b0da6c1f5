// Runs tasks one at a time per key, in arrival order, within this process: the read-modify-write of an
// OCI layout's index.json, or of a referrers fallback index, must not interleave with another of the same.
// Each user holds its own queue, so a task holding one module's key can call into a module that takes a
// key of its own without waiting on itself.

export class KeyedQueue {
  readonly #tails = new Map<string, Promise<void>>();

  async run<T>(key: string, task: () => Promise<T>): Promise<T> {
    const previous = this.#tails.get(key) ?? Promise.resolve();
    let release: () => void = () => undefined;
    const done = new Promise<void>((resolve) => {
      release = resolve;
    });
    const tail = previous.then(() => done);
    this.#tails.set(key, tail);
    await previous;
    try {
      return await task();
    } finally {
      release();
      if (this.#tails.get(key) === tail) this.#tails.delete(key);
    }
  }
}
