import HTTP

/// What went wrong talking to Docker or touching Connectware's containers and volumes,
/// with what the operator needs to act: the socket, the volume, the container, the file.
public enum DockerOpsError: Error, Equatable, Sendable, CustomStringConvertible {
    /// DOCKER_HOST names a transport DockerOps does not speak (tcp://, ssh://, …).
    case unsupportedHost(String)
    /// The Engine API did not answer on the socket.
    case unreachable(socket: String, message: String)
    /// libcurl, through which every Engine call goes, cannot be loaded on this host.
    case libraryUnavailable(reason: String)
    /// The Engine accepted the call but did not answer it completely within its deadline.
    case engineTimedOut(call: String, socket: String, seconds: Int)
    /// The socket exists but this user may not use it.
    case permissionDenied(socket: String)
    /// The Engine answered with an error status.
    case engine(call: String, status: Int, message: String)
    /// The Engine's answer could not be understood.
    case unexpectedAnswer(call: String, message: String)
    case noInstallation(label: String)
    /// Containers of more than one compose project carry the Connectware label.
    case severalProjects([String])
    case noSuchVolume(String)
    case containerDidNotStop(name: String)

    // The interlocks of volume removal, one case per reason.
    /// The volume is not in the playbook's removable set (certs and every other volume stay).
    case volumeNotRemovable(volume: String, removable: [String])
    /// A container, running or stopped, still uses the volume.
    case volumeInUse(volume: String, containers: [String])
    /// No snapshot of the volume was given, or it does not exist.
    case snapshotMissing(volume: String, path: String)
    /// The snapshot exists but does not verify: its hash, its manifest, or its contents disagree.
    case snapshotNotVerified(volume: String, path: String, reason: String)
    /// The volume changed after its snapshot began: the snapshot does not hold all of it.
    case snapshotOutdated(volume: String, path: String, reason: String)
    /// A snapshot of the PostgreSQL volume without a data directory (`PG_VERSION`) in it.
    case notAPostgreSQLSnapshot(volume: String, path: String)
    /// A service keeps its data in a host directory where the plan expects a named volume.
    case bindMountAtVolume(volume: String, container: String, source: String, destination: String)

    case volumeNotEmpty(volume: String, mountpoint: String)
    /// The volume's directory cannot be reached from here (not root, or a remote daemon).
    case mountpointUnreachable(volume: String, mountpoint: String, message: String)
    /// No image is on the host to make a helper container from (none is ever pulled).
    case noHelperImage(volume: String)
    case snapshotWrite(path: String, message: String)
    case outputExists(path: String)
    case restoreFailed(volume: String, path: String, message: String)

    case composeUnavailable(tried: [String])
    case programFailed(command: String, status: Int32, output: String)
    case installerMissing(version: String, path: String)
    case imagesMissing(version: String, images: [String], archive: String)
    case notHealthy(afterSeconds: Int, states: [String])

    public var description: String {
        switch self {
        case .unsupportedHost(let host):
            "DOCKER_HOST=\(host) is not supported yet: only unix:// sockets are"
        case .unreachable(let socket, let message):
            "the Docker Engine does not answer on \(socket): \(message)"
        case .libraryUnavailable(let reason):
            HTTPError.libraryUnavailable(reason: reason).description
        case .engineTimedOut(let call, let socket, let seconds):
            "the Docker Engine on \(socket) did not answer \(call) within \(seconds) s"
        case .permissionDenied(let socket):
            "permission denied on the Docker socket \(socket)"
        case .engine(let call, let status, let message):
            "the Docker Engine refused \(call) (HTTP \(status)): \(message)"
        case .unexpectedAnswer(let call, let message):
            "the Docker Engine's answer to \(call) could not be read: \(message)"
        case .noInstallation(let label):
            "no container labelled \(label) was found: Connectware is not installed with Docker Compose here"
        case .severalProjects(let projects):
            "containers of several compose projects carry the Connectware label: \(projects.joined(separator: ", "))"
        case .noSuchVolume(let name):
            "there is no volume named \(name)"
        case .containerDidNotStop(let name):
            "container \(name) is still running after stop and kill"
        case .volumeNotRemovable(let volume, let removable):
            "refusing to remove volume \(volume): it is not in the removable set ("
                + (removable.isEmpty ? "empty" : removable.joined(separator: ", ")) + ")"
        case .volumeInUse(let volume, let containers):
            "refusing to touch volume \(volume): it is used by container(s) \(containers.joined(separator: ", "))"
        case .snapshotMissing(let volume, let path):
            "refusing to remove volume \(volume): no snapshot at \(path)"
        case .snapshotNotVerified(let volume, let path, let reason):
            "refusing to rely on the snapshot \(path) of volume \(volume): \(reason)"
        case .volumeNotEmpty(let volume, let mountpoint):
            "volume \(volume) is not empty (\(mountpoint)); a snapshot is restored only into an empty volume"
        case .mountpointUnreachable(let volume, let mountpoint, let message):
            "cannot reach the files of volume \(volume) at \(mountpoint): \(message)"
        case .noHelperImage(let volume):
            "cannot reach volume \(volume) through a helper container: there is no image on this host to make one from"
        case .snapshotOutdated(let volume, let path, let reason):
            "\(path) is older than what volume \(volume) holds now: \(reason)"
        case .notAPostgreSQLSnapshot(let volume, let path):
            "\(path) holds no PostgreSQL data directory (no PG_VERSION), so it is not a snapshot of the database in \(volume)"
        case .bindMountAtVolume(let volume, let container, let source, let destination):
            "\(container) keeps its data in the host directory \(source) (a bind mount at \(destination)), not in the volume \(volume) the plan snapshots and removes"
        case .snapshotWrite(let path, let message):
            "cannot write the snapshot \(path): \(message)"
        case .outputExists(let path):
            "\(path) already exists"
        case .restoreFailed(let volume, let path, let message):
            "restoring volume \(volume) from \(path) failed: \(message)"
        case .composeUnavailable(let tried):
            "no working Docker Compose: tried \(tried.joined(separator: ", "))"
        case .programFailed(let command, let status, let output):
            "\(command) failed with status \(status)" + (output.isEmpty ? "" : ": \(output)")
        case .installerMissing(let version, let path):
            "no installer for Connectware \(version) at \(path)"
        case .imagesMissing(let version, let images, let archive):
            "the images of Connectware \(version) are not on this host (\(images.joined(separator: ", "))) "
                + "and \(archive) does not exist"
        case .notHealthy(let seconds, let states):
            "Connectware was not healthy after \(seconds) s: \(states.joined(separator: "; "))"
        }
    }
}
