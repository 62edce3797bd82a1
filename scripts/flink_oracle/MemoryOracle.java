/*
 * Batch harness around Flink's own memory derivation (flink-platform test oracle).
 *
 * Reads one flat JSON object of Flink config keys per stdin line, e.g.
 *     {"taskmanager.memory.process.size": "1728m", "taskmanager.memory.managed.fraction": 0.25}
 * and writes, for every input line, exactly one stdout line
 *     ORACLE\t{"tm": RESULT, "jm": RESULT}
 * JSON strings become String values (like `-D key=value` or a legacy flink-conf.yaml); JSON numbers and booleans
 * become Integer/Long/BigInteger/Double/Boolean values, as Flink's standard-YAML config.yaml loader stores them.
 * RESULT is {"ok": true, "jvm": "<JVM parameters>", "dyn": "<dynamic configs>"} or
 * {"ok": false, "class": "<exception class>", "error": "<message>", "causes": ["<cause message>", ...]}.
 *
 * The derivation is exactly what `BashJavaUtils GET_TM_RESOURCE_PARAMS` / `GET_JM_RESOURCE_PARAMS` runs after
 * loading the configuration: the private static BashJavaUtils#getTmResourceParams(Configuration) and
 * #getJmResourceParams(Configuration) are invoked by reflection, so 1.x and 2.x behave as their CLI does.
 * Flink's own log output is discarded; a reader should still ignore stdout lines not starting with "ORACLE\t".
 *
 * Usage: java -cp bash-java-utils.jar:flink-dist-<v>.jar:<classes> MemoryOracle < configs.jsonl
 * Run with FLINK_TM_HEAP / FLINK_JM_HEAP unset (Flink 1.x reads them).
 */

import org.apache.flink.configuration.Configuration;
import org.apache.flink.runtime.util.bash.BashJavaUtils;

import java.io.BufferedReader;
import java.io.BufferedWriter;
import java.io.FileDescriptor;
import java.io.FileOutputStream;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.io.OutputStreamWriter;
import java.io.PrintStream;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

public final class MemoryOracle {

    private MemoryOracle() {}

    public static void main(String[] args) throws Exception {
        // Flink logs (INFO lines from the derivation) go to System.out through the console appender bundled in
        // bash-java-utils.jar; results are written to the real stdout descriptor and System.out is silenced
        // before any Flink class is initialised.
        BufferedWriter out =
                new BufferedWriter(
                        new OutputStreamWriter(
                                new FileOutputStream(FileDescriptor.out), StandardCharsets.UTF_8));
        System.setOut(new PrintStream(OutputStream.nullOutputStream()));

        Method tm = BashJavaUtils.class.getDeclaredMethod("getTmResourceParams", Configuration.class);
        Method jm = BashJavaUtils.class.getDeclaredMethod("getJmResourceParams", Configuration.class);
        Method set = Configuration.class.getDeclaredMethod("setValueInternal", String.class, Object.class);
        tm.setAccessible(true);
        jm.setAccessible(true);
        set.setAccessible(true);

        BufferedReader in =
                new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
        String line;
        while ((line = in.readLine()) != null) {
            if (line.trim().isEmpty()) {
                continue;
            }
            StringBuilder sb = new StringBuilder("ORACLE\t{");
            Map<String, Object> values;
            try {
                values = new JsonObjectParser(line).parse();
            } catch (RuntimeException e) {
                sb.append("\"input_error\": ").append(quote(String.valueOf(e.getMessage())));
                out.write(sb.append("}\n").toString());
                out.flush();
                continue;
            }
            sb.append("\"tm\": ").append(run(tm, configuration(set, values)));
            sb.append(", \"jm\": ").append(run(jm, configuration(set, values)));
            out.write(sb.append("}\n").toString());
            out.flush();
        }
    }

    private static Configuration configuration(Method set, Map<String, Object> values) throws Exception {
        Configuration conf = new Configuration();
        for (Map.Entry<String, Object> e : values.entrySet()) {
            set.invoke(conf, e.getKey(), e.getValue());
        }
        return conf;
    }

    private static String run(Method method, Configuration conf) {
        try {
            @SuppressWarnings("unchecked")
            List<String> result = (List<String>) method.invoke(null, conf);
            return "{\"ok\": true, \"jvm\": " + quote(result.get(0)) + ", \"dyn\": " + quote(result.get(1)) + "}";
        } catch (InvocationTargetException e) {
            return failure(e.getCause());
        } catch (Throwable t) {
            return failure(t);
        }
    }

