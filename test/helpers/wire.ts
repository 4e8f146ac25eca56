/**
 * Reading a facade's answer at the wire, as the compat tests assert it: the status, the body as
 * text and, when it parses, as JSON.
 */

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- JSON bodies of a facade's wire, asserted field by field
export type Wire = any;

/** An answer read to its end: `json` is the parsed body, or undefined when the body is not JSON. */
export interface Answer {
  status: number;
  json: Wire;
  text: string;
  headers: Headers;
}

/** Reads `res` to its end (a body that is not JSON, an empty one included, gives `json` undefined). */
export async function readAnswer(res: Response): Promise<Answer> {
  const text = await res.text();
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: res.status, json, text, headers: res.headers };
}
