/**
 * Which rows of a fixed-row-height list are on screen: only those get DOM nodes, so a timeline
 * of 24,000 entries costs as much as one of 30.
 */
export interface RowRange {
  /** First row to render. */
  readonly start: number;
  /** One past the last row to render. */
  readonly end: number;
  /** Spacer heights above and below the rendered rows, in px. */
  readonly padTop: number;
  readonly padBottom: number;
}

export function visibleRows(
  scrollTop: number,
  viewportHeight: number,
  rowHeight: number,
  count: number,
  overscan = 6,
): RowRange {
  if (rowHeight <= 0) throw new Error(`visibleRows: rowHeight must be > 0, got ${rowHeight}`);
  if (count <= 0) return { start: 0, end: 0, padTop: 0, padBottom: 0 };
  const first = Math.floor(Math.max(0, scrollTop) / rowHeight);
  const shown = Math.ceil(Math.max(0, viewportHeight) / rowHeight) + 1;
  const start = Math.min(count, Math.max(0, first - overscan));
  const end = Math.min(count, first + shown + overscan);
  return { start, end, padTop: start * rowHeight, padBottom: (count - end) * rowHeight };
}

/** scrollTop that shows the newest row at the bottom. */
export function scrollTopForEnd(viewportHeight: number, rowHeight: number, count: number): number {
  return Math.max(0, count * rowHeight - viewportHeight);
}
