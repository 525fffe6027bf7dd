import { confirmationPage, errorPage, escapeHtml } from './browser-response';

describe(confirmationPage.name, () => {
  it('should escape every name and value and run only the nonce-bearing script', () => {
    const page = confirmationPage(
      { state: `"'><script>x</script>&`, 'a"b': 'v' },
      'https://app.example.com/cb?x=1',
      'n0nce',
    );
    if (page.kind !== 'page') throw new Error('expected a page');
    expect(page.html).toContain('name="state" value="&quot;&#39;&gt;&lt;script&gt;x&lt;/script&gt;&amp;"');
    expect(page.html).toContain('name="a&quot;b"');
    expect(page.html.match(/<script/g)).toHaveLength(1);
    expect(page.csp).toBe(
      "default-src 'none'; script-src 'nonce-n0nce'; base-uri 'none'; frame-ancestors 'none'; form-action 'self' https://app.example.com",
    );
  });

  it('should allow a native app’s custom scheme as the form target', () => {
    const page = confirmationPage({}, 'com.acme.app://callback', 'n');
    expect(page.kind === 'page' && page.csp.endsWith("form-action 'self' com.acme.app:")).toBe(true);
  });
});

describe(errorPage.name, () => {
  it('should escape the message and allow no script or form at all', () => {
    const page = errorPage(400, '<b>');
    expect(page).toMatchObject({ kind: 'page', status: 400, csp: expect.stringContaining("form-action 'none'") });
    expect(page.kind === 'page' && page.html.includes(escapeHtml('<b>'))).toBe(true);
  });
});
