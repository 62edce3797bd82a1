package flinkplat.validator;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.MappingIterator;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.kubernetes.operator.api.FlinkDeployment;
import org.apache.flink.kubernetes.operator.api.FlinkSessionJob;
import org.apache.flink.kubernetes.operator.config.FlinkConfigManager;
import org.apache.flink.kubernetes.operator.utils.ValidatorUtils;
import org.apache.flink.kubernetes.operator.validation.FlinkResourceValidator;

import java.io.FileDescriptor;
import java.io.FileOutputStream;
import java.io.InputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;

/**
 * Runs the Flink Kubernetes Operator's validators on FlinkDeployment / FlinkSessionJob documents.
 *
 * <p>Usage: {@code Main [--operator-config key=value ...] [FILE ...]}; no FILE (or {@code -}) reads stdin. Every
 * file holds YAML documents (JSON is YAML too). Prints one JSON line per document, in input order:
 * {@code {"index": n, "kind": ..., "namespace": ..., "name": ..., "error": <message or null>}}; a document the
 * operator's model cannot read gets {@code "error": null, "phase": "read", "exception": "..."} instead, one a
 * validator throws on {@code "phase": "validate"}, any other kind {@code "skipped": true}.
 *
 * <p>The validators are built the way the operator builds them at start-up: a {@code FlinkConfigManager} over the
 * operator configuration (defaults, plus any {@code --operator-config}), then {@code
 * ValidatorUtils.discoverValidators}, which returns the {@code DefaultValidator} and any validator plugins. A
 * session job is validated together with its session cluster: the FlinkDeployment of the same namespace named by
 * {@code spec.deploymentName} if it is among the input documents (as the webhook looks it up in its informer),
 * else none.
 */
public final class Main {

    private Main() {}

    public static void main(String[] args) {
        int status = 0;
        try {
            run(args);
        } catch (Throwable t) {
            t.printStackTrace();
            status = 2;
        }
        // FlinkConfigManager starts a non-daemon thread that polls for dynamic config changes: exit explicitly.
        System.exit(status);
    }

    private static void run(String[] args) throws Exception {
        // Results go to the real stdout; anything a library prints to System.out goes to stderr instead.
        PrintStream out =
                new PrintStream(new FileOutputStream(FileDescriptor.out), true, StandardCharsets.UTF_8);
        System.setOut(System.err);

        Map<String, String> operatorConfig = new HashMap<>();
        List<String> files = new ArrayList<>();
        for (int i = 0; i < args.length; i++) {
            if (args[i].equals("--operator-config") && i + 1 < args.length) {
                String kv = args[++i];
                int eq = kv.indexOf('=');
                if (eq < 1) {
                    throw new IllegalArgumentException("--operator-config needs key=value, got " + kv);
                }
                operatorConfig.put(kv.substring(0, eq), kv.substring(eq + 1));
            } else {
                files.add(args[i]);
            }
        }
        if (files.isEmpty()) {
            files.add("-");
        }

        ObjectMapper yaml = new ObjectMapper(new YAMLFactory());
        ObjectMapper json = new ObjectMapper();
        // The API server has already pruned or rejected unknown fields; the operator's own client ignores them.
        ObjectMapper model =
                new ObjectMapper().configure(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES, false);

        List<JsonNode> docs = new ArrayList<>();
        for (String file : files) {
            try (InputStream in = file.equals("-") ? System.in : Files.newInputStream(Path.of(file))) {
                MappingIterator<JsonNode> it = yaml.readerFor(JsonNode.class).readValues(in);
                while (it.hasNext()) {
                    JsonNode doc = it.next();
                    if (doc != null && !doc.isNull() && !doc.isMissingNode()) {
                        docs.add(doc);
                    }
                }
            }
        }

        FlinkConfigManager configManager =
                new FlinkConfigManager(Configuration.fromMap(operatorConfig));
        Set<FlinkResourceValidator> validators = ValidatorUtils.discoverValidators(configManager);

        // Session clusters by namespace/name, for the session jobs.
        Map<String, FlinkDeployment> deployments = new HashMap<>();
        List<Object> parsed = new ArrayList<>();
        for (JsonNode doc : docs) {
            Object resource;
            try {
                switch (doc.path("kind").asText()) {
                    case "FlinkDeployment":
                        FlinkDeployment dep = model.treeToValue(doc, FlinkDeployment.class);
                        deployments.put(key(dep.getMetadata().getNamespace(), dep.getMetadata().getName()), dep);
                        resource = dep;
                        break;
                    case "FlinkSessionJob":
                        resource = model.treeToValue(doc, FlinkSessionJob.class);
                        break;
                    default:
                        resource = null;
                }
            } catch (Exception e) {
                resource = e;
            }
            parsed.add(resource);
        }

        for (int i = 0; i < docs.size(); i++) {
            JsonNode doc = docs.get(i);
            ObjectNode line = json.createObjectNode();
            line.put("index", i);
            line.put("kind", doc.path("kind").asText(null));
            line.put("namespace", doc.path("metadata").path("namespace").asText(null));
            line.put("name", doc.path("metadata").path("name").asText(null));
            Object resource = parsed.get(i);
            if (resource == null) {
                line.put("skipped", true);
            } else if (resource instanceof Exception) {
                line.putNull("error");
                line.put("phase", "read");
                line.put("exception", describe((Exception) resource));
            } else {
                try {
                    Optional<String> error = validate(validators, resource, deployments);
                    if (error.isPresent()) {
                        line.put("error", error.get());
                    } else {
                        line.putNull("error");
                    }
                } catch (Exception e) {
                    // The webhook turns this into a denied request; the reconciler into a failed reconcile.
                    line.putNull("error");
                    line.put("phase", "validate");
                    line.put("exception", describe(e));
                }
            }
            out.println(json.writeValueAsString(line));
        }
        out.flush();
    }

    /** The first error of any validator, as the operator reports the first one and stops. */
    private static Optional<String> validate(
            Set<FlinkResourceValidator> validators,
            Object resource,
            Map<String, FlinkDeployment> deployments) {
        for (FlinkResourceValidator validator : validators) {
            Optional<String> error;
            if (resource instanceof FlinkDeployment) {
                error = validator.validateDeployment((FlinkDeployment) resource);
            } else {
                FlinkSessionJob job = (FlinkSessionJob) resource;
                String target = job.getSpec() == null ? null : job.getSpec().getDeploymentName();
                Optional<FlinkDeployment> session =
                        Optional.ofNullable(
                                deployments.get(key(job.getMetadata().getNamespace(), target)));
                error = validator.validateSessionJob(job, session);
            }
            if (error.isPresent()) {
                return error;
            }
        }
        return Optional.empty();
    }

    private static String key(String namespace, String name) {
        return Objects.toString(namespace, "") + "/" + Objects.toString(name, "");
    }

    private static String describe(Exception e) {
        StringBuilder sb = new StringBuilder(e.toString());
        for (Throwable c = e.getCause(); c != null && c != c.getCause(); c = c.getCause()) {
            sb.append(" <- ").append(c);
        }
        return sb.toString();
    }
}
