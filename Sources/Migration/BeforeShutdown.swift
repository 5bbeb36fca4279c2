import ConnectwareAPI
import DockerOps
import Planner
import Vocabulary

#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

/// What a compose run does with images while Connectware still runs, so that the downtime
/// window holds only what must be down (issue 18, 4): the running version's images saved
/// for a rollback, and, with the vendor's installer, the images of every other version the
/// run installs pulled from the registry (as the installer will, with the installation's
/// credentials), and the running version's images kept under tags of cwmigrate's own
/// (`cwmigrate-keep/<image>:<version>`) that the installers' pruning does not match, so
/// the upgrade back finds them instead of downloading them again inside the window.
struct ImagesBeforeShutdown {
    let host: ConnectwareHost
    let target: ComposeTarget

    /// The repository of cwmigrate's keep tags; the vendor's pruning only looks at
    /// `<registry>/cybus/<image>`.
    static let keepRepository = "cwmigrate-keep"

    /// `cwmigrate-keep/postgresql:1.8.0` for `…/cybus/postgresql:1.8.0`; nil for another image.
    static func keepTag(_ reference: String) -> String? {
        guard let parsed = ImageReference(reference), let name = parsed.connectwareImage, let tag = parsed.tag
        else { return nil }
        return "\(keepRepository)/\(name):\(tag)"
    }

    /// The versions other than the running one whose images the plan's installer runs pull.
    static func versionsToPull(_ plan: Plan) -> [Version] {
        Prechecks.versionsPulled(plan).filter { $0 != plan.runningVersion }
    }

    /// Whether the plan installs the running version again with the installer after another
    /// version's installer deleted its images: then they are kept.
    static func keepsRunningImages(_ plan: Plan) -> Bool {
        Prechecks.versionsPulled(plan).contains(plan.runningVersion) && !versionsToPull(plan).isEmpty
    }

    func prepare(_ context: StepContext) throws(MigrationError) {
        let plan = context.journal.plan
        try SnapshotVolumesStep(host: host, target: target).saveImages(context)
        guard target.strategy == .installer else { return }
        let versions = Self.versionsToPull(plan)
        if !versions.isEmpty {
            guard let (user, key) = Prechecks.registryCredentials(directory: target.directory) else {
                throw .stepFailed(
                    position: context.position, kind: context.step.id,
                    reason: "\(target.directory)/.env has no CYBUS_REGISTRY_PASS to pull the images of \(versions.map(\.description).joined(separator: ", ")) with")
            }
            for version in versions {
                for image in host.wantedImages(target.installRequest(version)) {
                    do { try host.pullImage(image, user: user, password: key) } catch {
                        throw .stepFailed(
                            position: context.position, kind: context.step.id,
                            reason: "pulling \(image) while Connectware still runs: \(error.description)")
                    }
                }
            }
        }
        guard Self.keepsRunningImages(plan) else { return }
        for image in host.images(of: plan.runningVersion.description, directory: target.directory) {
            guard let keep = Self.keepTag(image), !host.imageExists(keep) else { continue }
            do { try host.tagImage(image, as: keep) } catch {
                throw .stepFailed(
                    position: context.position, kind: context.step.id,
                    reason: "keeping \(image) from the installers' pruning as \(keep): \(error.description)")
            }
        }
    }

