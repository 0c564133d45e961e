/**
 * A plain-text table for the terminal: columns padded to their widest cell, a header and a
 * rule. Multi-line cells print their first line in the table; callers print details below.
 */
export function formatTable(
  headers: readonly string[],
  rows: readonly (readonly string[])[],
): string[] {
  const firstLine = (cell: string): string => cell.split('\n')[0] ?? '';
  const widths = headers.map((header, column) =>
    Math.max(header.length, ...rows.map((row) => firstLine(row[column] ?? '').length)),
  );
  const line = (cells: readonly string[]): string =>
    cells
      .map((cell, column) =>
        column === cells.length - 1 ? cell : cell.padEnd(widths[column] ?? 0),
      )
      .join('  ')
      .trimEnd();
  return [
    line(headers),
    line(widths.map((w) => '-'.repeat(w))),
    ...rows.map((row) => line(headers.map((_, column) => firstLine(row[column] ?? '')))),
  ];
}
