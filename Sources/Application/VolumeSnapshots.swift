import DockerOps
import Vocabulary

extension ConnectwareHost {
    /// `volumes snapshot`: the project's volume `name` written to `output`, named with
    /// `connectwareVersion`, else the version the installation runs; a warning on `console`
    /// when neither is known (the snapshot then names none).
    public func snapshotProjectVolume(
        _ name: String, project: String?, to output: String, connectwareVersion: String?, level: Int,
        access: VolumeAccess, progress: (any TransferProgressReporter)?, console: Console
    ) throws -> SnapshotManifest {
        let target = try findVolume(name, project: project)
        let version = connectwareVersion ?? (try? discover(project: project))?.version?.description
        if version == nil {
            console.warning("the running Connectware version is unknown; the snapshot will not name one")
        }
        return try snapshotVolume(
            target.name, to: output, connectwareVersion: version, level: level, access: access, progress: progress)
    }
}

extension Console {
    /// A step of `volumes` that changes something: asked on a terminal; off one, only `yes`
    /// lets it go ahead (exit 64 otherwise), and any answer but yes cancels it.
    public func requireConsent(_ question: String, yes: Bool) throws {
        try requireConsent(
            question, yes: yes,
            offTerminal: Failure(
                message: "not on a terminal, so nobody can confirm: \(question)", hint: "pass --yes to go ahead",
                exitCode: ExitStatus.usage),
            declined: Failure(message: "cancelled", exitCode: ExitStatus.usage))
    }
}
