# Three appliance nodes under Nomad, one per client machine, each pinned to its machine by the host volume that
# holds its data. Run with: nomad job run appliance.nomad.hcl
# Every client that runs a node declares a host volume "appliance" in its client config, owned by uid 999:
#   client { host_volume "appliance" { path = "/srv/appliance" read_only = false } }
# and sets meta.appliance_node to that node's id (n1, n2, n3). docs/deploy.md explains each choice.
variable "nodes" {
  description = "id=address:7000 of every member, the same list the daemons' peers setting takes"
  type        = string
  default     = "n1=10.0.0.11:7000,n2=10.0.0.12:7000,n3=10.0.0.13:7000"
}

job "appliance" {
  type = "service"

  group "node" {
    count = 3

    # One member per machine.
    constraint {
      operator = "distinct_hosts"
      value    = "true"
    }

    # Nomad must not replace a member on another machine: its data (and so its identity) stays on this one.
    reschedule {
      attempts  = 0
      unlimited = false
    }
    restart {
      attempts = 10
      interval = "30m"
      delay    = "15s"
      mode     = "delay"
    }

    volume "data" {
      type      = "host"
      source    = "appliance"
      read_only = false
    }

    network {
      mode = "host"
      port "raft" { static = 7000 }
      port "postgres" { static = 5432 }
      port "api" { static = 8008 }
      port "proxy" { static = 6432 }
    }

    service {
      name     = "appliance-postgres"
      port     = "proxy"
      provider = "nomad"
      check {
        name     = "primary or replica"
        type     = "http"
        port     = "api"
        path     = "/read-only"
        interval = "5s"
        timeout  = "3s"
      }
    }

    task "appliance" {
      driver = "docker"

      config {
        image        = "appliance:latest"
        network_mode = "host"
        # A primary hands over to its sync on SIGTERM before postgres stops.
      }
      kill_signal  = "SIGTERM"
      kill_timeout = "120s"

      volume_mount {
        volume      = "data"
        destination = "/var/lib/appliance"
      }

      env {
        APPLIANCE_NODE_ID      = "${meta.appliance_node}"
        APPLIANCE_HOST         = "${attr.unique.network.ip-address}"
        APPLIANCE_PEERS        = var.nodes
        APPLIANCE_CLUSTER_NAME = "appliance"
      }

      resources {
        cpu    = 1000
        memory = 2048
      }
    }
  }
}
