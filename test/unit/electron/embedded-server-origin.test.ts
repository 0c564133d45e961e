/**
 * The desktop window shows the embedded orchestrator at http://127.0.0.1:<ephemeral port>:
 * the navigation guard must allow exactly that origin, and the CSP must let the page reach
 * the api's WebSocket on it and nothing else.
 */
import { describe, expect, it } from 'vitest';
import { contentSecurityPolicy } from '../../../src-main/electron/content-security-policy';
import { isAllowedNavigation } from '../../../src-main/electron/navigation-guard';

const origin = 'http://127.0.0.1:43123';

describe('embedded server origin', () => {
  it('the navigation guard allows exactly the server origin', () => {
    expect(isAllowedNavigation(`${origin}/?token=abc`, origin)).toBe(true);
    expect(isAllowedNavigation(`${origin}/?lab=%2Ftmp%2Flab.yaml`, origin)).toBe(true);
    for (const url of [
      'http://127.0.0.1:43124/',
      'http://localhost:43123/',
      'https://127.0.0.1:43123/',
      'http://evil.example/',
      'file:///etc/passwd',
      'faultlab://app/index.html',
      'javascript:alert(1)',
    ]) {
      expect(isAllowedNavigation(url, origin), url).toBe(false);
    }
  });

  it('the CSP adds only the api WebSocket origin to connect-src', () => {
    const policy = contentSecurityPolicy('production', 'header', ['ws://127.0.0.1:43123']);
    expect(policy).toContain("connect-src 'self' ws://127.0.0.1:43123;");
    expect(policy).toContain("script-src 'self';");
    expect(policy).not.toContain('unsafe-eval');
    expect(policy).toContain("frame-ancestors 'none'");
    // Without extras the policy is unchanged (the meta tag in index.html stays in sync).
    expect(contentSecurityPolicy('production', 'meta')).toContain("connect-src 'self';");
  });
});
