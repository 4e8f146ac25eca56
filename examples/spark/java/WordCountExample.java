import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Spark Jobserver's WordCountExample for jetjobs' `script` type: `validate` checks the config and
 * returns the words, `runJob` counts them. Build with `build-java-example.sh OUT.jar`; run with
 * `classPath=WordCountExample` and `input.string = a b c`.
 */
public class WordCountExample {
    /** A refusal: the runner reports any exception whose class name contains "Validation" as one. */
    public static class ValidationException extends RuntimeException {
        private static final long serialVersionUID = 1L;

        public ValidationException(String message) {
            super(message);
        }
    }

    /** The words of {@code input.string}. */
    public Object validate(Map<String, Object> config) {
        Object input = config.get("input");
        Object text = input instanceof Map ? ((Map<?, ?>) input).get("string") : null;
        if (!(text instanceof String)) throw new ValidationException("No input.string param");
        return ((String) text).split(" ");
    }

    /** {word: count}, in order of first occurrence. */
    public Object runJob(Object data) {
        Map<String, Long> counts = new LinkedHashMap<>();
        for (String word : (String[]) data) {
            if (!word.isEmpty()) counts.merge(word, 1L, Long::sum);
        }
        return counts;
    }
}
