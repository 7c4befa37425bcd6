// Tiny DOM helpers (no framework): elements with attributes and children, text escaped by the DOM.
export function el<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs: Record<string, string> = {},
  ...children: (Node | string)[]
): HTMLElementTagNameMap[K] {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
  e.append(...children);
  return e;
}

export function fmt(x: number, digits = 3): string {
  return x.toFixed(digits);
}

/** The note of a page that needs the server when the server wants an API key: where to enter it. */
export function apiKeyNote(): HTMLParagraphElement {
  return el(
    'p',
    { class: 'note' },
    'The server needs an API key: enter it under "Server settings" on the ',
    el('a', { href: '#/tag' }, 'Tag files'),
    ' page.',
  );
}
