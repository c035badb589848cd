/**
 * Runs `work` over `items` with at most `concurrency` calls in flight, each lane taking the next
 * item as it finishes one. Rejects with the first error (the other lanes finish their current item).
 */
export async function inLanes<T>(items: readonly T[], concurrency: number, work: (item: T, index: number) => Promise<void>): Promise<void> {
  let next = 0;
  const lane = async () => {
    while (next < items.length) {
      const index = next++;
      await work(items[index]!, index);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(concurrency, items.length)) }, lane));
}
