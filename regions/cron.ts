/**
 * Cron expressions as the schedulers we configure read them: the standard 5 fields, and
 * CloudNativePG's robfig/cron form with a leading seconds field. Problems are worded for the
 * config loader (the field, the offending value, what to write).
 */

export interface CronField {
  readonly name: string;
  readonly min: number;
  readonly max: number;
  /** `?` allowed (day of month, day of week). */
  readonly question?: boolean;
  readonly names?: readonly string[];
}

const MONTHS = ['JAN', 'FEB', 'MAR', 'APR', 'MAY', 'JUN', 'JUL', 'AUG', 'SEP', 'OCT', 'NOV', 'DEC'];
const WEEKDAYS = ['SUN', 'MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT'];
/** The standard 5-field cron (Kubernetes CronJob, Medusa's schedules). */
export const STANDARD_CRON: readonly CronField[] = [
  { name: 'minute', min: 0, max: 59 },
  { name: 'hour', min: 0, max: 23 },
  { name: 'day of month', min: 1, max: 31, question: true },
  { name: 'month', min: 1, max: 12, names: MONTHS },
  { name: 'day of week', min: 0, max: 6, question: true, names: WEEKDAYS },
];
/** CloudNativePG's ScheduledBackup schedule: robfig/cron with a leading seconds field. */
export const CNPG_CRON: readonly CronField[] = [{ name: 'second', min: 0, max: 59 }, ...STANDARD_CRON];

function cronFieldProblem(text: string, f: CronField): string | undefined {
  if (f.question && text === '?') return undefined;
  const value = (v: string): number | undefined => {
    if (/^[0-9]+$/.test(v)) return Number(v);
    const i = f.names?.indexOf(v.toUpperCase()) ?? -1;
    return i >= 0 ? i + f.min : undefined;
  };
  for (const item of text.split(',')) {
    const [range = '', step, ...extra] = item.split('/');
    if (extra.length > 0 || (step !== undefined && !/^[1-9][0-9]*$/.test(step))) return `${f.name} "${text}" has a bad step (write e.g. "*/15")`;
    if (range === '*') continue;
    const bounds = range.split('-');
    const nums = bounds.map(value);
    if (bounds.length > 2 || nums.some((n) => n === undefined)) return `${f.name} "${text}" is not a number, range, list or * (e.g. "2", "1-5", "0,30", "*")`;
    for (const n of nums as number[]) if (n < f.min || n > f.max) return `${f.name} ${n} is outside ${f.min}-${f.max}`;
    if (nums.length === 2 && (nums[0] as number) > (nums[1] as number)) return `${f.name} range "${range}" runs backwards`;
  }
  return undefined;
}

/** Why `schedule` is not a cron expression of `fields`, or undefined when it is. */
export function cronProblem(schedule: string, fields: readonly CronField[]): string | undefined {
  const parts = schedule.trim().split(/\s+/);
  if (parts.length !== fields.length) return `has ${parts.length} field(s), needs ${fields.length} (${fields.map((f) => f.name).join(', ')})`;
  for (let i = 0; i < parts.length; i++) {
    const p = cronFieldProblem(parts[i]!, fields[i]!);
    if (p) return p;
  }
  return undefined;
}
