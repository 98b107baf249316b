// One shape for every plugin point (substrates, migration drivers, address strategies, scenario
// steps, reporters): built-ins and a user's plugins register the same way, and an unknown name
// is refused with the list of what is there.
export class Registry<T> {
  readonly #entries = new Map<string, T>();
  /** A live read-only view, in registration order. */
  readonly entries: ReadonlyMap<string, T> = this.#entries;

  constructor(
    private readonly noun: string,
    private readonly plural: string,
    private readonly fail: (message: string) => Error,
  ) {}

  /** A second registration under a name replaces the first (a plugin may override a built-in);
   *  disposing the result puts back what was there, so a test leaves the registry as it found it. */
  register(name: string, entry: T): Disposable {
    const before = this.#entries.get(name);
    this.#entries.set(name, entry);
    return {
      [Symbol.dispose]: () => {
        if (before === undefined) this.#entries.delete(name);
        else this.#entries.set(name, before);
      },
    };
  }

  names(): string[] {
    return [...this.#entries.keys()];
  }

  get(name: string): T {
    const entry = this.#entries.get(name);
    if (entry === undefined) throw this.fail(`${this.noun} "${name}" is not supported. Supported ${this.plural} are ${this.names().map((n) => `"${n}"`).join(', ')}`);
    return entry;
  }
}
