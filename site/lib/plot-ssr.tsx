/**
 * Observable Plot on the server, rendered as React elements.
 *
 * Plot builds its SVG through a `document` passed in its options. We give it a minimal
 * document whose elements only record tag, attributes, inline style and children, then
 * turn that tree into React elements. React escapes every attribute and text node, so
 * architecture names in titles and links stay text (no innerHTML anywhere), and no DOM
 * library is needed on the server. The same idea Plot's own documentation site uses.
 */
import * as Plot from '@observablehq/plot';
import { createElement, type ReactElement, type ReactNode } from 'react';

class FakeStyle {
  readonly props = new Map<string, string>();
  setProperty(name: string, value: unknown): void {
    if (value == null || value === '') this.props.delete(name);
    else this.props.set(name, String(value));
  }
  removeProperty(name: string): void {
    this.props.delete(name);
  }
  getPropertyValue(name: string): string {
    return this.props.get(name) ?? '';
  }
}

type Child = FakeElement | FakeText;

class FakeText {
  parentNode: FakeElement | null = null;
  constructor(
    readonly ownerDocument: FakeDocument,
    public nodeValue: string,
  ) {}
  get textContent(): string {
    return this.nodeValue;
  }
}

class FakeElement {
  readonly attributes = new Map<string, string>();
  childNodes: Child[] = [];
  parentNode: FakeElement | null = null;
  private styleObj = new FakeStyle();
  // d3 compares this with the XHTML namespace to decide how to create children
  readonly namespaceURI: string;
  constructor(
    readonly ownerDocument: FakeDocument,
    readonly tagName: string,
    namespaceURI: string | null,
  ) {
    this.namespaceURI = namespaceURI ?? 'http://www.w3.org/2000/svg';
  }
  get nodeName(): string {
    return this.tagName;
  }
  get localName(): string {
    return this.tagName;
  }
  get children(): FakeElement[] {
    return this.childNodes.filter((c): c is FakeElement => c instanceof FakeElement);
  }
  get firstChild(): Child | null {
    return this.childNodes[0] ?? null;
  }
  get lastChild(): Child | null {
    return this.childNodes[this.childNodes.length - 1] ?? null;
  }
  setAttribute(name: string, value: unknown): void {
    this.attributes.set(name, String(value));
  }
  setAttributeNS(_ns: string | null, name: string, value: unknown): void {
    this.setAttribute(name.replace(/^xlink:/, ''), value);
  }
  getAttribute(name: string): string | null {
    return this.attributes.get(name) ?? null;
  }
  getAttributeNS(_ns: string | null, name: string): string | null {
    return this.getAttribute(name);
  }
  hasAttribute(name: string): boolean {
    return this.attributes.has(name);
  }
  removeAttribute(name: string): void {
    this.attributes.delete(name);
  }
  removeAttributeNS(_ns: string | null, name: string): void {
    this.removeAttribute(name);
  }
  private detach(child: Child): void {
    const parent = child.parentNode;
    if (parent) parent.childNodes = parent.childNodes.filter((c) => c !== child);
    child.parentNode = null;
  }
  appendChild<T extends Child>(child: T): T {
    this.detach(child); // a node lives in one place: Plot moves marks into <a> wrappers
    this.childNodes.push(child);
    child.parentNode = this;
    return child;
  }
  append(...nodes: (Child | string)[]): void {
    for (const n of nodes) this.appendChild(typeof n === 'string' ? this.ownerDocument.createTextNode(n) : n);
  }
  insertBefore<T extends Child>(child: T, ref: Child | null): T {
    this.detach(child);
    const i = ref == null ? -1 : this.childNodes.indexOf(ref);
    if (i < 0) this.childNodes.push(child);
    else this.childNodes.splice(i, 0, child);
    child.parentNode = this;
    return child;
  }
  removeChild<T extends Child>(child: T): T {
    this.detach(child);
    return child;
  }
  remove(): void {
    if (this.parentNode) this.parentNode.removeChild(this);
  }
  querySelector(): null {
    return null;
  }
  querySelectorAll(): FakeElement[] {
    return [];
  }
  addEventListener(): void {}
  removeEventListener(): void {}
  dispatchEvent(): boolean {
    return true;
  }
  set textContent(value: unknown) {
    this.childNodes = [];
    if (value != null && value !== '') this.appendChild(this.ownerDocument.createTextNode(String(value)));
  }
  get textContent(): string {
    return this.childNodes.map((c) => c.textContent).join('');
  }
  get style(): FakeStyle {
    return this.styleObj;
  }
  set style(value: unknown) {
    // d3's .property('style', 'a: b; c: d')
    this.styleObj = new FakeStyle();
    for (const decl of String(value ?? '').split(';')) {
      const i = decl.indexOf(':');
      if (i > 0) this.styleObj.setProperty(decl.slice(0, i).trim(), decl.slice(i + 1).trim());
    }
  }
  get styleProps(): ReadonlyMap<string, string> {
    // Plot applies a style object with Object.assign(element.style, {fontSize: ...}):
    // those land as plain properties on the style object, next to setProperty's map.
    const out = new Map(this.styleObj.props);
    for (const [k, v] of Object.entries(this.styleObj)) {
      if (k !== 'props' && v != null && v !== '')
        out.set(
          k.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`),
          String(v),
        );
    }
    return out;
  }
}

class FakeDocument {
  readonly documentElement: FakeElement;
  readonly defaultView = { Event: class {} };
  constructor() {
    this.documentElement = new FakeElement(this, 'html', 'http://www.w3.org/1999/xhtml');
  }
  createElementNS(ns: string | null, tag: string): FakeElement {
    return new FakeElement(this, tag, ns);
  }
  createElement(tag: string): FakeElement {
    return new FakeElement(this, tag, 'http://www.w3.org/1999/xhtml');
  }
  createTextNode(text: string): FakeText {
    return new FakeText(this, text);
  }
  querySelector(): null {
    return null;
  }
  querySelectorAll(): FakeElement[] {
    return [];
  }
}

const camel = (s: string): string => s.replace(/[-:]([a-z])/g, (_m, c: string) => c.toUpperCase());

/** DOM attribute name → React prop name (React prints the SVG ones back hyphenated). */
function propName(name: string): string {
  if (name === 'class') return 'className';
  if (name.startsWith('aria-') || name.startsWith('data-')) return name;
  return camel(name);
}

function styleObject(props: ReadonlyMap<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of props) out[k.startsWith('--') ? k : camel(k)] = v;
  return out;
}

/** Attributes that hold coordinates: Plot writes them at full float precision. */
const GEOMETRY = new Set(['d', 'transform', 'x', 'y', 'cx', 'cy', 'x1', 'x2', 'y1', 'y2', 'width', 'height', 'points', 'r', 'viewBox']);

/** 319.99999999999994 → 320: a hundredth of a pixel is below what any screen shows. */
const roundNumbers = (v: string): string => v.replace(/-?\d+\.\d{3,}/g, (m) => String(Math.round(Number(m) * 100) / 100));

function toReact(node: Child, key: number): ReactNode {
  if (node instanceof FakeText) return node.nodeValue;
  // Plot's <style> sets defaults for its class; site CSS carries them instead, because React
  // would escape the CSS text.
  if (node.tagName === 'style') return null;
  const props: Record<string, unknown> = { key };
  for (const [name, value] of node.attributes) props[propName(name)] = GEOMETRY.has(name) ? roundNumbers(value) : value;
  if (node.styleProps.size > 0) props.style = styleObject(node.styleProps);
  const children = node.childNodes.map((c, i) => toReact(c, i));
  return createElement(node.tagName, props, ...children);
}

/** Render a Plot specification to a React SVG (or figure) element. */
export function plotToReact(options: Plot.PlotOptions): ReactElement {
  const document = new FakeDocument();
  // Plot's options type wants a real Document; ours implements the part Plot uses.
  const root = Plot.plot({ ...options, document: document as unknown as Document }) as unknown as FakeElement;
  return toReact(root, 0) as ReactElement;
}