    /// What `prepare` brought about, looked at afresh, in words; the failure when it does not hold.
    func verify(_ context: StepContext) -> Result<(parts: [String], artifacts: [Artifact]), MigrationError> {
        let plan = context.journal.plan
        var parts: [String] = []
        var artifacts: [Artifact] = []
        switch SnapshotVolumesStep(host: host, target: target).savedImagesArtifact(context) {
        case .failure(let error): return .failure(error)
        case .success(let saved):
            if let saved {
                artifacts.append(saved)
                parts.append(
                    "saved the images of Connectware \(plan.runningVersion) (\(formatBytes(saved.bytes))) at \(saved.path)")
            }
        }
        guard target.strategy == .installer else { return .success((parts, artifacts)) }
        for version in Self.versionsToPull(plan) {
            let images = host.wantedImages(target.installRequest(version))
            let missing = images.filter { !host.imageExists($0) }
            guard missing.isEmpty else {
                return .failure(
                    .postconditionFailed(
                        position: context.position, kind: context.step.id,
                        reason: "the images of Connectware \(version) are not on this host: \(missing.joined(separator: ", "))"))
            }
            parts.append("pulled the \(images.count) images of Connectware \(version)")
        }
        if Self.keepsRunningImages(plan) {
            let images = host.images(of: plan.runningVersion.description, directory: target.directory)
            let unkept = images.filter { image in Self.keepTag(image).map { !host.imageExists($0) } ?? false }
            guard unkept.isEmpty else {
                return .failure(
                    .postconditionFailed(
                        position: context.position, kind: context.step.id,
                        reason: "no keep tag for \(unkept.joined(separator: ", "))"))
            }
            parts.append(
                "kept the \(images.count) images of Connectware \(plan.runningVersion) from pruning as \(Self.keepRepository)/<image>:\(plan.runningVersion)"
            )
        }
        return .success((parts, artifacts))
    }

    /// Before the installer of `version` runs inside the window: its images that an earlier
    /// install pruned get their names back from the keep tags (no download).
    func restoreKept(_ version: Version) throws(DockerOpsError) -> Int {
        var restored = 0
        for image in host.wantedImages(target.installRequest(version)) where !host.imageExists(image) {
            guard let keep = Self.keepTag(image), host.imageExists(keep) else { continue }
            try host.tagImage(keep, as: image)
            restored += 1
        }
        return restored
    }

    /// The keep tags of `version`'s images, whether they exist or not.
    func keepTags(_ version: Version) -> [String] {
        (host.images(of: version.description, directory: target.directory)
            + host.wantedImages(target.installRequest(version))).compactMap(Self.keepTag)
    }

    /// Every keep tag of `version` removed (the images stay while another tag names them).
    func dropKept(_ version: Version) throws(DockerOpsError) {
        for keep in keepTags(version) { try host.untagImage(keep) }
    }
}

/// `fresh-backup` of a compose installation: the backup (`BackupStep`), and then, still
/// before the shutdown, the images the run and a rollback need (`ImagesBeforeShutdown`).
public struct FreshBackupStep: StepRunner {
    let backup: BackupStep
    let images: ImagesBeforeShutdown

    public init(backup: BackupStep, host: ConnectwareHost, target: ComposeTarget) {
        self.backup = backup
        images = ImagesBeforeShutdown(host: host, target: target)
    }

    public func checkPreconditions(_ context: StepContext) throws(MigrationError) {
        try backup.checkPreconditions(context)
    }

    public func act(_ context: StepContext) throws(MigrationError) {
        try backup.act(context)
        try images.prepare(context)
    }

    public func verify(_ context: StepContext) throws(MigrationError) -> Postcondition {
        let made = try backup.verify(context)
        guard case .holds(let message, let artifacts) = made else { return made }
        switch images.verify(context) {
        case .failure(let error): return .doesNotHold(reason: error.description)
        case .success(let found):
            return .holds(
                message: ([message] + found.parts).joined(separator: "; "), artifacts: artifacts + found.artifacts)
        }
    }
}

extension FreshBackupStep: PreparesForANewPlan {
    /// A restore refused at the running version replaced a plan that installed nothing: the
    /// images the downgrade needs are saved, pulled and kept now, Connectware still running.
    public func prepareForNewPlan(_ context: StepContext) throws(MigrationError) -> (
        message: String, artifacts: [Artifact]
    )? {
        try images.prepare(context)
        switch images.verify(context) {
        case .failure(let error): throw error
        case .success(let found): return found.parts.isEmpty ? nil : (found.parts.joined(separator: "; "), found.artifacts)
        }
    }
}
