import type { ReactNode } from 'react';

/**
 * A scrolling table with a header row of column names: every list in the dashboard. `caption` names
 * it for screen readers (hidden on screen, where the section's heading says the same).
 */
export function Table({
  columns,
  caption,
  className,
  children,
}: {
  columns: readonly string[];
  caption?: string;
  className?: string;
  children: ReactNode;
}) {
  return (
    <div className="table-wrap">
      <table className={className}>
        {caption && <caption className="sr-only">{caption}</caption>}
        <thead>
          <tr>
            {columns.map((column) => (
              <th scope="col" key={column}>
                {column}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>{children}</tbody>
      </table>
    </div>
  );
}

/** The one row a table shows when it has nothing else. */
export function EmptyRow({ columns, children }: { columns: number; children: ReactNode }) {
  return (
    <tr>
      <td colSpan={columns} className="empty">
        {children}
      </td>
    </tr>
  );
}
