import Migration
import Planner

extension KnowledgeError: OperatorFacing {
    public var failure: Failure {
        switch self {
        case .fileMissing(let path):
            Failure(message: "\(path) does not exist", exitCode: ExitStatus.noInput)
        case .isDirectory(let path):
            Failure(message: "\(path) is a directory, not a YAML file", exitCode: ExitStatus.noInput)
        case .unreadable(let path):
            Failure(message: "\(path) cannot be read", exitCode: ExitStatus.noInput)
        case .notText(let path):
            Failure(message: "\(path) is not UTF-8 text", exitCode: ExitStatus.dataError)
        case .playbookForAnotherInstallation(let path, let kind, let wanted):
            Failure(message: "\(path) is a playbook for \(kind), not \(wanted)", exitCode: ExitStatus.usage)
        case .learnedUnreadable(let path, let reason):
            Failure(message: "cannot read the learned compat file \(path): \(reason)", exitCode: ExitStatus.noInput)
        case .learnedUnwritable(let path, let reason):
            Failure(
                message: "cannot record the learned barrier in \(path): \(reason)",
                hint: "the barrier is not remembered; the next restore asks the server again",
                exitCode: ExitStatus.cantCreate)
        case .dataDirectoryNotFound(let searched, let given):
            Failure(
                message: "cannot find cwmigrate's playbooks directory (looked in \(searched.joined(separator: ", ")))",
                hint: given.map { "\($0) must name a directory holding compat.yml (or playbooks/compat.yml)" }
                    ?? "give --playbooks DIR or set CWMIGRATE_DATA_DIR, or install them to <prefix>/share/cwmigrate/playbooks",
                exitCode: ExitStatus.noInput)
        case .notASavedPlan(let path, let detail):
            Failure(
                message: "\(path) is not a plan saved by cwmigrate plan --json: \(detail)",
                hint: "save one with cwmigrate plan --json --output FILE", exitCode: ExitStatus.dataError)
        }
    }
}

extension RunLifecycleError: OperatorFacing {
    public var failure: Failure {
        switch self {
        case .mixedVersions(let project, let versions):
            Failure(
                message: "the installation \(project) runs mixed or unknown versions: \(versions)",
                hint: "bring every service to one version first (cwmigrate host shows them)",
                exitCode: ExitStatus.unavailable)
        case .backupNotARegularFile(let path):
            Failure(
                message: "\(path) is not a regular file; the run copies the backup file into its directory",
                exitCode: ExitStatus.noInput)
        case .unreadableRun(let description, let runsDirectory):
            Failure(
                message: description + "; it may be an unfinished run, so no new run starts",
                hint:
                    "look at it, and move it out of \(runsDirectory) once you know it belongs to no run that is going on",
                exitCode: ExitStatus.dataError)
        case .unfinishedRun(let run, let installation, let outcome):
            Failure(
                message: "run \(run) for \(installation) is unfinished (\(outcome.rawValue))",
                hint:
                    "carry it on with `cwmigrate migrate --resume \(run)`, go back with `cwmigrate rollback \(run)`, or end it with `cwmigrate runs abandon \(run)`",
                exitCode: ExitStatus.tempFailure)
        case .tooLittleSpace(let directory, let free, let needed):
            Failure(
                message:
                    "the state directory \(directory) has \(formatBytes(free)) free, too little for the run's copy of the backup (\(formatBytes(needed)))",
                hint: "free space there, or give another directory with --state-dir", exitCode: ExitStatus.cantCreate)
        case .noPlanToCarryOut(let reason):
            Failure(
                message: "there is no plan to carry out: \(reason)",
                hint: "cwmigrate migrate --dry-run shows the decision; nothing was changed",
                exitCode: ExitStatus.dataError)
        case .noUnfinishedRun(let directory, let toRollBack):
            toRollBack
                ? Failure(
                    message: "no unfinished run in \(directory) to roll back", hint: "cwmigrate runs lists the runs",
                    exitCode: ExitStatus.noInput)
                : Failure(
                    message: "no unfinished run in \(directory)",
                    hint: "cwmigrate runs lists the runs; is --state-dir the right directory?",
                    exitCode: ExitStatus.noInput)
        case .nothingToRollBack(let run, let outcome):
            Failure(
                message: "run \(run) has ended (\(outcome.rawValue)); there is nothing to roll back",
                hint: outcome == .completed
                    ? "a completed run's result is the installation now; its fresh backup is listed by `cwmigrate runs --json`"
                    : nil,
                exitCode: ExitStatus.dataError)
        case .savedPlanDoesNotHold(let path, let changes):
            Failure(
                message: "the saved plan \(path) is not for this host as it is now: " + changes.joined(separator: "; "),
                hint:
                    "make and review the plan again here: cwmigrate plan --backup FILE --running VERSION --json --output FILE",
                exitCode: ExitStatus.dataError)
        case .savedPlanHasNoSteps(let path, let reason):
            Failure(
                message: "the saved plan \(path) has no steps to carry out: \(reason)", exitCode: ExitStatus.dataError)
        }
    }
}

extension UnverifiedBackup: OperatorFacing {
    public var failure: Failure {
        Failure(
            message: "the downloaded backup does not verify: \(reason)",
            hint: kept.map { "kept as \($0) for inspection; take the backup again" }
                ?? "left at \(path) (renaming it to \(path).unverified failed: \(renameFailure ?? "?")); do not restore it; take the backup again",
            exitCode: ExitStatus.dataError)
    }
}

extension ConnectionError: OperatorFacing {
    public var failure: Failure {
        switch self {
        case .noAddress, .noPassword: Failure(message: description, hint: hint, exitCode: ExitStatus.usage)
        case .unreadable: Failure(message: description, hint: hint, exitCode: ExitStatus.noInput)
        case .empty: Failure(message: description, hint: hint, exitCode: ExitStatus.dataError)
        }
    }
}
