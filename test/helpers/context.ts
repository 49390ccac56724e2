/** An InitContext over fake effects, for phase unit tests. */
import { buildSpec, type ConfigFlags } from '../../src/config/load.js';
import type { InitContext, RunOptions } from '../../src/node/context.js';
import type { HostFacts } from '../../src/effects/host.js';
import { Output } from '../../src/workflow/events.js';
import { MemoryReporter } from '../../src/workflow/reporters.js';
import { Slots } from '../../src/workflow/slots.js';
import { FakeEffects } from './fake-effects.js';
import { TEST_HOST } from './host.js';

export interface TestContext {
  ctx: InitContext;
  fx: FakeEffects;
  events: MemoryReporter;
}

export function testContext(flags: ConfigFlags = {}, opts: Partial<RunOptions> = {}, host: HostFacts = TEST_HOST): TestContext {
  const fx = new FakeEffects();
  const events = new MemoryReporter();
  const { spec } = buildSpec(undefined, flags, host, 'flags');
  const ctx: InitContext = {
    spec,
    host,
    fx,
    out: new Output(events),
    options: { dryRun: false, root: '', ignorePreflightErrors: new Set(), verbose: false, waitTimeoutMs: undefined, waitFor: ['all'], ...opts },
    slots: new Slots(),
  };
  return { ctx, fx, events };
}
