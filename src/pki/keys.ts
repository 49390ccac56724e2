/**
 * Private keys with Node's native (threaded) key generation: RSA 2048/3072/4096 and ECDSA P-256/P-384 (kubeadm's
 * encryptionAlgorithm). RSA keys are written as PKCS#1 ("RSA PRIVATE KEY"), ECDSA keys as SEC1 ("EC PRIVATE KEY"),
 * public keys as PKIX ("PUBLIC KEY"), as kubeadm's keyutil does.
 * A KeyPool queues every key a run needs ahead of time and generates them in parallel, at most one per core.
 */
import { createPrivateKey, createPublicKey, generateKeyPair, type KeyObject } from 'node:crypto';
import { availableParallelism } from 'node:os';
import type { EncryptionAlgorithm } from '../config/spec.js';
import type { AwayClock } from '../util/away.js';

export interface KeyPair {
  readonly algorithm: EncryptionAlgorithm;
  readonly privateKey: KeyObject;
  readonly publicKey: KeyObject;
}

const RSA_BITS: Partial<Record<EncryptionAlgorithm, number>> = { 'RSA-2048': 2048, 'RSA-3072': 3072, 'RSA-4096': 4096 };

/** The named curves of kubeadm's ECDSA algorithms (Go's elliptic.P256 and P384). */
const EC_CURVES: Partial<Record<EncryptionAlgorithm, string>> = { 'ECDSA-P256': 'prime256v1', 'ECDSA-P384': 'secp384r1' };

export function generateKey(algorithm: EncryptionAlgorithm): Promise<KeyPair> {
  const bits = RSA_BITS[algorithm];
  const curve = EC_CURVES[algorithm];
  return new Promise((resolve, reject) => {
    const done = (err: Error | null, publicKey: KeyObject, privateKey: KeyObject) => (err ? reject(err) : resolve({ algorithm, privateKey, publicKey }));
    if (bits !== undefined) generateKeyPair('rsa', { modulusLength: bits, publicExponent: 0x10001 }, done);
    else if (curve !== undefined) generateKeyPair('ec', { namedCurve: curve }, done);
    // config validation rejects anything else first
    else reject(new Error(`internal: unknown encryption algorithm "${algorithm}"`));
  });
}

/** PEM of a private key as kubeadm writes it: RSA → PKCS#1, EC → SEC1. */
export function privateKeyPem(key: KeyObject): string {
  const type = key.asymmetricKeyType;
  if (type === 'rsa') return key.export({ type: 'pkcs1', format: 'pem' }) as string;
  if (type === 'ec') return key.export({ type: 'sec1', format: 'pem' }) as string;
  return key.export({ type: 'pkcs8', format: 'pem' }) as string;
}

/** PKIX ("PUBLIC KEY") PEM. */
export function publicKeyPem(key: KeyObject): string {
  return key.export({ type: 'spki', format: 'pem' }) as string;
}

export function spkiDer(key: KeyObject): Buffer {
  return key.export({ type: 'spki', format: 'der' });
}

/** Parses a private key PEM (PKCS#1, SEC1 or PKCS#8); undefined when it does not parse. */
export function parsePrivateKey(pem: string | Buffer): KeyObject | undefined {
  try {
    return createPrivateKey({ key: pem, format: 'pem' });
  } catch {
    return undefined;
  }
}

export function parsePublicKey(pem: string | Buffer): KeyObject | undefined {
  try {
    return createPublicKey({ key: pem, format: 'pem' });
  } catch {
    return undefined;
  }
}

/** "RSA-2048", "ECDSA-P256", … for a key (what golden plans record). */
export function describeKey(key: KeyObject): string {
  const d = key.asymmetricKeyDetails;
  if (key.asymmetricKeyType === 'rsa') return `RSA-${d?.modulusLength ?? '?'}`;
  if (key.asymmetricKeyType === 'ec') {
    const curve = d?.namedCurve;
    return curve === 'prime256v1' ? 'ECDSA-P256' : curve === 'secp384r1' ? 'ECDSA-P384' : `ECDSA-${curve ?? '?'}`;
  }
  return key.asymmetricKeyType ?? 'unknown';
}

/**
 * How many keys generate at once. Node generates a key on its libuv threadpool (UV_THREADPOOL_SIZE threads, 4 by
 * default), the pool every file operation also runs on: with all 4 threads on keys, the phases' reads and writes
 * queue behind them (measured on a 2-core machine: the ca sub-phase waited 0.86 s for its own file checks while 11
 * keys were generating). So at most one key per core, and always at least one thread left for files.
 */
export function keyConcurrency(env: NodeJS.ProcessEnv = process.env, cores: number = availableParallelism()): number {
  const pool = Number.parseInt(env.UV_THREADPOOL_SIZE ?? '', 10);
  const threads = Number.isInteger(pool) && pool > 0 ? pool : 4;
  return Math.max(1, Math.min(cores, threads - 1));
}

interface Entry {
  readonly name: string;
  readonly key: Promise<KeyPair>;
  start(): void;
  started: boolean;
  ready: boolean;
}

/**
 * Keys started ahead of time, taken by name; a name never started is generated on demand. At most `concurrency`
 * generate at once, in the order they were asked for; taking a key that has not started yet starts it at once. With
 * an AwayClock, the time a caller spends blocked on a key that is not ready yet counts as waiting for key generation.
 */
export class KeyPool {
  private readonly pending = new Map<string, Entry>();
  private readonly queue: Entry[] = [];
  private running = 0;
  constructor(
    private readonly algorithm: EncryptionAlgorithm,
    private readonly away?: AwayClock,
    private readonly concurrency: number = keyConcurrency(),
  ) {}

  /** Queues generation for each name not already asked for. */
  prestart(names: readonly string[]): void {
    for (const name of names) {
      if (this.pending.has(name)) continue;
      const entry = this.entry(name);
      this.pending.set(name, entry);
      this.queue.push(entry);
    }
    this.pump();
  }

  /** The key for `name` (each prestarted key is handed out once). */
  take(name: string): Promise<KeyPair> {
    const e = this.pending.get(name) ?? this.entry(name);
    this.pending.delete(name);
    if (e.ready) return e.key;
    if (!e.started) {
      const i = this.queue.indexOf(e);
      if (i >= 0) this.queue.splice(i, 1);
      e.start(); // a caller waits on it: it goes ahead of the queue
    }
    return this.away ? this.away.time('keys', () => e.key) : e.key;
  }

  /** Number of keys generating now (tests). */
  get inFlight(): number {
    return this.running;
  }

  private entry(name: string): Entry {
    let settle!: (p: Promise<KeyPair>) => void;
    const key = new Promise<KeyPair>((resolve) => (settle = resolve));
    key.catch(() => undefined); // a key never taken that fails: not an unhandled rejection (take() surfaces it)
    const e: Entry = {
      name,
      key,
      started: false,
      ready: false,
      start: () => {
        if (e.started) return;
        e.started = true;
        this.running++;
        const p = generateKey(this.algorithm);
        settle(p);
        const done = () => {
          e.ready = true;
          this.running--;
          this.pump();
        };
        p.then(done, done); // a rejection is surfaced by take(); never unhandled
      },
    };
    return e;
  }

  private pump(): void {
    while (this.running < this.concurrency && this.queue.length > 0) this.queue.shift()?.start();
  }
}
