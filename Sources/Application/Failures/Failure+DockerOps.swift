import DockerOps

extension DockerOpsError: OperatorFacing {
    public var failure: Failure {
        switch self {
        case .unsupportedHost:
            return Failure(
                message: description,
                hint: "run cwmigrate on the Docker host itself, with DOCKER_HOST unset or unix://…",
                exitCode: ExitStatus.config)
        case .unreachable(let socket, _):
            return Failure(
                message: description,
                hint:
                    "is dockerd running? set DOCKER_HOST=unix:///path/to/docker.sock if it listens elsewhere than \(socket)",
                exitCode: ExitStatus.unavailable)
        case .libraryUnavailable:
            return Failure(message: description, hint: Failure.installLibcurlHint, exitCode: ExitStatus.unavailable)
        case .engineTimedOut:
            return Failure(
                message: description,
                hint: "dockerd accepts connections but does not answer: `docker info` and its log (journalctl -u docker) show why",
                exitCode: ExitStatus.unavailable)
        case .permissionDenied:
            return Failure(
                message: description, hint: "run as root or as a member of the docker group",
                exitCode: ExitStatus.noPermission)
        case .engine, .unexpectedAnswer:
            return Failure(message: description, exitCode: ExitStatus.unavailable)
        case .noInstallation:
            return Failure(
                message: description,
                hint: "is DOCKER_HOST the daemon Connectware runs on? `docker ps -a` lists its containers",
                exitCode: ExitStatus.unavailable)
        case .severalProjects:
            return Failure(message: description, hint: "name the one to use with --project", exitCode: ExitStatus.usage)
        case .noSuchVolume:
            return Failure(
                message: description, hint: "`cwmigrate volumes list` shows the volumes", exitCode: ExitStatus.noInput)
        case .containerDidNotStop:
            return Failure(message: description, exitCode: ExitStatus.tempFailure)
        case .volumeNotRemovable:
            return Failure(
                message: description, hint: "the playbook's `volumes:` names what may be removed; certs never is",
                exitCode: ExitStatus.noPermission)
        case .volumeInUse:
            return Failure(
                message: description,
                hint: "stop and remove those containers first (Connectware's: docker compose down)",
                exitCode: ExitStatus.tempFailure)
        case .snapshotMissing:
            return Failure(
                message: description, hint: "take one with: cwmigrate volumes snapshot VOLUME --output FILE",
                exitCode: ExitStatus.noInput)
        case .snapshotOutdated:
            return Failure(
                message: description,
                hint: "take a new snapshot now (Connectware stopped), or give --force to remove the volume anyway",
                exitCode: ExitStatus.dataError)
        case .notAPostgreSQLSnapshot:
            return Failure(
                message: description, hint: "snapshot the volume again, through a container if it has driver options",
                exitCode: ExitStatus.dataError)
        case .bindMountAtVolume:
            return Failure(
                message: description,
                hint: "cwmigrate moves named volumes only; back that directory up and migrate by hand",
                exitCode: ExitStatus.config)
        case .snapshotNotVerified:
            return Failure(
                message: description, hint: "do not rely on this file; take a new snapshot",
                exitCode: ExitStatus.dataError)
        case .volumeNotEmpty:
            return Failure(
                message: description,
                hint: "snapshot the volume, remove it (cwmigrate volumes remove), then restore",
                exitCode: ExitStatus.tempFailure)
        case .mountpointUnreachable:
            return Failure(
                message: description, hint: "run cwmigrate as root on the Docker host itself",
                exitCode: ExitStatus.noPermission)
        case .noHelperImage:
            return Failure(
                message: description, hint: "run cwmigrate as root on the Docker host, where the volume's directory is",
                exitCode: ExitStatus.unavailable)
        case .snapshotWrite:
            return Failure(message: description, exitCode: ExitStatus.cantCreate)
        case .outputExists:
            return Failure(
                message: description, hint: "choose another --output; snapshots are never overwritten",
                exitCode: ExitStatus.cantCreate)
        case .restoreFailed:
            return Failure(message: description, exitCode: ExitStatus.ioError)
        case .composeUnavailable:
            return Failure(
                message: description, hint: "install docker compose or docker-compose, or set DOCKER_COMPOSE",
                exitCode: ExitStatus.unavailable)
        case .programFailed:
            return Failure(message: description, exitCode: ExitStatus.software)
        case .installerMissing, .imagesMissing:
            return Failure(message: description, exitCode: ExitStatus.noInput)
        case .notHealthy:
            return Failure(message: description, exitCode: ExitStatus.tempFailure)
        }
    }
}
