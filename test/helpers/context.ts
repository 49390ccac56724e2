/** An InitContext over fake effects, for phase unit tests. */
import { buildSpec, type ConfigFlags } from '../../src/config/load.js';
import { nodeContext, type InitContext, type InitOptions } from '../../src/node/context.js';
import type { HostFacts } from '../../src/effects/host.js';
import { Output } from '../../src/workflow/events.js';
import { MemoryReporter } from '../../src/workflow/reporters.js';
import { FakeEffects } from './fake-effects.js';
import { TEST_HOST } from './host.js';

export interface TestContext {
  ctx: InitContext;
  fx: FakeEffects;
  events: MemoryReporter;
}

export function testContext(flags: ConfigFlags = {}, opts: Partial<InitOptions> = {}, host: HostFacts = TEST_HOST): TestContext {
  const fx = new FakeEffects();
  fx.simulate = opts.dryRun === true;
  const events = new MemoryReporter();
  const { spec } = buildSpec(undefined, flags, host, 'flags');
  const ctx: InitContext = nodeContext({
    spec,
    host,
    fx,
    out: new Output(events, opts.dryRun === true),
    options: { dryRun: false, root: '', ignorePreflightErrors: new Set<string>(), verbose: false, waitTimeoutMs: undefined, waitFor: ['all'], ...opts },
  });
  return { ctx, fx, events };
}
