/** A one-line progress bar for a terminal; plain lines when the output is not a TTY (CI logs). */
export function createProgressBar(stream: NodeJS.WriteStream | NodeJS.WritableStream, label: string, total: number) {
  const isTty = Boolean((stream as NodeJS.WriteStream).isTTY);
  let lastPlainPercent = -1;
  return {
    update(done: number) {
      const fraction = total > 0 ? Math.min(1, done / total) : 1;
      const percent = Math.floor(fraction * 100);
      if (isTty) {
        const width = 30;
        const filled = Math.round(fraction * width);
        stream.write(`\r${label} [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${done}/${total} (${percent}%)`);
      } else if (percent >= lastPlainPercent + 10 || (percent === 100 && lastPlainPercent !== 100)) {
        lastPlainPercent = percent;
        stream.write(`${label}: ${done}/${total} (${percent}%)\n`);
      }
    },
    finish() {
      if (isTty) stream.write('\n');
    },
  };
}
