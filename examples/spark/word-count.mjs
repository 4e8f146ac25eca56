/**
 * Spark Jobserver's WordCountExample for jetjobs' `script` type: `validate` checks the config and
 * returns the words, `runJob` counts them. Upload this file as a binary and run it with
 * `classPath=WordCountExample` (or `spark.jobserver.WordCountExample`) and `input.string = a b c`.
 */
export const WordCountExample = {
  /** The words of `input.string`, or a refusal when it is missing. */
  validate(_context, config) {
    const text = config?.input?.string;
    if (typeof text !== 'string') return { problems: ['No input.string param'] };
    return text.split(' ').filter((word) => word !== '');
  },

  /** {word: count}, in order of first occurrence. */
  runJob(_context, words) {
    const counts = new Map();
    for (const word of words) counts.set(word, (counts.get(word) ?? 0) + 1);
    return Object.fromEntries(counts);
  },
};
