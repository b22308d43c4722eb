package dev.appliance.cli;

import dev.appliance.api.ApiClient;
import java.io.IOException;
import java.nio.file.Path;
import picocli.CommandLine.Option;

/** Where a command finds the cluster's API and token: --url, $APPLIANCE_URL, or a cluster made by 'cluster up'. */
final class ApiTarget {
    @Option(names = "--url", description = "Daemons' APIs, comma-separated, e.g. http://127.0.0.11:8008 (else $APPLIANCE_URL,"
            + " else $APPLIANCE_CONFIG's).")
    String url;

    @Option(names = "--dir", paramLabel = "DIR", description = "A cluster made by 'cluster up'. Default ./appliance-cluster.")
    Path dir = ClusterCommand.DEFAULT_DIR;

    ApiClient client() throws IOException {
        return ClusterCommand.client(url, dir);
    }
}