    private static String failure(Throwable t) {
        StringBuilder sb = new StringBuilder("{\"ok\": false, \"class\": ");
        sb.append(quote(t.getClass().getName()));
        sb.append(", \"error\": ").append(quote(String.valueOf(t.getMessage())));
        sb.append(", \"causes\": [");
        Map<Throwable, Boolean> seen = new IdentityHashMap<>();
        seen.put(t, true);
        Throwable cause = t.getCause();
        boolean first = true;
        while (cause != null && !seen.containsKey(cause)) {
            seen.put(cause, true);
            if (!first) {
                sb.append(", ");
            }
            first = false;
            sb.append(quote(cause.getClass().getName() + ": " + cause.getMessage()));
            cause = cause.getCause();
        }
        return sb.append("]}").toString();
    }

    static String quote(String s) {
        StringBuilder sb = new StringBuilder(s.length() + 2).append('"');
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '"': sb.append("\\\""); break;
                case '\\': sb.append("\\\\"); break;
                case '\n': sb.append("\\n"); break;
                case '\r': sb.append("\\r"); break;
                case '\t': sb.append("\\t"); break;
                default:
                    if (c < 0x20 || c > 0x7e) {
                        sb.append(String.format("\\u%04x", (int) c));
                    } else {
                        sb.append(c);
                    }
            }
        }
        return sb.append('"').toString();
    }

    /** Minimal parser for one flat JSON object whose values are strings, numbers or booleans. */
    static final class JsonObjectParser {
        private final String s;
        private int pos;

        JsonObjectParser(String s) {
            this.s = s;
        }

        Map<String, Object> parse() {
            Map<String, Object> map = new LinkedHashMap<>();
            skipWs();
            expect('{');
            skipWs();
            if (peek() == '}') {
                pos++;
                return map;
            }
            while (true) {
                skipWs();
                String key = string();
                skipWs();
                expect(':');
                skipWs();
                Object value = peek() == '"' ? string() : typed(bare());
                map.put(key, value);
                skipWs();
                char c = next();
                if (c == '}') {
                    return map;
                }
                if (c != ',') {
                    throw new IllegalArgumentException("expected ',' or '}' at " + (pos - 1));
                }
            }
        }

        /** A bare JSON token as snakeyaml would type it: Boolean, Integer, Long, BigInteger or Double. */
        private static Object typed(String token) {
            if (token.equals("true") || token.equals("false")) {
                return Boolean.valueOf(token);
            }
            if (token.matches("-?[0-9]+")) {
                BigInteger big = new BigInteger(token);
                if (big.bitLength() < 32) {
                    return big.intValue();
                }
                return big.bitLength() < 64 ? (Object) big.longValue() : big;
            }
            return Double.parseDouble(token); // also NaN, Infinity, -Infinity
        }

        private String bare() {
            int start = pos;
            while (pos < s.length() && ",}".indexOf(s.charAt(pos)) < 0 && !Character.isWhitespace(s.charAt(pos))) {
                pos++;
            }
            return s.substring(start, pos);
        }

        private String string() {
            expect('"');
            StringBuilder sb = new StringBuilder();
            while (true) {
                char c = next();
                if (c == '"') {
                    return sb.toString();
                }
                if (c != '\\') {
                    sb.append(c);
                    continue;
                }
                char e = next();
                switch (e) {
                    case '"': sb.append('"'); break;
                    case '\\': sb.append('\\'); break;
                    case '/': sb.append('/'); break;
                    case 'b': sb.append('\b'); break;
                    case 'f': sb.append('\f'); break;
                    case 'n': sb.append('\n'); break;
                    case 'r': sb.append('\r'); break;
                    case 't': sb.append('\t'); break;
                    case 'u':
                        if (pos + 4 > s.length()) {
                            throw new IllegalArgumentException("bad \\u escape");
                        }
                        sb.append((char) Integer.parseInt(s.substring(pos, pos + 4), 16));
                        pos += 4;
                        break;
                    default:
                        throw new IllegalArgumentException("bad escape \\" + e);
                }
            }
        }

        private void skipWs() {
            while (pos < s.length() && Character.isWhitespace(s.charAt(pos))) {
                pos++;
            }
        }

        private char peek() {
            if (pos >= s.length()) {
                throw new IllegalArgumentException("unexpected end of input");
            }
            return s.charAt(pos);
        }

        private char next() {
            char c = peek();
            pos++;
            return c;
        }

        private void expect(char c) {
            if (next() != c) {
                throw new IllegalArgumentException("expected '" + c + "' at " + (pos - 1));
            }
        }
    }
}
