#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif
#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif
import Planner

/// What stopped a migration run, its journal or its lock, with what the operator needs to
/// act: the run, the step and its position, the file, the holder of a lock.
public enum MigrationError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The state directory (or one below it) cannot be created, opened or used.
    case stateDirectory(path: String, reason: String)
    /// A path in the state directory is a symlink or not what it must be; it is never followed.
    case unsafePath(path: String, reason: String)
    case journalWrite(path: String, reason: String)
    case journalRead(path: String, reason: String)
    /// The journal file exists but is not a journal this cwmigrate reads.
    case journalCorrupt(path: String, reason: String)
    case invalidRunID(String)
    case noSuchRun(id: String, directory: String)
    /// The run is completed, abandoned or rolled back; nothing more happens to it.
    case runEnded(run: String, outcome: RunOutcome)
    case noSuchStep(run: String, position: Int, count: Int)
    case invalidTransition(run: String, position: Int, kind: StepKind, from: StepState, to: StepState)
    /// Another process holds the installation's lock; `holder` is what it wrote there.
    case installationLocked(installation: String, lockFile: String, holder: String?)
    case lockFailed(path: String, reason: String)
    /// The step has no executor yet; the run stops here, before the step changes anything.
    case stepNotImplemented(position: Int, kind: StepKind)
    case preconditionFailed(position: Int, kind: StepKind, reason: String)
    /// The step acted but what it should have brought about is not so.
    case postconditionFailed(position: Int, kind: StepKind, reason: String)
    /// The step's action failed; `reason` is the underlying error in the operator's words.
    case stepFailed(position: Int, kind: StepKind, reason: String)
    /// Connectware `atVersion` refused the restore; the refusal may name where it restores.
    case restoreRefused(position: Int, kind: StepKind, atVersion: Version, refusal: RestoreRefusal)
    /// The operator answered no before a step that changes the installation; the run is paused.
    case declined(position: Int, kind: StepKind)
    /// Connectware refused the credentials the step needs (`refused` says which, never a
    /// secret; `fix` how to give the right one); the run is paused and can be resumed.
    case credentialsRefused(position: Int, kind: StepKind, refused: String, fix: String)
    /// Connectware refused the credentials the rollback needs for the database it found or
    /// made (`refused` says which, never a secret; `fix` how to give the right one); the
    /// rollback is paused and is run again with them.
    case rollbackCredentialsRefused(run: String, refused: String, fix: String)
    /// A rollback cannot start or did not finish; `reason` says what to do.
    case rollbackFailed(run: String, reason: String)
    /// The directory of fetched host reports (`report --fleet DIR`) cannot be used.
    case fleetReports(directory: String, reason: String)
    /// The run's rollback began (and `finished` says how it ended, nil: interrupted); the run
    /// can only be rolled back again or abandoned, never resumed.
    case rollbackBegan(run: String, at: Date, finished: Bool?)
    /// The run began on another machine (`here` nil: this one could not be identified).
    case otherHost(run: String, recorded: RunHost, here: RunHost?)
    /// Docker does not name the compose project's directory, so installs and rollbacks would
    /// write to a guessed place; the run is not made (or not carried on).
    case projectDirectoryUnknown(project: String)
    /// A check a run needs before its first destructive step did not pass; nothing was changed.
    case prechecksFailed(run: String, failed: [CheckResult])

    public var description: String {
        switch self {
        case .stateDirectory(let path, let reason):
            "the state directory \(path) cannot be used: \(reason)"
        case .unsafePath(let path, let reason):
            "\(path) is not safe to use: \(reason)"
        case .journalWrite(let path, let reason):
            "cannot write the journal \(path): \(reason)"
        case .journalRead(let path, let reason):
            "cannot read the journal \(path): \(reason)"
        case .journalCorrupt(let path, let reason):
            "\(path) is not a readable cwmigrate journal: \(reason)"
        case .invalidRunID(let text):
            "'\(text)' is not a run id (they look like 20261126T225901Z-3fa9c1)"
        case .noSuchRun(let id, let directory):
            "no run \(id) in \(directory)"
        case .runEnded(let run, let outcome):
            "run \(run) has ended (\(outcome.rawValue)); nothing more can be done with it"
        case .noSuchStep(let run, let position, let count):
            "run \(run) has \(count) steps; there is no step \(position + 1)"
        case .invalidTransition(let run, let position, let kind, let from, let to):
            "run \(run): step \(position + 1) \(kind) cannot go from \(from.rawValue) to \(to.rawValue)"
        case .installationLocked(let installation, let lockFile, let holder):
            "another cwmigrate run holds the lock of installation \(installation) (\(lockFile)"
                + (holder.map { ", held by \($0)" } ?? "") + ")"
        case .lockFailed(let path, let reason):
            "cannot lock \(path): \(reason)"
        case .stepNotImplemented(let position, let kind):
            "step \(position + 1) \(kind): executing this step is not implemented yet; the run stopped before it changed anything"
        case .preconditionFailed(let position, let kind, let reason):
            "step \(position + 1) \(kind) cannot start: \(reason)"
        case .postconditionFailed(let position, let kind, let reason):
            "step \(position + 1) \(kind) did not bring about what it should: \(reason)"
        case .stepFailed(let position, let kind, let reason):
            "step \(position + 1) \(kind) failed: \(reason)"
        case .restoreRefused(let position, let kind, let version, let refusal):
            "step \(position + 1) \(kind): Connectware \(version) refused the restore: \"\(refusal.statusMessage)\""
                + (refusal.lastRestoringVersion.map { " (it names \($0) as the last version that restores it)" } ?? "")
        case .declined(let position, let kind):
            "the run is paused before step \(position + 1) \(kind): the operator declined it"
        case .credentialsRefused(let position, let kind, let refused, _):
            "the run is paused at step \(position + 1) \(kind): Connectware refused \(refused)"
        case .rollbackCredentialsRefused(let run, let refused, _):
            "the rollback of run \(run) is paused: Connectware refused \(refused)"
        case .rollbackFailed(let run, let reason):
            "the rollback of run \(run) did not finish: \(reason)"
        case .fleetReports(let directory, let reason):
            "no fleet reports in \(directory): \(reason)"
        case .rollbackBegan(let run, let at, let finished):
            "run \(run) cannot be resumed: its rollback began at \(Timestamp.format(at))"
                + (finished == false ? " and failed" : finished == true ? " and finished" : " and was interrupted")
        case .otherHost(let run, let recorded, let here):
            "run \(run) began on \(recorded), not on this machine ("
                + (here.map(\.description) ?? "which cannot be identified") + ")"
        case .projectDirectoryUnknown(let project):
            "the directory of compose project \(project) is not known (its containers carry no com.docker.compose.project.working_dir label)"
        case .prechecksFailed(let run, let failed):
            "run \(run) stopped before its first destructive step: "
                + failed.map { "\($0.name): \($0.detail)" }.joined(separator: "; ")
        }
    }
}

/// `strerror` of the current errno, for messages.
func systemError(_ code: Int32 = errno) -> String {
    String(cString: strerror(code))
}
