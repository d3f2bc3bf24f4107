/**
 * Config of the `legacy-files` connector: the SFTP server and its pinned host key, the drop
 * folders, when a file counts as complete, and per file pattern what it holds (stock or prices),
 * its format (CSV or EDIFACT) and where its order comes from. docs/files-over-sftp.md shows a
 * complete example.
 */
import { z } from 'zod';
import { CurrencyCode, DecimalText } from '../../core/money';

/** `SHA256:` and 43 base64 characters without padding, as `ssh-keygen -lf` prints it. */
const HOST_KEY_FINGERPRINT = /^SHA256:[A-Za-z0-9+/]{43}$/;
/** A fixed offset from UTC, or Z. */
const UTC_OFFSET = /^(Z|[+-](0\d|1[0-4]):[0-5]\d)$/;

/** A folder on the SFTP server: absolute (`/drop/in`) or relative to the user's login folder. */
const ServerFolder = z
  .string()
  .min(1)
  .refine((path) => !path.includes('\0') && !path.split('/').includes('..'), 'expected a folder path on the SFTP server without ".." (e.g. "/erp/out")');

export const SftpConfig = z
  .strictObject({
    /** Host name or address of the SFTP server. Required. */
    host: z.string().min(1),
    /** Default 22. */
    port: z.number().int().min(1).max(65_535).default(22),
    /** The SFTP user. Required. */
    username: z.string().min(1),
    /** Password (secret: by reference, e.g. `${env:SFTP_PASSWORD}`). Default: none (key only). */
    password: z.string().min(1).optional(),
    /**
     * The private key in OpenSSH or PEM format (secret: by reference; a key file is read with
     * `${file:keys/erp_ed25519}`, relative to the config file). Default: none (password only).
     */
    privateKey: z.string().min(1).optional(),
    /** Passphrase of privateKey (secret: by reference). Default: none. */
    passphrase: z.string().min(1).optional(),
    /**
     * The server's host key fingerprint, as `ssh-keygen -lf <host key>.pub` (or
     * `ssh-keyscan host | ssh-keygen -lf -`) prints it: `SHA256:` and 43 characters. Required:
     * the connector refuses any other server, so the password and the files never go to an
     * impostor.
     */
    hostKey: z.string().regex(HOST_KEY_FINGERPRINT, 'expected the SHA-256 fingerprint of the server\'s host key as `ssh-keygen -lf` prints it, e.g. "SHA256:" followed by 43 characters'),
    /** Connection and handshake timeout. Default 20 s. */
    timeoutMs: z.number().int().min(1_000).max(300_000).default(20_000),
  })
  .superRefine((sftp, ctx) => {
    if (sftp.password === undefined && sftp.privateKey === undefined) {
      ctx.addIssue({ code: 'custom', path: ['password'], message: 'sftp needs password or privateKey (or both), each by reference (e.g. ${env:SFTP_PASSWORD} or ${file:keys/erp_ed25519})' });
    }
    if (sftp.passphrase !== undefined && sftp.privateKey === undefined) {
      ctx.addIssue({ code: 'custom', path: ['passphrase'], message: 'sftp.passphrase is given without sftp.privateKey: the passphrase unlocks the private key' });
    }
  });
export type SftpConfig = z.infer<typeof SftpConfig>;

export const ReadyWhen = z.discriminatedUnion('mode', [
  /**
   * A file is complete once a marker file named `<file name><suffix>` appears beside it (the
   * sender writes the marker after closing the file). Default suffix `.done`.
   */
  z.strictObject({ mode: z.literal('marker'), suffix: z.string().min(1).regex(/^[^/]+$/, 'expected a file name suffix such as ".done"').default('.done') }),
  /**
   * The sender writes under a temporary name and renames the file when complete: names ending
   * in one of `temporarySuffixes`, and names starting with a dot, are not read. Default
   * `[".tmp", ".part"]`.
   */
  z.strictObject({ mode: z.literal('stable-name'), temporarySuffixes: z.array(z.string().min(1)).default(['.tmp', '.part']) }),
]);
export type ReadyWhen = z.infer<typeof ReadyWhen>;

