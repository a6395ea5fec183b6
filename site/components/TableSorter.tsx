'use client';
/**
 * Sorts a server-rendered table in place when a header is clicked, so re-sorting needs no
 * round trip; without JavaScript the header links re-sort on the server instead.
 * It reads data-value from cells and keeps the URL's sort parameters in step.
 */
import { useEffect } from 'react';
import { isExport } from '../lib/mode.ts';

export function TableSorter({ tableId }: { tableId: string }) {
  useEffect(() => {
    const table = document.getElementById(tableId);
    if (!(table instanceof HTMLTableElement)) return;
    const onClick = (ev: MouseEvent) => {
      if (ev.defaultPrevented || ev.button !== 0 || ev.metaKey || ev.ctrlKey || ev.shiftKey) return;
      const th = (ev.target as Element | null)?.closest('th[data-sort]');
      if (!(th instanceof HTMLTableCellElement) || !table.contains(th)) return;
      ev.preventDefault();
      const key = th.dataset.sort ?? '';
      const numeric = th.dataset.numeric === '1';
      const current = th.getAttribute('aria-sort');
      const dir = current === 'ascending' ? 'desc' : current === 'descending' ? 'asc' : (th.dataset.dir ?? 'desc');
      const body = table.tBodies[0];
      if (!body) return;
      const value = (tr: HTMLTableRowElement): number | string | null => {
        const raw = tr.querySelector<HTMLTableCellElement>(`td[data-col="${key}"]`)?.dataset.value ?? '';
        if (raw === '') return null;
        return numeric ? Number(raw) : raw;
      };
      const rows = Array.from(body.rows);
      rows.sort((a, b) => {
        const va = value(a);
        const vb = value(b);
        if (va === null || vb === null) return va === vb ? 0 : va === null ? 1 : -1;
        const c = typeof va === 'number' && typeof vb === 'number' ? va - vb : String(va).localeCompare(String(vb));
        return dir === 'asc' ? c : -c;
      });
      for (const r of rows) body.appendChild(r);
      for (const h of Array.from(table.querySelectorAll<HTMLTableCellElement>('th[data-sort]'))) {
        const on = h === th;
        h.setAttribute('aria-sort', on ? (dir === 'asc' ? 'ascending' : 'descending') : 'none');
        const mark = h.querySelector('.sort-mark');
        if (mark) mark.textContent = on ? (dir === 'asc' ? ' ▲' : ' ▼') : '';
      }
      if (!isExport) {
        // the live site renders this order for this URL too, so a reload or a shared link keeps it
        const url = new URL(window.location.href);
        url.searchParams.set('sort', key);
        url.searchParams.set('dir', dir);
        window.history.replaceState(window.history.state, '', url);
      }
    };
    table.addEventListener('click', onClick);
    return () => table.removeEventListener('click', onClick);
  }, [tableId]);
  return null;
}
