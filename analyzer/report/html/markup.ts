/** Building HTML/SVG text safely: every attribute value and text node is escaped here. */

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

export type Attrs = Record<string, string | number | boolean | null | undefined>;

function attrText(attrs: Attrs): string {
  let out = '';
  for (const [name, value] of Object.entries(attrs)) {
    if (value === null || value === undefined || value === false) continue;
    out += value === true ? ` ${name}` : ` ${name}="${escapeHtml(typeof value === 'number' ? fmt(value) : value)}"`;
  }
  return out;
}

/** Numbers in SVG coordinates: two decimals at most, so the output is stable for snapshots. */
export function fmt(n: number): string {
  return String(Math.round(n * 100) / 100);
}

/** An element; `children` are already-built markup strings (use `text()` for text). */
export function el(tag: string, attrs: Attrs = {}, ...children: string[]): string {
  return `<${tag}${attrText(attrs)}>${children.join('')}</${tag}>`;
}

/** A void/self-closing element (SVG shapes, <meta>). */
export function leaf(tag: string, attrs: Attrs = {}): string {
  return `<${tag}${attrText(attrs)}/>`;
}

export function text(t: string): string {
  return escapeHtml(t);
}

/** A slug safe for ids: letters, digits and dashes. */
export function slug(t: string): string {
  return t.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '') || 'x';
}
