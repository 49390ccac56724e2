/** The API client's verbs (src/kube/api.ts) over fake effects: method, path, content type and body of each request. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ApiClient, type WatchEvent } from '../../../src/kube/api.js';
import type { HttpRequest } from '../../../src/effects/types.js';
import { FakeEffects } from '../../helpers/fake-effects.js';

const CREDS = { server: 'https://192.0.2.10:6443', ca: 'CA', cert: 'CERT', key: 'KEY', user: 'u', cluster: 'c', insecure: false };

function client(): { c: ApiClient; seen: HttpRequest[]; fx: FakeEffects } {
  const fx = new FakeEffects();
  const seen: HttpRequest[] = [];
  fx.http_ = (req) => {
    seen.push(req);
    return { status: 200, body: '{"kind":"Status","message":"ok"}', headers: {} };
  };
  return { c: new ApiClient(fx, CREDS, 'admin.conf'), seen, fx };
}

describe('ApiClient', () => {
  it('GET, POST, PUT, DELETE carry their method, path and JSON body with the client certificate', async () => {
    const { c, seen } = client();
    await c.get('/api/v1/namespaces/kube-system/configmaps/x');
    await c.create('/api/v1/namespaces/kube-system/configmaps', { kind: 'ConfigMap' });
    await c.replace('/api/v1/namespaces/kube-system/configmaps/x', { kind: 'ConfigMap', metadata: { resourceVersion: '7' } });
    await c.delete('/api/v1/namespaces/kube-system/configmaps/x');
    assert.deepEqual(seen.map((r) => `${r.method} ${r.url}`), [
      'GET https://192.0.2.10:6443/api/v1/namespaces/kube-system/configmaps/x',
      'POST https://192.0.2.10:6443/api/v1/namespaces/kube-system/configmaps',
      'PUT https://192.0.2.10:6443/api/v1/namespaces/kube-system/configmaps/x',
      'DELETE https://192.0.2.10:6443/api/v1/namespaces/kube-system/configmaps/x',
    ]);
    assert.equal(seen[1]?.headers?.['content-type'], 'application/json');
    assert.deepEqual(JSON.parse(seen[2]?.body ?? ''), { kind: 'ConfigMap', metadata: { resourceVersion: '7' } });
    assert.equal(seen[0]?.body, undefined);
    assert.equal(seen[0]?.cert, 'CERT');
    assert.equal(seen[0]?.ca, 'CA');
  });

  it('PATCH names its patch type; server-side apply adds the field manager (and force)', async () => {
    const { c, seen } = client();
    await c.patch('/api/v1/nodes/cp1', { metadata: { labels: { a: 'b' } } }, 'strategic');
    await c.patch('/api/v1/nodes/cp1', [{ op: 'add', path: '/spec/taints', value: [] }], 'json');
    await c.patch('/api/v1/nodes/cp1', { metadata: { labels: { a: null } } }, 'merge');
    await c.apply('/api/v1/namespaces/kube-system/configmaps/x', { apiVersion: 'v1', kind: 'ConfigMap' }, 'kubeboot', { force: true });
    assert.deepEqual(seen.map((r) => r.headers?.['content-type']), [
      'application/strategic-merge-patch+json',
      'application/json-patch+json',
      'application/merge-patch+json',
      'application/apply-patch+yaml',
    ]);
    assert.ok(seen.every((r) => r.method === 'PATCH'));
    assert.equal(seen[3]?.url, 'https://192.0.2.10:6443/api/v1/namespaces/kube-system/configmaps/x?fieldManager=kubeboot&force=true');
    assert.deepEqual(JSON.parse(seen[1]?.body ?? ''), [{ op: 'add', path: '/spec/taints', value: [] }]);
  });

  it('watch: the events of the stream until the caller has what it waits for', async () => {
    const { c, fx } = client();
    const urls: string[] = [];
    fx.stream_ = (req) => {
      urls.push(req.url);
      return {
        status: 200,
        lines: [
          JSON.stringify({ type: 'ADDED', object: { metadata: { name: 'a' } } }),
          'not json',
          JSON.stringify({ type: 'MODIFIED', object: { metadata: { name: 'b' } } }),
          JSON.stringify({ type: 'DELETED', object: { metadata: { name: 'c' } } }),
        ],
      };
    };
    const seen: string[] = [];
    const r = await c.watch<{ metadata: { name: string } }>('/api/v1/namespaces/kube-system/pods', (e: WatchEvent<{ metadata: { name: string } }>) => {
      seen.push(`${e.type} ${e.object.metadata.name}`);
      return e.object.metadata.name === 'b';
    }, { resourceVersion: '42', timeoutSeconds: 5 });
    assert.deepEqual(seen, ['ADDED a', 'MODIFIED b'], 'stops at the event the caller waits for; a line that is not JSON is skipped');
    assert.equal(r.status, 200);
    assert.equal(r.events, 2);
    assert.equal(urls[0], 'https://192.0.2.10:6443/api/v1/namespaces/kube-system/pods?watch=1&allowWatchBookmarks=true&resourceVersion=42&timeoutSeconds=5');
  });

  it('watch: a refused watch returns the status and the body', async () => {
    const { c, fx } = client();
    fx.stream_ = () => ({ status: 403, lines: ['{"kind":"Status","message":"forbidden"}'] });
    const r = await c.watch('/api/v1/pods', () => true);
    assert.equal(r.status, 403);
    assert.match(r.text, /forbidden/);
  });
});
