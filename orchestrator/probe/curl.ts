// One curl process fetching a URL N times (`curl -K -` reads the N transfers from stdin,
// `--rate` paces them), each reported by its --write-out line, for the scenario step `http`.

/** One line per transfer: status, total time (s), bytes received, curl's own exit code for
 *  it (18: the body ended before its Content-Length, 28: timed out, 7: no connection). */
export const CURL_WRITE_OUT = '%{http_code} %{time_total} %{size_download} %{exitcode}\\n';

export interface Transfer {
  /** HTTP status; 0 when no response came (curl prints 000). */
  status: number;
  ms: number;
  bytes: number;
  curlExit: number;
}

/** `curl -K -` input: the URL `count` times, each body thrown away. */
export function curlConfig(url: string, count: number): string {
  return `url = "${url}"\noutput = "/dev/null"\n`.repeat(count);
}

const LINE = /^(\d{3}) (\d+(?:\.\d+)?) (\d+) (\d+)$/;

/** The --write-out lines; anything else (there should be nothing) is skipped. */
export function parseTransfers(stdout: string): Transfer[] {
  return stdout.split('\n').flatMap((line) => {
    const m = LINE.exec(line.trim());
    // curl prints seconds to the µs: keep exactly that many digits in ms
    return m ? [{ status: Number(m[1]), ms: Math.round(Number(m[2]) * 1e6) / 1e3, bytes: Number(m[3]), curlExit: Number(m[4]) }] : [];
  });
}
