/**
 * Types of the parts of the `edifact` package (node-edifact, Apache-2.0) this connector uses:
 * the streaming Parser, with its encoding level and its event callbacks. The package ships none.
 */
declare module 'edifact' {
  export class Parser {
    /** Character set level: UNOA, UNOB, UNOC, UNOY or UCS2 (UNOY accepts any character). */
    encoding(level: string): void;
    onopensegment: (segment: string) => void;
    onelement: () => void;
    oncomponent: (value: string) => void;
    onclosesegment: () => void;
    write(chunk: string): void;
    end(): void;
  }
}
