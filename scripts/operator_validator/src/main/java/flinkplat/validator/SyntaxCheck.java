package flinkplat.validator;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.quartz.impl.calendar.CronCalendar;
import org.quartz.impl.calendar.DailyCalendar;

import java.io.BufferedReader;
import java.io.FileDescriptor;
import java.io.FileOutputStream;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.net.URI;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;

/**
 * Reads values the way the operator's validator reads them, so the policy pack's own readings can be compared with
 * the Java libraries the operator runs. Usage: {@code SyntaxCheck quartz|uri}; each input line is a JSON string,
 * each output line a JSON object:
 *
 * <ul>
 *   <li>{@code quartz}: how the autoscaler reads a part of {@code job.autoscaler.excluded.periods}: {@code
 *       {"cron": new CronCalendar(part) succeeds, "daily": exactly two "-"-separated times and new
 *       DailyCalendar(start, end) succeeds}};
 *   <li>{@code uri}: how the session-job jarURI check reads a jarURI: {@code {"scheme": ..., "host": ...}} from
 *       {@code new URI(text)}, or {@code {"error": URISyntaxException.getMessage()}}.
 * </ul>
 */
public final class SyntaxCheck {

    private SyntaxCheck() {}

    public static void main(String[] args) throws Exception {
        PrintStream out = new PrintStream(new FileOutputStream(FileDescriptor.out), true, StandardCharsets.UTF_8);
        System.setOut(System.err);
        String mode = args.length > 0 ? args[0] : "";
        if (!mode.equals("quartz") && !mode.equals("uri")) {
            throw new IllegalArgumentException("usage: SyntaxCheck quartz|uri (one JSON string per input line)");
        }
        ObjectMapper json = new ObjectMapper();
        BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
        String line;
        while ((line = in.readLine()) != null) {
            if (line.isEmpty()) {
                continue;
            }
            String value = json.readValue(line, String.class);
            ObjectNode verdict = json.createObjectNode();
            if (mode.equals("quartz")) {
                verdict.put("cron", isCron(value));
                verdict.put("daily", isDaily(value));
            } else {
                try {
                    URI uri = new URI(value);
                    verdict.put("scheme", uri.getScheme());
                    verdict.put("host", uri.getHost());
                } catch (URISyntaxException e) {
                    verdict.put("error", e.getMessage());
                }
            }
            out.println(json.writeValueAsString(verdict));
        }
        out.flush();
        System.exit(0);
    }

    private static boolean isCron(String part) {
        try {
            new CronCalendar(part);
            return true;
        } catch (Exception e) {
            return false;
        }
    }

    private static boolean isDaily(String part) {
        String[] range = part.split("-");
        if (range.length != 2) {
            return false;
        }
        try {
            new DailyCalendar(range[0], range[1]);
            return true;
        } catch (Exception e) {
            return false;
        }
    }
}
