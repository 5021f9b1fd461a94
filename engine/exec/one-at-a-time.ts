/**
 * Runs work one call at a time, in the order given: a worker process streams one large file at a
 * time (its buffers, and the decoder's or compressor's, are most of a worker's memory) while its
 * small files, read whole, go on beside it.
 *
 *     const oneStream = oneAtATime();
 *     const written = await oneStream(() => copyLargeFile(job));
 */
export function oneAtATime(): <T>(work: () => Promise<T>) => Promise<T> {
  let last: Promise<unknown> = Promise.resolve();
  return (work) => {
    const result = last.then(work, work);
    last = result.catch(() => undefined);
    return result;
  };
}
