# quayside on every Nomad client that runs Docker: a system job, one group per agent.
#   nomad job run -var image=registry.example.com/quayside/quayside:0.1.0 deploy/nomad/quayside.nomad.hcl
# The Docker task driver must allow the host bind mounts below: in the client's plugin "docker"
# config, `volumes { enabled = true }`. Each task's services are registered in Nomad (provider
# "nomad"), tagged "quayside", for Prometheus' nomad_sd_configs (deploy/prometheus/prometheus-cluster.yml).
#
# Least privilege for every agent: the image's user 10001 with the Docker socket's group only
# (docker_gid), read-only root filesystem, every capability dropped, no-new-privileges, and only
# the mounts it needs, each with its reason beside it. Nothing is privileged.

variable "image" {
  type        = string
  default     = "quayside/quayside:0.1.0"
  description = "The quayside image, pullable by every client"
}

variable "docker_gid" {
  type        = string
  default     = "999"
  description = "Group id of /var/run/docker.sock on the clients (stat -c %g /var/run/docker.sock)"
}

variable "consul_uri" {
  type        = string
  default     = "consul://127.0.0.1:8500"
  description = "The client's local Consul agent, for the registrator"
}

variable "route_uris" {
  type        = string
  default     = "syslog+tcp://logs.example.internal:514"
  description = "Where the logrouter ships logs (comma-separated route URIs)"
}

