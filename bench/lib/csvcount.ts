/** Counts the data rows of the CSV files a run wrote (rows hold numbers and ids: no quoted newlines). */
import fs from 'node:fs';
import path from 'node:path';

export function countCsvRows(dir: string, prefix: string): { files: number; rows: number } {
  let files = 0;
  let rows = 0;
  if (!fs.existsSync(dir)) return { files, rows };
  for (const f of fs.readdirSync(dir)) {
    if (!f.startsWith(prefix) || !f.endsWith('.csv')) continue;
    files++;
    const fd = fs.openSync(path.join(dir, f), 'r');
    const buf = Buffer.allocUnsafe(1 << 20);
    let lines = 0;
    try {
      for (;;) {
        const n = fs.readSync(fd, buf, 0, buf.length, null);
        if (n === 0) break;
        let i = -1;
        while ((i = buf.indexOf(10, i + 1)) !== -1 && i < n) lines++;
      }
    } finally {
      fs.closeSync(fd);
    }
    rows += lines - 1; // the header, once per file
  }
  return { files, rows };
}
