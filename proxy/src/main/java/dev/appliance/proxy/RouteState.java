package dev.appliance.proxy;

/**
 * Where a leader route sends new connections now, as the node loop decides it from the agreed state. The proxy
 * only carries it out; a change of target closes every connection to the previous one.
 */
public sealed interface RouteState {
    /** Forward to the primary {@code member}'s postgres at {@code host:port}. */
    record Forward(String member, String host, int port) implements RouteState {
        @Override
        public String toString() {
            return member + " (" + host + ":" + port + ")";
        }
    }

    /** No primary takes clients now (a failover or switchover is under way): hold new connections. */
    record Hold(String why) implements RouteState {
    }

    /** This node must not route (its view of the cluster is stale): refuse new connections, close the others. */
    record Refuse(String why) implements RouteState {
    }
}