job "quayside" {
  type        = "system"
  datacenters = ["*"]

  update {
    max_parallel = 1
    stagger      = "10s"
  }

  group "registrator" {
    network {
      mode = "host"
      port "http" {
        static = 9478
      }
    }

    task "registrator" {
      driver = "docker"

      config {
        image           = var.image
        args            = ["registrator", var.consul_uri]
        ports           = ["http"]
        # The host network: it registers the node's address and reaches its Consul agent.
        network_mode = "host"
        readonly_rootfs = true
        cap_drop        = ["all"]
        security_opt    = ["no-new-privileges"]
        group_add       = [var.docker_gid]

        # Container list, inspect and events: which services run where.
        mount {
          type     = "bind"
          source   = "/var/run/docker.sock"
          target   = "/var/run/docker.sock"
          readonly = true
        }

        # Ownership records of what this node registered, kept across restarts (a Docker volume on the client).
        mount {
          type     = "volume"
          source   = "quayside-registrator-state"
          target   = "/var/lib/quayside"
          readonly = false
        }
      }

      env {
        QUAYSIDE_LISTEN     = "0.0.0.0:9478"
        QUAYSIDE_LOG_FORMAT = "json"
      }

      service {
        provider = "nomad"
        name     = "quayside-registrator"
        port     = "http"
        tags     = ["quayside", "registrator"]

        check {
          type     = "http"
          path     = "/readyz"
          interval = "15s"
          timeout  = "5s"
        }
      }

      resources {
        cpu        = 50
        memory     = 128
        memory_max = 256
      }
    }
  }

  group "logrouter" {
    network {
      port "http" {
        static = 9479
        to     = 9477
      }
    }

    task "logrouter" {
      driver = "docker"

      config {
        image           = var.image
        args            = ["logrouter"]
        ports           = ["http"]
        readonly_rootfs = true
        cap_drop        = ["all"]
        security_opt    = ["no-new-privileges"]
        group_add       = [var.docker_gid]

        # Containers, their events and their log streams.
        mount {
          type     = "bind"
          source   = "/var/run/docker.sock"
          target   = "/var/run/docker.sock"
          readonly = true
        }

        # Per-container log checkpoints: no loss, no duplicates across restarts.
        mount {
          type     = "volume"
          source   = "quayside-logrouter-state"
          target   = "/var/lib/quayside"
          readonly = false
        }
      }

      env {
        QUAYSIDE_LISTEN     = "0.0.0.0:9477"
        QUAYSIDE_LOG_FORMAT = "json"
        ROUTE_URIS          = var.route_uris
        # Its own container opts out of reading (it knows itself by hostname only where that is the container ID).
        LOGSPOUT            = "ignore"
      }

      service {
        provider = "nomad"
        name     = "quayside-logrouter"
        port     = "http"
        tags     = ["quayside", "logrouter"]

        check {
          type     = "http"
          path     = "/readyz"
          interval = "15s"
          timeout  = "5s"
        }
      }

      resources {
        cpu        = 50
        memory     = 128
        memory_max = 256
      }
    }
  }

  group "stats-exporter" {
    network {
      port "http" {
        static = 9612
        to     = 9612
      }
    }

    task "stats-exporter" {
      driver = "docker"

      config {
        image           = var.image
        # The image's `quayside` under node with V8 flags that keep the exporter under 80 MB while
        # scraped (README, stats-exporter); not settable through NODE_OPTIONS. Only this agent.
        entrypoint      = ["node", "--max-semi-space-size=1", "--optimize-for-size", "/usr/local/bin/quayside"]
        args            = ["stats-exporter"]
        ports           = ["http"]
        readonly_rootfs = true
        cap_drop        = ["all"]
        security_opt    = ["no-new-privileges"]
        # The socket's group; and the root group, which may only pass through the data root (0710
        # root:root) to the writable layers (container_fs_*): no capability needed.
        group_add       = [var.docker_gid, "0"]

        # Container list, inspect and events: which containers to read.
        mount {
          type     = "bind"
          source   = "/var/run/docker.sock"
          target   = "/var/run/docker.sock"
          readonly = true
        }

        # CPU, memory, I/O and process counters come from the host's cgroup files.
        mount {
          type     = "bind"
          source   = "/sys/fs/cgroup"
          target   = "/host/sys/fs/cgroup"
          readonly = true
        }

        # Network counters (/proc/<pid>/net/dev) and each container's cgroup path.
        mount {
          type     = "bind"
          source   = "/proc"
          target   = "/host/proc"
          readonly = true
        }

        # container_fs_*: the writable layers, at the host path inspect names.
        mount {
          type     = "bind"
          source   = "/var/lib/docker"
          target   = "/var/lib/docker"
          readonly = true
        }

        # Nothing to keep, but the state folder must be writable on a read-only root (a new Docker
        # volume takes the image folder's owner, user 10001; a tmpfs would be root's).
        mount {
          type     = "volume"
          source   = "quayside-stats-exporter-scratch"
          target   = "/var/lib/quayside"
          readonly = false
        }
      }

      env {
        QUAYSIDE_LISTEN            = "0.0.0.0:9612"
        QUAYSIDE_LOG_FORMAT        = "json"
        QUAYSIDE_STATS_CGROUP_ROOT = "/host/sys/fs/cgroup"
        QUAYSIDE_STATS_PROC_ROOT   = "/host/proc"
        # glibc's malloc: scrape-sized buffers mapped, and given back when freed (README, stats-exporter).
        MALLOC_MMAP_THRESHOLD_ = "131072"
      }

      service {
        provider = "nomad"
        name     = "quayside-stats-exporter"
        port     = "http"
        tags     = ["quayside", "stats-exporter"]

        check {
          type     = "http"
          path     = "/readyz"
          interval = "15s"
          timeout  = "5s"
        }
      }

      resources {
        cpu        = 50
        memory     = 128
        memory_max = 256
      }
    }
  }

  group "label-inspector" {
    network {
      port "http" {
        static = 9477
        to     = 9477
      }
    }

    task "label-inspector" {
      driver = "docker"

      config {
        image           = var.image
        args            = ["label-inspector"]
        ports           = ["http"]
        readonly_rootfs = true
        cap_drop        = ["all"]
        security_opt    = ["no-new-privileges"]
        group_add       = [var.docker_gid]

        # Images, containers and their events, to check their labels.
        mount {
          type     = "bind"
          source   = "/var/run/docker.sock"
          target   = "/var/run/docker.sock"
          readonly = true
        }

        # Nothing to keep, but the state folder must be writable on a read-only root (a new Docker
        # volume takes the image folder's owner, user 10001; a tmpfs would be root's).
        mount {
          type     = "volume"
          source   = "quayside-label-inspector-scratch"
          target   = "/var/lib/quayside"
          readonly = false
        }
      }

      env {
        QUAYSIDE_LISTEN     = "0.0.0.0:9477"
        QUAYSIDE_LOG_FORMAT = "json"
      }

      service {
        provider = "nomad"
        name     = "quayside-label-inspector"
        port     = "http"
        tags     = ["quayside", "label-inspector"]

        check {
          type     = "http"
          path     = "/readyz"
          interval = "15s"
          timeout  = "5s"
        }
      }

      resources {
        cpu        = 50
        memory     = 128
        memory_max = 256
      }
    }
  }

  group "security-watcher" {
    network {
      port "http" {
        static = 9480
        to     = 9477
      }
    }

    task "security-watcher" {
      driver = "docker"

      config {
        image           = var.image
        args            = ["security-watcher"]
        ports           = ["http"]
        readonly_rootfs = true
        cap_drop        = ["all"]
        security_opt    = ["no-new-privileges"]
        group_add       = [var.docker_gid]

        # Inspect, events and exec details; in enforce mode pause, stop, kill and network disconnect, all through the API.
        mount {
          type     = "bind"
          source   = "/var/run/docker.sock"
          target   = "/var/run/docker.sock"
          readonly = true
        }

        # Nothing to keep, but the state folder must be writable on a read-only root (a new Docker
        # volume takes the image folder's owner, user 10001; a tmpfs would be root's).
        mount {
          type     = "volume"
          source   = "quayside-security-watcher-scratch"
          target   = "/var/lib/quayside"
          readonly = false
        }
      }

      env {
        QUAYSIDE_LISTEN     = "0.0.0.0:9477"
        QUAYSIDE_LOG_FORMAT = "json"
      }

      service {
        provider = "nomad"
        name     = "quayside-security-watcher"
        port     = "http"
        tags     = ["quayside", "security-watcher"]

        check {
          type     = "http"
          path     = "/readyz"
          interval = "15s"
          timeout  = "5s"
        }
      }

      resources {
        cpu        = 50
        memory     = 128
        memory_max = 256
      }
    }
  }
}