/** Where a file's place in time comes from (files are applied in this order; older data never overwrites newer). */
export const FileOrder = z.discriminatedUnion('from', [
  /**
   * From the file name, by a regular expression with a named group `timestamp` (read with
   * `timestampFormat`, default `yyyyMMddHHmmss`; tokens yyyy, yy, MM, dd, HH, mm, ss) or
   * `sequence` (digits), e.g. `^stany_(?<timestamp>\d{8}_\d{6})\.csv$` with format
   * `yyyyMMdd_HHmmss`.
   */
  z.strictObject({
    from: z.literal('name'),
    pattern: z.string().min(1),
    timestampFormat: z.string().regex(/^[yMdHms_\-.T: ]+$/, 'expected a format of the tokens yyyy, yy, MM, dd, HH, mm, ss and separators, e.g. "yyyyMMdd_HHmmss"').default('yyyyMMddHHmmss'),
  }),
  /** From the content: EDIFACT's document date (DTM+137 before the first LIN), else the UNB date and time. EDIFACT only. */
  z.strictObject({ from: z.literal('content') }),
  /** The file's modification time on the server: only for senders that write files in order. */
  z.strictObject({ from: z.literal('modifiedTime') }),
]);
export type FileOrder = z.infer<typeof FileOrder>;

export const TextEncoding = z.enum(['utf-8', 'windows-1250', 'iso-8859-2']);
export type TextEncoding = z.infer<typeof TextEncoding>;

const Header = z.string().min(1);
const CsvCommon = {
  type: z.literal('csv'),
  /** Default utf-8 (a UTF-8 byte order mark is skipped). */
  encoding: TextEncoding.default('utf-8'),
  /** One character. Default ";". */
  delimiter: z.string().length(1).default(';'),
  /** One character. Default '"'. */
  quote: z.string().length(1).default('"'),
  /** "," reads 12,5 as twelve and a half (spaces as thousands separators are skipped). Default ".". */
  decimalSeparator: z.enum([',', '.']).default('.'),
};

export const StockCsvFormat = z.strictObject({
  ...CsvCommon,
  /** Header names of the columns (the first row is the header). */
  columns: z.strictObject({
    /** The SKU. Required. */
    sku: Header,
    /** On-hand quantity, decimal, read exactly (the stock mapping rounds). Required. */
    quantity: Header,
    /** The location code. Default: none (the file pattern's `location`). */
    location: Header.optional(),
    /** Reserved quantity, decimal, read exactly. Default: none (0). */
    reserved: Header.optional(),
  }),
});

export const PriceCsvFormat = z
  .strictObject({
    ...CsvCommon,
    columns: z.strictObject({
      /** The SKU. Required. */
      sku: Header,
      /** The price list code. Default: none (the file pattern's `priceList`). */
      priceList: Header.optional(),
      /** Price without VAT. At least one of net and gross. */
      net: Header.optional(),
      /** Price with VAT. */
      gross: Header.optional(),
      /** VAT rate in percent ("23"). Default: none (the file pattern's `vatRate`). */
      vatRate: Header.optional(),
      /** ISO 4217 code. Default: none (the file pattern's `currency`). */
      currency: Header.optional(),
      /** First moment the price applies (`2025-06-01`, `2025-06-01 08:00`, `01.06.2025`). Default: none (always). */
      validFrom: Header.optional(),
      /** First moment it no longer applies. Default: none (open end). */
      validTo: Header.optional(),
    }),
  })
  .refine((format) => format.columns.net !== undefined || format.columns.gross !== undefined, {
    path: ['columns', 'net'],
    message: 'price CSV columns need net or gross (or both): the header of the price without VAT or with VAT',
  });

export const EdifactFormat = z.strictObject({
  type: z.literal('edifact'),
  /**
   * Default: from the UNB syntax identifier (UNOA/UNOB ASCII, UNOC ISO-8859-1, UNOD ISO-8859-2,
   * UNOY UTF-8). Set it for senders that declare one encoding and write another.
   */
  encoding: TextEncoding.optional(),
  /** Where the SKU is: `PIA` (additional product id of `piaCodeType`) or `LIN` (the item number). Default PIA. */
  skuFrom: z.enum(['PIA', 'LIN']).default('PIA'),
  /** The PIA item type code of the SKU: SA (supplier's article number), IN (buyer's), BP, … Default SA. */
  piaCodeType: z.string().min(1).max(3).default('SA'),
});

const FilePatternCommon = {
  /** File name glob (`*` any characters, `?` one), e.g. `stany_*.csv`. Files of no pattern are left alone. */
  match: z.string().min(1).regex(/^[^/]+$/, 'expected a file name pattern without folders, e.g. "stany_*.csv"'),
  order: FileOrder,
};

export const StockFilePattern = z.strictObject({
  ...FilePatternCommon,
  entity: z.literal('stock'),
  format: z.discriminatedUnion('type', [StockCsvFormat, EdifactFormat]),
  /** The location of rows without one (no location column, no LOC segment). Default: none (such rows are rejected). */
  location: z.string().min(1).optional(),
});

