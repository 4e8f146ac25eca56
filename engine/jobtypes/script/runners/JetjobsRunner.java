import java.io.PrintWriter;
import java.io.StringWriter;
import java.lang.reflect.Array;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The `script` type's Java runner, started with the single-file source launcher:
 * {@code java -cp app.jar JetjobsRunner.java app.jar}, cwd = the task's work dir. Reads
 * {@code job.json}, loads {@code classPath} from the class path, calls {@code validate} (if any)
 * and {@code runJob}, and writes {@code result.json} (see README.md). JDK only: a tiny JSON reader
 * and writer are inside.
 */
public final class JetjobsRunner {
    private static final int MAX_DEPTH = 512;

    private JetjobsRunner() {}

    public static void main(String[] args) {
        Path workDir = Paths.get("").toAbsolutePath();
        String outcome;
        try {
            outcome = run(workDir);
        } catch (Refusal r) {
            outcome = refusal(r.refusal);
        } catch (Throwable t) {
            outcome = error(t instanceof InvocationTargetException && t.getCause() != null ? t.getCause() : t);
        }
        try {
            Path result = workDir.resolve("result.json");
            Path tmp = workDir.resolve("result.json.tmp");
            Files.write(tmp, outcome.getBytes(StandardCharsets.UTF_8));
            Files.move(tmp, result, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        } catch (Exception e) {
            System.err.println("JetjobsRunner: cannot write result.json: " + e);
            System.exit(1);
        }
        // The job is over when runJob returned: threads it left running must not hold the task.
        System.exit(0);
    }

    private static String run(Path workDir) throws Throwable {
        String text = new String(Files.readAllBytes(workDir.resolve("job.json")), StandardCharsets.UTF_8);
        Object parsed = new JsonReader(text).document();
        if (!(parsed instanceof Map)) throw new IllegalArgumentException("job.json is not a JSON object");
        Map<?, ?> job = (Map<?, ?>) parsed;
        Object config = job.get("config") == null ? new LinkedHashMap<String, Object>() : job.get("config");
        Class<?> cls = Class.forName(String.valueOf(job.get("classPath")), true, JetjobsRunner.class.getClassLoader());
        Target target = new Target(cls);
        Object data = config;
        Method validate = target.method("validate", config, false);
        if (validate != null) {
            Object checked;
            try {
                checked = target.invoke(validate, config);
            } catch (InvocationTargetException e) {
                Throwable cause = e.getCause();
                if (cause != null && cause.getClass().getSimpleName().contains("Validation")) throw new Refusal(cause);
                throw e;
            }
            if (checked != null) data = checked; // null (or a void validate): runJob gets the config
        }
        Object result = target.invoke(target.method("runJob", data, true), data);
        StringBuilder out = new StringBuilder("{\"ok\":true,\"result\":");
        writeJson(result, out, 0);
        return out.append('}').toString();
    }

    /** The job class, instantiated (public no-arg constructor) only when a method it calls is not static. */
    private static final class Target {
        private final Class<?> cls;
        private Object instance;

        Target(Class<?> cls) {
            this.cls = cls;
        }

        /** The public one-argument method `name` that takes `arg`; null if there is none and it is optional. */
        Method method(String name, Object arg, boolean required) throws NoSuchMethodException {
            boolean named = false;
            for (Method m : cls.getMethods()) {
                if (!m.getName().equals(name) || m.getParameterCount() != 1) continue;
                named = true;
                Class<?> p = m.getParameterTypes()[0];
                if (arg == null ? !p.isPrimitive() : p.isInstance(arg)) return m;
            }
            if (!required && !named) return null;
            throw new NoSuchMethodException(cls.getName() + " has no public " + name + "(...) taking "
                    + (arg == null ? "null" : arg.getClass().getName()));
        }

        Object invoke(Method m, Object arg) throws Exception {
            Object self = null;
            if (!Modifier.isStatic(m.getModifiers())) {
                if (instance == null) instance = cls.getConstructor().newInstance();
                self = instance;
            }
            m.setAccessible(true); // a public method of a class that is not itself public
            return m.invoke(self, arg);
        }
    }

    /** validate refused the config: it threw an exception whose class name contains "Validation". */
    private static final class Refusal extends Exception {
        private static final long serialVersionUID = 1L;
        final Throwable refusal;

        Refusal(Throwable refusal) {
            this.refusal = refusal;
        }
    }

    private static String refusal(Throwable t) {
        List<Object> problems = new ArrayList<>();
        try { // an exception may carry its problems: getProblems() returning a collection or an array
            Object list = t.getClass().getMethod("getProblems").invoke(t);
            if (list instanceof Collection) problems.addAll((Collection<?>) list);
            else if (list != null && list.getClass().isArray()) for (int i = 0; i < Array.getLength(list); i++) problems.add(Array.get(list, i));
        } catch (ReflectiveOperationException | RuntimeException ignored) {
            // no getProblems(): the message is the one problem
        }
        String message = t.getMessage() == null ? t.getClass().getSimpleName() : t.getMessage();
        List<Object> texts = new ArrayList<>();
        for (Object p : problems) texts.add(String.valueOf(p));
        if (texts.isEmpty()) texts.add(message);
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("ok", false);
        out.put("kind", "validation");
        out.put("message", message);
        out.put("problems", texts);
        return toJson(out);
    }

    private static String error(Throwable t) {
        StringWriter stack = new StringWriter();
        t.printStackTrace(new PrintWriter(stack));
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("ok", false);
        out.put("kind", "error");
        out.put("message", t.getMessage() == null ? t.toString() : t.getMessage());
        out.put("errorClass", t.getClass().getName());
        out.put("stack", stack.toString());
        return toJson(out);
    }

    private static String toJson(Object value) {
        StringBuilder out = new StringBuilder();
        writeJson(value, out, 0);
        return out.toString();
    }

    /**
     * Map → object (keys by String.valueOf), Iterable and arrays → array, String/Character →
     * string, Number and Boolean as themselves, null; anything else → its toString(). A non-finite
     * number or a structure nested deeper than MAX_DEPTH (or containing itself) cannot be written.
     */
    private static void writeJson(Object v, StringBuilder out, int depth) {
        if (depth > MAX_DEPTH) throw new IllegalArgumentException("the result is nested too deeply (or contains itself)");
        if (v == null) {
            out.append("null");
        } else if (v instanceof Boolean) {
            out.append(v);
        } else if (v instanceof Double || v instanceof Float) {
            double d = ((Number) v).doubleValue();
            if (Double.isNaN(d) || Double.isInfinite(d)) throw new IllegalArgumentException("the result holds " + d + ", which JSON cannot represent");
            out.append(v instanceof Float ? Float.toString((Float) v) : Double.toString(d));
        } else if (v instanceof Long || v instanceof Integer || v instanceof Short || v instanceof Byte
                || v instanceof BigInteger || v instanceof BigDecimal) {
            out.append(v);
        } else if (v instanceof Number) {
            writeJson(((Number) v).doubleValue(), out, depth);
        } else if (v instanceof Map) {
            out.append('{');
            boolean first = true;
            for (Map.Entry<?, ?> e : ((Map<?, ?>) v).entrySet()) {
                if (!first) out.append(',');
                first = false;
                writeString(String.valueOf(e.getKey()), out);
                out.append(':');
                writeJson(e.getValue(), out, depth + 1);
            }
            out.append('}');
        } else if (v instanceof Iterable || v.getClass().isArray()) {
            out.append('[');
            int i = 0;
            if (v instanceof Iterable) {
                for (Object item : (Iterable<?>) v) {
                    if (i++ > 0) out.append(',');
                    writeJson(item, out, depth + 1);
                }
            } else {
                for (; i < Array.getLength(v); i++) {
                    if (i > 0) out.append(',');
                    writeJson(Array.get(v, i), out, depth + 1);
                }
            }
            out.append(']');
        } else {
            writeString(v.toString(), out);
        }
    }

    /** ASCII only: everything else as \\uXXXX, so even a lone surrogate survives. */
    private static void writeString(String s, StringBuilder out) {
        out.append('"');
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c == '"' || c == '\\') out.append('\\').append(c);
            else if (c == '\n') out.append("\\n");
            else if (c == '\r') out.append("\\r");
            else if (c == '\t') out.append("\\t");
            else if (c < 0x20 || c > 0x7e) out.append(String.format("\\u%04x", (int) c));
            else out.append(c);
        }
        out.append('"');
    }

    /** A strict JSON reader: objects → LinkedHashMap, arrays → ArrayList, integers → Long (Double past its range), other numbers → Double. */
    private static final class JsonReader {
        private final String s;
        private int i;

        JsonReader(String s) {
            this.s = s;
        }

        Object document() {
            Object v = value(0);
            space();
            if (i != s.length()) throw fail("trailing characters");
            return v;
        }

        private Object value(int depth) {
            if (depth > MAX_DEPTH) throw fail("nested too deeply");
            space();
            if (i >= s.length()) throw fail("unexpected end");
            char c = s.charAt(i);
            switch (c) {
                case '{': return object(depth);
                case '[': return array(depth);
                case '"': return string();
                case 't': return literal("true", Boolean.TRUE);
                case 'f': return literal("false", Boolean.FALSE);
                case 'n': return literal("null", null);
                default: return number();
            }
        }

        private Map<String, Object> object(int depth) {
            Map<String, Object> map = new LinkedHashMap<>();
            i++;
            space();
            if (peek() == '}') { i++; return map; }
            while (true) {
                space();
                if (peek() != '"') throw fail("expected a key");
                String key = string();
                space();
                expect(':');
                map.put(key, value(depth + 1));
                space();
                if (peek() == ',') { i++; continue; }
                expect('}');
                return map;
            }
        }

        private List<Object> array(int depth) {
            List<Object> list = new ArrayList<>();
            i++;
            space();
            if (peek() == ']') { i++; return list; }
            while (true) {
                list.add(value(depth + 1));
                space();
                if (peek() == ',') { i++; continue; }
                expect(']');
                return list;
            }
        }

        private String string() {
            StringBuilder b = new StringBuilder();
            i++;
            while (true) {
                if (i >= s.length()) throw fail("unterminated string");
                char c = s.charAt(i++);
                if (c == '"') return b.toString();
                if (c < 0x20) throw fail("control character in a string");
                if (c != '\\') { b.append(c); continue; }
                if (i >= s.length()) throw fail("unterminated escape");
                char e = s.charAt(i++);
                switch (e) {
                    case '"': case '\\': case '/': b.append(e); break;
                    case 'b': b.append('\b'); break;
                    case 'f': b.append('\f'); break;
                    case 'n': b.append('\n'); break;
                    case 'r': b.append('\r'); break;
                    case 't': b.append('\t'); break;
                    case 'u':
                        if (i + 4 > s.length()) throw fail("short \\u escape");
                        try {
                            b.append((char) Integer.parseInt(s.substring(i, i + 4), 16));
                        } catch (NumberFormatException x) {
                            throw fail("bad \\u escape");
                        }
                        i += 4;
                        break;
                    default: throw fail("bad escape \\" + e);
                }
            }
        }

        private Object number() {
            int start = i;
            if (peek() == '-') i++;
            int digits = i;
            while (Character.isDigit(peek())) i++;
            if (i == digits) throw fail("unexpected character");
            boolean integral = true;
            if (peek() == '.') { integral = false; i++; while (Character.isDigit(peek())) i++; }
            if (peek() == 'e' || peek() == 'E') {
                integral = false;
                i++;
                if (peek() == '+' || peek() == '-') i++;
                while (Character.isDigit(peek())) i++;
            }
            String text = s.substring(start, i);
            try {
                if (integral) {
                    try {
                        return Long.parseLong(text);
                    } catch (NumberFormatException tooBig) {
                        return Double.parseDouble(text);
                    }
                }
                return Double.parseDouble(text);
            } catch (NumberFormatException x) {
                throw fail("bad number " + text);
            }
        }

        private Object literal(String word, Object v) {
            if (!s.startsWith(word, i)) throw fail("unexpected character");
            i += word.length();
            return v;
        }

        private void space() {
            while (i < s.length() && " \t\r\n".indexOf(s.charAt(i)) >= 0) i++;
        }

        private char peek() {
            return i < s.length() ? s.charAt(i) : '\0';
        }

        private void expect(char c) {
            if (peek() != c) throw fail("expected '" + c + "'");
            i++;
        }

        private IllegalArgumentException fail(String why) {
            return new IllegalArgumentException("job.json: " + why + " at offset " + i);
        }
    }
}
