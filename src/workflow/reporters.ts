/** Presentation only: plain kubeadm-style lines, JSON lines, or (see listr.ts) listr2's tree. */
import type { KubebootEvent, Reporter } from './events.js';
import { toListr } from './listr-bridge.js';

export interface Writer {
  write(text: string): void;
}

/** Plain lines, as kubeadm prints them: `[certs] Generating "ca" certificate and key`. */
export class TextReporter implements Reporter {
  constructor(
    private readonly out: Writer,
    private readonly err: Writer,
    private readonly verbose: boolean,
  ) {}
  emit(e: KubebootEvent): void {
    switch (e.type) {
      case 'log': {
        const line = e.tag ? `[${e.tag}] ${e.message}` : e.message;
        if (!toListr(line)) this.out.write(`${line}\n`);
        break;
      }
      case 'warning': {
        const text = e.message.split('\n').join('\n  ');
        // already in kubeadm's form ([WARNING Name]: …, [endpoint] WARNING: …): print as it is
        const line = text.startsWith('[WARNING ') || text.startsWith('[ERROR ') ? `\t${text}` : text.startsWith('[') ? text : `[WARNING] ${text}`;
        if (!toListr(line)) this.err.write(`${line}\n`);
        break;
      }
      case 'file':
        if (this.verbose) this.out.write(`[files] ${e.status} ${e.path} (${e.mode})\n`);
        break;
      case 'object':
        if (this.verbose) this.out.write(`[objects] ${e.status} ${e.kind} ${e.namespace ? `${e.namespace}/` : ''}${e.name}\n`);
        break;
      case 'phase':
        if (this.verbose || e.status === 'failed') {
          const dur = e.durationMs === undefined ? '' : ` in ${e.durationMs} ms`;
          this.out.write(`[phase] ${e.phase} ${e.status}${dur}${e.reason ? ` (${e.reason})` : ''}\n`);
        }
        break;
      case 'wait':
        if (!toListr(`[wait] ${e.message}`)) this.out.write(`[wait] ${e.message}\n`);
        break;
      case 'error':
        // main.ts prints errors (it knows about -v and hints)
        break;
      case 'result':
        break;
    }
  }
}

/** One JSON object per line and per event on stdout; nothing else goes to stdout. */
export class JsonReporter implements Reporter {
  constructor(private readonly out: Writer) {}
  emit(e: KubebootEvent): void {
    this.out.write(`${JSON.stringify({ ...e, time: new Date().toISOString() })}\n`);
  }
}

/** Collects events (tests, and commands that print a summary). */
export class MemoryReporter implements Reporter {
  readonly events: KubebootEvent[] = [];
  emit(e: KubebootEvent): void {
    this.events.push(e);
  }
}
