import { type RawBuilder, sql } from 'kysely';

/**
 * `(a, b), (c, d), …` for a batch's VALUES list, as one SQL fragment with a parameter per cell
 * (each cast to its column's type where `casts` names one: a VALUES list has no types of its own on
 * PostgreSQL). Kysely compiles every nested fragment it is given, so a list written as a fragment
 * per row and per cell cost the SQLite queen a compiled node, and its garbage, for every value of a
 * grouped write of hundreds of rows; this is one node holding the values.
 */
export function valuesList(rows: readonly (readonly unknown[])[], casts?: readonly (string | undefined)[]): RawBuilder<unknown> {
  if (rows.length === 0) throw new RangeError('valuesList: rows must not be empty');
  const fragments: string[] = [];
  const parameters: unknown[] = [];
  let text = '';
  for (const [r, row] of rows.entries()) {
    text += r === 0 ? '(' : ', (';
    for (const [c, value] of row.entries()) {
      const cast = casts?.[c];
      text += `${c === 0 ? '' : ', '}${cast ? 'CAST(' : ''}`;
      fragments.push(text);
      parameters.push(value);
      text = cast ? ` AS ${cast})` : '';
    }
    text += ')';
  }
  fragments.push(text);
  return sql(Object.assign(fragments, { raw: fragments }) as unknown as TemplateStringsArray, ...parameters);
}
