/**
 * Secrets come from references, never from the config file itself.
 *
 * A secret field's value, as written, must consist of references and nothing else
 * (`${env:SHOPIFY_ACCESS_TOKEN}`): a literal, or a literal next to a reference (`abc${env:X}`),
 * would put the secret or a part of it into the file. A connection string is secret only where
 * it holds a password: the rest may be written out (`postgresql://reader@erp-db/erp`), and the
 * password must come entirely from references (`postgresql://reader:${env:ERP_PASSWORD}@erp-db/erp`),
 * or the whole string from one (`${env:ERP_DATABASE_URL}`).
 *
 * Checked on the text as written, before references are resolved.
 */
import { replaceReferences } from './references';

/** `whole`: the entire value is secret. `connectionString`: only the password(s) in it. */
export type SecretForm = 'whole' | 'connectionString';

export interface SecretField {
  /** Dotted path in the config file. */
  path: string;
  form: SecretForm;
}

/** The secret fields of omnisync.yaml outside connector configs. */
export const TOP_LEVEL_SECRETS: readonly SecretField[] = [
  { path: 'temporal.apiKey', form: 'whole' },
  { path: 'stateStore.connectionString', form: 'connectionString' },
];

/**
 * How a connector's secret field (a manifest's `secretFields` entry) is checked: a field named
 * `connectionString` (e.g. erp-sql's `database.connectionString`) as a connection string, any
 * other as a whole secret.
 */
export function secretFormOf(field: string): SecretForm {
  return /(^|\.)connectionString$/.test(field) ? 'connectionString' : 'whole';
}

const BY_REFERENCE = '${env:NAME} or ${file:path}';

/**
 * The problem with a secret field's value as written, as a config line (`path: message`), or
 * undefined when its secret parts come from references only. Never quotes the value.
 */
export function inlineSecretProblem(value: unknown, path: string, form: SecretForm): string | undefined {
  if (typeof value !== 'string' || value === '') return undefined;
  if (form === 'whole') {
    if (isReferencesOnly(value)) return undefined;
    return value === replaceReferences(value, '')
      ? `${path}: secrets must be given by reference (${BY_REFERENCE}), not inline`
      : `${path}: secrets must come entirely from references (${BY_REFERENCE}); inline text next to a reference is refused`;
  }
  const inline = passwordParts(value).find((part) => !isReferencesOnly(part.text));
  if (!inline) return undefined;
  return inline.kind === 'userinfo'
    ? `${path}: the password in this connection string must come entirely from a reference (e.g. postgresql://user:\${env:PGPASSWORD}@host/db), not be written inline`
    : `${path}: the password= in this connection string must come entirely from a reference (e.g. password=\${env:PGPASSWORD}), not be written inline`;
}

/**
 * The secret parts of a secret field's value as written (references unresolved): the whole
 * value, or a connection string's passwords. Resolved, they are scrubbed from logs.
 */
export function secretParts(value: string, form: SecretForm): string[] {
  if (form === 'whole') return value === '' ? [] : [value];
  return passwordParts(value)
    .map((part) => part.text)
    .filter((text) => text !== '');
}

function isReferencesOnly(text: string): boolean {
  return replaceReferences(text, '') === '';
}

interface PasswordPart {
  /** Where it was found: `scheme://user:password@host` or a `password=` parameter. */
  kind: 'userinfo' | 'parameter';
  /** The password as written, references unresolved. */
  text: string;
}

/**
 * The passwords of a connection string: in a URL's user info (`scheme://user:password@host`)
 * and `?password=` parameter, or in libpq's keyword form (`host=h password=secret`, values
 * optionally in single quotes). References are masked while parsing, so characters in them
 * (`:` of `${env:…}`) never count as syntax.
 */
function passwordParts(value: string): PasswordPart[] {
  // Same length as the value, so positions found in it are positions in the value.
  const masked = replaceReferences(value, (reference) => '\u0000'.repeat(reference.length));
  const parts: PasswordPart[] = [];
  const scheme = /^[^:/?#\s]*:\/\//.exec(masked);
  if (scheme) {
    const start = scheme[0].length;
    // The user info ends at the last '@' before the query: later than a URL parser would end
    // it, so that a password with an unencoded '/' or '@' is still found.
    const queryStart = masked.indexOf('?', start);
    const at = masked.lastIndexOf('@', queryStart === -1 ? masked.length : queryStart - 1);
    const colon = masked.indexOf(':', start);
    if (at >= start && colon !== -1 && colon < at) parts.push({ kind: 'userinfo', text: value.slice(colon + 1, at) });
    const query = masked.indexOf('?', at >= start ? at + 1 : start);
    if (query !== -1) {
      for (const match of masked.slice(query + 1).matchAll(/(?:^|&)password=([^&#]*)/gi)) {
        const from = query + 1 + match.index + match[0].length - match[1]!.length;
        parts.push({ kind: 'parameter', text: value.slice(from, from + match[1]!.length) });
      }
    }
    return parts;
  }
  for (const match of masked.matchAll(/(?:^|[\s;])password\s*=\s*('(?:\\.|[^'\\])*'|[^\s;]*)/gi)) {
    const raw = match[1]!;
    const quoted = raw.startsWith("'") && raw.endsWith("'") && raw.length >= 2;
    const from = match.index + match[0].length - raw.length + (quoted ? 1 : 0);
    parts.push({ kind: 'parameter', text: value.slice(from, from + raw.length - (quoted ? 2 : 0)) });
  }
  return parts;
}
