/**
 * Base URLs of remote systems: plain http:// only to this machine, unless a connector's config
 * explicitly allows it.
 *
 * Requests to a connector's base URL carry its credentials (Shopify's access token, for one); over
 * plain http they can be read and changed on the way. The sandbox and tests run on loopback
 * (127.0.0.0/8, ::1, localhost), where http is fine. Anything else needs https://, or
 * `allowInsecureHttp: true` in the connector's config (e.g. a test system on a private network).
 *
 * A manifest uses it on its config schema:
 *
 *     z.strictObject({ baseUrl: z.url(), allowInsecureHttp: z.boolean().default(false), … })
 *       .check(refuseInsecureHttp(['baseUrl']))
 */
import { z } from 'zod';

/** True for localhost and loopback addresses, as `URL.hostname` gives them (`[::1]` with brackets). */
export function isLoopbackHost(hostname: string): boolean {
  const host = hostname.toLowerCase();
  return host === 'localhost' || host === '[::1]' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host);
}

/** Why `url` may not be used without `allowInsecureHttp: true`, or undefined when it may. */
export function insecureHttpProblem(url: string): string | undefined {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return undefined; // not a URL: the field's own schema says so
  }
  if (parsed.protocol !== 'http:' || isLoopbackHost(parsed.hostname)) return undefined;
  return `plain http:// to ${parsed.hostname} is refused (only localhost and loopback addresses may use it): use https://, or set allowInsecureHttp: true to accept it`;
}

/**
 * A check for a connector's config object schema (`.check(refuseInsecureHttp(['shopUrl']))`):
 * refuses plain http:// to a host other than loopback in each of `urlFields`, unless the
 * object's `allowInsecureHttp` is true. Runs even when other fields have problems, so that every
 * problem of the config is reported in one pass.
 */
export function refuseInsecureHttp<Field extends string>(urlFields: readonly Field[]) {
  return z.superRefine<{ [K in Field]?: unknown } & { allowInsecureHttp?: unknown }>(
    (config, ctx) => {
      // A wrong allowInsecureHttp is a problem of its own; the URL is not judged by it.
      if (config.allowInsecureHttp !== undefined && config.allowInsecureHttp !== false) return;
      for (const field of urlFields) {
        const value = config[field];
        const problem = typeof value === 'string' ? insecureHttpProblem(value) : undefined;
        if (problem !== undefined) ctx.addIssue({ code: 'custom', path: [field], message: problem, input: value });
      }
    },
    { when: (payload) => payload.value !== null && typeof payload.value === 'object' && !Array.isArray(payload.value) },
  );
}
