import { describe, expect, it } from 'vitest';
import { cronProblem } from '../../config/cron';

describe('cron expressions', () => {
  it.each([
    '* * * * *',
    '*/5 * * * *',
    '1-10/2 * * * *',
    '0-59/15 0-23 1-31 1-12 0-6',
    '0 3 * * *',
    '0,30 8-18 * * MON-FRI',
    '0 0 1 JAN-DEC *',
    '0 0 * jul wed',
    '0 0 * * 7',
    '0 0 1 * MON',
    '0 0 29 2 *',
    '@hourly',
    '@daily',
    '@weekly',
    '@monthly',
    '@yearly',
    '@midnight',
    '@annually',
  ])('accepts %j', (expression) => {
    expect(cronProblem(expression)).toBeUndefined();
  });

  it.each([
    ['61 * * * *', '"61 * * * *" is not a valid cron expression: minute 61 is out of range (allowed: 0-59)'],
    ['0 24 * * *', '"0 24 * * *" is not a valid cron expression: hour 24 is out of range (allowed: 0-23)'],
    ['0 0 0 * *', '"0 0 0 * *" is not a valid cron expression: day of month 0 is out of range (allowed: 1-31)'],
    ['0 0 32 * *', '"0 0 32 * *" is not a valid cron expression: day of month 32 is out of range (allowed: 1-31)'],
    ['0 0 * 13 *', '"0 0 * 13 *" is not a valid cron expression: month 13 is out of range (allowed: 1-12 or JAN-DEC)'],
    ['0 0 * 0 *', '"0 0 * 0 *" is not a valid cron expression: month 0 is out of range (allowed: 1-12 or JAN-DEC)'],
    ['0 0 * * 8', '"0 0 * * 8" is not a valid cron expression: day of week 8 is out of range (allowed: 0-6 or SUN-SAT)'],
    ['50-70/5 * * * *', '"50-70/5 * * * *" is not a valid cron expression: minute 60 is out of range (allowed: 0-59)'],
    ['10-5 * * * *', `"10-5 * * * *" is not a valid cron expression: from value is larger than to value: '10-5'`],
    ['*/0 * * * *', '"*/0 * * * *" is not a valid cron expression: syntax error, illegal stepping: 0'],
    [
      '5/5 * * * *',
      `"5/5 * * * *" is not a valid cron expression: syntax error, stepping with numeric prefix ('5/5') is not allowed. Use wildcard (*/step) or range (min-max/step) instead.`,
    ],
    ['1,,2 * * * *', '"1,,2 * * * *" is not a valid cron expression: minute "1,,2" has an empty list item'],
    ['a * * * *', '"a * * * *" is not a valid cron expression: minute "a" contains characters that are not allowed (expected 0-59, *, ranges, lists and steps)'],
    [
      '0 0 * * MO',
      '"0 0 * * MO" is not a valid cron expression: day of week "MO" contains characters that are not allowed (expected 0-6 or SUN-SAT, *, ranges, lists and steps)',
    ],
    ['0 0 * JANUARY *', `"0 0 * JANUARY *" is not a valid cron expression: syntax error, a month or day name has to stand alone ('JANUARY').`],
    ['every five minutes', '"every five minutes" is not a valid cron expression: expected 5 fields (minute hour day-of-month month day-of-week), got 3'],
    ['* * * *', '"* * * *" is not a valid cron expression: expected 5 fields (minute hour day-of-month month day-of-week), got 4'],
    // Temporal reads a 6th field as the year, croner as seconds in front: refused either way.
    [
      '0 0 0 * * *',
      '"0 0 0 * * *" is not a valid cron expression: expected 5 fields (minute hour day-of-month month day-of-week), got 6; a seconds or year field is not supported',
    ],
    [
      '0 0 0 * * * 2030',
      '"0 0 0 * * * 2030" is not a valid cron expression: expected 5 fields (minute hour day-of-month month day-of-week), got 7; a seconds or year field is not supported',
    ],
    // croner's extensions, which Temporal does not parse.
    ['0 0 L * *', '"0 0 L * *" is not a valid cron expression: day of month "L": L is not supported by Temporal schedules'],
    ['0 0 LW * *', '"0 0 LW * *" is not a valid cron expression: day of month "LW": L and W are not supported by Temporal schedules'],
    ['0 0 15W * *', '"0 0 15W * *" is not a valid cron expression: day of month "15W": W is not supported by Temporal schedules'],
    ['0 0 * * 5L', '"0 0 * * 5L" is not a valid cron expression: day of week "5L": L is not supported by Temporal schedules'],
    ['0 0 * * FRIL', '"0 0 * * FRIL" is not a valid cron expression: day of week "FRIL": L is not supported by Temporal schedules'],
    ['0 0 * * MON#2', '"0 0 * * MON#2" is not a valid cron expression: day of week "MON#2": # is not supported by Temporal schedules'],
    ['0 0 ? * *', '"0 0 ? * *" is not a valid cron expression: day of month "?": ? is not supported by Temporal schedules'],
    ['0 0 1 * +MON', '"0 0 1 * +MON" is not a valid cron expression: day of week "+MON": + is not supported by Temporal schedules'],
    ['@Daily', '"@Daily" is not a valid cron expression: unknown macro (expected exactly one of @hourly, @daily, @weekly, @monthly or @yearly)'],
    ['@every 5m', '"@every 5m" is not a valid cron expression: unknown macro (expected exactly one of @hourly, @daily, @weekly, @monthly or @yearly)'],
    ['@reboot', '"@reboot" is not a valid cron expression: unknown macro (expected exactly one of @hourly, @daily, @weekly, @monthly or @yearly)'],
    ['0 0 31 2 *', '"0 0 31 2 *" is not a valid cron expression: it matches no date, so it would never run'],
    ['', '"" is not a valid cron expression: expected 5 fields (minute hour day-of-month month day-of-week), got 0'],
  ])('refuses %j', (expression, message) => {
    expect(cronProblem(expression)).toBe(message);
  });
});
