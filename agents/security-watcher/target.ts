/** What the rules look at: an inspected container or image, with the host facts they need. */
import type Dockerode from 'dockerode';
import type { FindingObject } from '../../shared/findings/finding';

export interface HostFacts {
  /** The engine confines containers with AppArmor (`/info` SecurityOptions has name=apparmor). */
  apparmor: boolean;
  /** The engine labels containers with SELinux (name=selinux). */
  selinux: boolean;
  /** Paths of the engine's API socket on the host: docker.sock and the one we talk to. */
  dockerSockets: readonly string[];
}

export interface ContainerTarget extends ContainerContext {
  object: FindingObject;
  info: Dockerode.ContainerInspectInfo;
  host: HostFacts;
  /** Bind-mount sources with symlinks resolved on the host, by source as inspect shows it. */
  resolvedSources: ReadonlyMap<string, string>;
  /** Its init process is in the host's IPC namespace (the kernel's answer; undefined when not visible). */
  hostIpc?: boolean;
  /** The allow-list of image references (globs), empty when every image is allowed. */
  allowedImages: (image: string) => boolean;
  hasImageAllowList: boolean;
  /** The image's tags and digests when the container names it by ID or digest only (else empty). */
  imageAliases: readonly string[];
}

/** A namespace joined from another container (`--network container:db`), followed to its owner. */
export interface JoinedNamespace {
  /** The containers passed through, in order. */
  via: string[];
  /** The mode of the last one (`host`, `bridge`…), or what was left to follow when it could not be asked. */
  mode: string;
  error?: string;
}

/** What the engine tells about a container beyond its inspect (see objects.containerContext). */
export interface ContainerContext {
  joined?: Partial<Record<'NetworkMode' | 'PidMode' | 'IpcMode', JoinedNamespace>>;
  /** Local volumes created with `o=bind`: volume name → the host directory they mount. */
  volumeDevices?: ReadonlyMap<string, string>;
  /** The processes of a running container (GET /containers/{id}/top), or why they could not be listed. */
  processes?: { list: Array<{ comm: string; args: string }> } | { error: string };
}

export interface ImageTarget {
  object: FindingObject;
  info: Dockerode.ImageInspectInfo;
  /** `CreatedBy` of each history layer, newest first, when it was read. */
  history?: readonly string[];
}

/** An exec as GET /exec/{id}/json describes it, with the container it runs in. */
export interface ExecTarget {
  object: FindingObject;
  execId: string;
  /** ProcessConfig of the exec inspect. */
  process: {
    tty: boolean;
    entrypoint: string;
    arguments: string[];
    privileged: boolean;
    user?: string;
    openStdin?: boolean;
  };
  /** The container's Config.User, which an exec without a user inherits. */
  containerUser: string;
}

/** Something that happened to a container that rules judge from the event alone (docker cp). */
export interface EventTarget {
  object: FindingObject;
  action: string;
  detail: string;
  attributes: Readonly<Record<string, string>>;
  timeNano: string;
}
