// The viewer's server on its own: the headers of the page it serves.
import { describe, expect, it } from 'vitest';
import { serveViewer } from '../../src/viewer/serve.js';

describe('serveViewer', () => {
  it('sends the page with headers that forbid framing it and sniffing its type', async () => {
    const server = await serveViewer(() => '<!doctype html><title>t</title>');
    try {
      const res = await fetch(server.url);
      expect(res.status).toBe(200);
      expect(await res.text()).toBe('<!doctype html><title>t</title>');
      expect(res.headers.get('x-frame-options')).toBe('DENY');
      expect(res.headers.get('content-security-policy')).toBe("frame-ancestors 'none'");
      expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    } finally {
      await server.close();
    }
  });
});
