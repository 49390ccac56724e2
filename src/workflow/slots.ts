/** Named, typed slots for results a later phase needs (the CA, the written files…). */
export interface SlotKey<T> {
  readonly name: string;
  /** phantom field for the type */
  readonly __type?: T;
}

export function slot<T>(name: string): SlotKey<T> {
  return { name };
}

export class Slots {
  private readonly values = new Map<string, unknown>();
  get<T>(key: SlotKey<T>): T | undefined {
    return this.values.get(key.name) as T | undefined;
  }
  require<T>(key: SlotKey<T>): T {
    if (!this.values.has(key.name)) throw new Error(`internal: slot "${key.name}" was not filled by an earlier phase`);
    return this.values.get(key.name) as T;
  }
  set<T>(key: SlotKey<T>, value: T): void {
    this.values.set(key.name, value);
  }
}
