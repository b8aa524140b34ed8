let second = -1;
let text = '';

/** The IMF-fixdate for the Date header (RFC 9110 §5.6.7), made once per second. */
export function httpDate(now: number = Date.now()): string {
  const s = Math.floor(now / 1000);
  if (s !== second) {
    second = s;
    text = new Date(s * 1000).toUTCString();
  }
  return text;
}
