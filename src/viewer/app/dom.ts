/// <reference lib="dom" />
/// <reference lib="dom.iterable" />
/**
 * DOM helpers. Text only ever goes in as text (`textContent`, text nodes); attributes
 * are set one by one and never an event handler, so nothing from a profile is parsed
 * as HTML or run as script.
 */

export type Child = Node | string | number | null | undefined | false;

export type Attrs = Record<string, string | number | boolean | undefined>;

function setAttrs(e: Element, attrs: Attrs | undefined): void {
  if (!attrs) return;
  for (const [k, v] of Object.entries(attrs)) {
    if (/^on/i.test(k)) throw new Error(`refusing to set event attribute ${k}`);
    if (v === undefined || v === false) continue;
    e.setAttribute(k, v === true ? '' : String(v));
  }
}

function append(e: Element, children: Child[]): void {
  for (const c of children) {
    if (c === null || c === undefined || c === false) continue;
    e.append(typeof c === 'number' ? String(c) : c);
  }
}

/** An HTML element with attributes and children (strings become text nodes). */
export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs?: Attrs,
  ...children: Child[]
): HTMLElementTagNameMap[K] {
  const e = document.createElement(tag);
  setAttrs(e, attrs);
  append(e, children);
  return e;
}

const SVG_NS = 'http://www.w3.org/2000/svg';

/** An SVG element with attributes and children. */
export function s<K extends keyof SVGElementTagNameMap>(
  tag: K,
  attrs?: Attrs,
  ...children: Child[]
): SVGElementTagNameMap[K] {
  const e = document.createElementNS(SVG_NS, tag) as SVGElementTagNameMap[K];
  setAttrs(e, attrs);
  append(e, children);
  return e;
}

/** Replaces all children of `e`. */
export function fill(e: Element, ...children: Child[]): void {
  e.replaceChildren();
  append(e, children);
}
