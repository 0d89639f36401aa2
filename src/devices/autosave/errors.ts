/** Errors of the autosave layer: always name the file and, where there is one, the line. */
export class AutosaveError extends Error {
  constructor(
    message: string,
    /** The .req or .sav file concerned (as given). */
    public readonly file: string,
    /** 1-based line number, or 0 when the error is not tied to a line. */
    public readonly line = 0,
  ) {
    super(line > 0 ? `${file}:${line}: ${message}` : `${file}: ${message}`);
    this.name = 'AutosaveError';
  }
}
