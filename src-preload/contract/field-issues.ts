// A schema's complaint in plain words, naming the field as the form labels it: one wording for every form
// ("Stage I steps must be at most 10000.", "Steps must be a whole number.").
import type { z } from 'zod';

export function describeIssue(issue: z.core.$ZodIssue, label: string): string {
  const i = issue as z.core.$ZodIssue & { minimum?: number | bigint; maximum?: number | bigint; expected?: string; inclusive?: boolean; origin?: string };
  const words =
    issue.code === 'too_big'
      ? i.origin === 'string'
        ? `is too long (at most ${i.maximum} characters)`
        : i.origin === 'array'
          ? `: at most ${i.maximum}`
          : `must be at most ${i.maximum}`
      : issue.code === 'too_small'
        ? i.origin === 'string'
          ? 'must not be empty'
          : i.origin === 'number' && i.inclusive === false
            ? `must be more than ${i.minimum}`
            : `must be at least ${i.minimum}`
        : issue.code === 'invalid_type'
          ? i.expected === 'int'
            ? 'must be a whole number'
            : i.expected === 'number'
              ? 'must be a number'
              : `must be a ${i.expected}`
          : `: ${lowerFirst(issue.message)}`;
  return `${label}${words.startsWith(':') ? '' : ' '}${words}.`.replace(/\.\.$/, '.');
}

/** "Too many" → "too many", but "LCM takes…" stays: a name or acronym keeps its capitals. */
const lowerFirst = (text: string) => (/^[A-Z][a-z]/.test(text) ? text.charAt(0).toLowerCase() + text.slice(1) : text);