export const PriceFilePattern = z.strictObject({
  ...FilePatternCommon,
  entity: z.literal('price'),
  format: z.discriminatedUnion('type', [PriceCsvFormat, EdifactFormat]),
  /** The price list of rows without one (EDIFACT: every row). Default: none (such rows are rejected). */
  priceList: z.string().min(1).optional(),
  /** The currency of rows without one (no currency column, no CUX). Default: none (such rows are rejected). */
  currency: CurrencyCode.optional(),
  /** The VAT rate of rows without one, in percent ("23"). Default: none (such rows are rejected). */
  vatRate: DecimalText.optional(),
});

export const FilePattern = z.discriminatedUnion('entity', [StockFilePattern, PriceFilePattern]);
export type FilePattern = z.infer<typeof FilePattern>;
export type StockFilePattern = z.infer<typeof StockFilePattern>;
export type PriceFilePattern = z.infer<typeof PriceFilePattern>;
export type FileEntity = FilePattern['entity'];

export const LegacyFilesConfig = z
  .strictObject({
    sftp: SftpConfig,
    folders: z.strictObject({
      /** Where the sender drops files. Read only. */
      inbox: ServerFolder,
      /** Where applied files (and repeats of applied files) are moved. Must be writable. */
      archive: ServerFolder,
      /** Where unreadable files are moved, each with `<name>.reason.txt`. Must be writable. */
      error: ServerFolder,
    }),
    /** When a file in the inbox is complete. Default `{mode: marker, suffix: ".done"}`. */
    readyWhen: ReadyWhen.default({ mode: 'marker', suffix: '.done' }),
    /** The offset from UTC of times written without one (file names, CSV dates, EDIFACT). Default Z. */
    utcOffset: z.string().regex(UTC_OFFSET, 'expected Z or an offset such as "+01:00"').default('Z'),
    /** Files read (and applied) per page read at most; the rest waits for the next read. Default 20. */
    maxFilesPerRead: z.number().int().min(1).max(1_000).default(20),
    /** Largest page of SKUs a sync may ask for. Default 1000. */
    pageSize: z.number().int().min(1).max(10_000).default(1_000),
    /** What the files are, by name. First matching pattern wins. Required. */
    files: z.array(FilePattern).min(1),
  })
  .superRefine((config, ctx) => {
    const kinds = new Map<FileEntity, { kind: string; index: number }>();
    config.files.forEach((pattern, index) => {
      if (pattern.order.from === 'content' && pattern.format.type !== 'edifact') {
        ctx.addIssue({ code: 'custom', path: ['files', index, 'order', 'from'], message: 'order from "content" reads the EDIFACT document date: a CSV file has none; use "name" or "modifiedTime"' });
      }
      if (pattern.order.from === 'name') {
        const problem = orderPatternProblem(pattern.order.pattern);
        if (problem !== undefined) ctx.addIssue({ code: 'custom', path: ['files', index, 'order', 'pattern'], message: problem });
      }
      const kind = orderKind(pattern.order);
      const first = kinds.get(pattern.entity);
      if (first === undefined) kinds.set(pattern.entity, { kind, index });
      else if (first.kind !== kind) {
        ctx.addIssue({
          code: 'custom',
          path: ['files', index, 'order'],
          message: `${pattern.entity} files are ordered by ${first.kind} at files.${first.index}.order, and by ${kind} here: times and sequence numbers cannot be compared, so all ${pattern.entity} files need the same kind`,
        });
      }
    });
    const { inbox, archive, error } = config.folders;
    if (new Set([inbox, archive, error]).size < 3) ctx.addIssue({ code: 'custom', path: ['folders'], message: 'folders.inbox, folders.archive and folders.error must be three different folders' });
  });
export type LegacyFilesConfig = z.infer<typeof LegacyFilesConfig>;

/** Whether a pattern orders by time or by sequence number. */
export function orderKind(order: FileOrder): 'time' | 'sequence' {
  return order.from === 'name' && /\(\?<sequence>/.test(order.pattern) ? 'sequence' : 'time';
}

/** What is wrong with a file name order pattern, or undefined. */
export function orderPatternProblem(pattern: string): string | undefined {
  let regex: RegExp;
  try {
    regex = new RegExp(pattern);
  } catch (err) {
    return `not a regular expression: ${(err as Error).message}`;
  }
  const groups = ['timestamp', 'sequence'].filter((name) => regex.source.includes(`(?<${name}>`));
  if (groups.length !== 1) return 'expected a regular expression with one named group, (?<timestamp>…) or (?<sequence>…), e.g. "^stany_(?<timestamp>\\d{14})\\.csv$"';
  return undefined;
}
