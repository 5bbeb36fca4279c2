import Migration

extension MigrationError: OperatorFacing {
    public var failure: Failure {
        switch self {
        case .stateDirectory, .journalWrite, .lockFailed:
            Failure(
                message: description, hint: "give a writable directory with --state-dir (or CWMIGRATE_STATE_DIR)",
                exitCode: ExitStatus.cantCreate)
        case .unsafePath:
            Failure(
                message: description,
                hint: "something other than cwmigrate put this there; look at it before you move it away",
                exitCode: ExitStatus.config)
        case .journalRead:
            Failure(message: description, exitCode: ExitStatus.ioError)
        case .journalCorrupt:
            Failure(message: description, exitCode: ExitStatus.dataError)
        case .invalidRunID:
            Failure(
                message: description, hint: "cwmigrate runs lists the runs and their ids", exitCode: ExitStatus.usage)
        case .noSuchRun:
            Failure(
                message: description, hint: "cwmigrate runs lists the runs; is --state-dir the right directory?",
                exitCode: ExitStatus.noInput)
        case .runEnded:
            Failure(message: description, exitCode: ExitStatus.dataError)
        case .installationLocked:
            Failure(
                message: description,
                hint: "a run against this installation is going on; wait for it to end (cwmigrate runs shows it)",
                exitCode: ExitStatus.tempFailure)
        case .stepNotImplemented, .preconditionFailed, .postconditionFailed, .stepFailed:
            Failure(
                message: description, hint: "cwmigrate runs shows the run and its steps",
                exitCode: ExitStatus.unavailable)
        case .restoreRefused:
            Failure(
                message: description,
                hint:
                    "cwmigrate plan --refusal \"<the message>\" shows the plan that follows; cwmigrate rollback RUN goes back",
                exitCode: ExitStatus.restoreRefused)
        case .credentialsRefused(_, _, _, let fix):
            Failure(
                message: description, hint: "\(fix); then carry on with cwmigrate migrate --resume RUN",
                exitCode: ExitStatus.paused)
        case .declined:
            Failure(
                message: description, hint: "cwmigrate migrate --resume carries on from this step",
                exitCode: ExitStatus.paused)
        case .rollbackCredentialsRefused(let run, _, let fix):
            Failure(
                message: description, hint: "\(fix); then run `cwmigrate rollback \(run)` again",
                exitCode: ExitStatus.paused)
        case .rollbackFailed:
            Failure(
                message: description, hint: "cwmigrate rollback RUN again carries on where it stopped",
                exitCode: ExitStatus.unavailable)
        case .fleetReports:
            Failure(
                message: description,
                hint: "give the directory the playbook fetched the reports to (cwmigrate_reports_dir, by default reports/ beside site.yml)",
                exitCode: ExitStatus.noInput)
        case .rollbackBegan(let run, _, _):
            Failure(
                message: description,
                hint:
                    "roll it back (again) with `cwmigrate rollback \(run)`, or end it with `cwmigrate runs abandon \(run)`",
                exitCode: ExitStatus.dataError)
        case .otherHost(_, let recorded, _):
            Failure(
                message: description,
                hint:
                    "carry the run on where it began (\(recorded.hostName)); each host needs a state directory of its own",
                exitCode: ExitStatus.dataError)
        case .projectDirectoryUnknown:
            Failure(
                message: description,
                hint:
                    "start Connectware with docker compose from its directory (e.g. /opt/connectware), so Docker records where it is",
                exitCode: ExitStatus.unavailable)
        case .prechecksFailed(let run, _):
            Failure(
                message: description,
                hint:
                    "nothing of the installation was changed; fix the cause and `cwmigrate migrate --resume \(run)`, or end the run with `cwmigrate runs abandon \(run)`",
                exitCode: ExitStatus.unavailable)
        case .noSuchStep, .invalidTransition:
            Failure(
                message: description, hint: "this is a bug in cwmigrate; please report it",
                exitCode: ExitStatus.software)
        }
    }
}

extension MigrationError {
    /// The failure when this error stopped `journal`'s run: the ways on (resume, roll back or
    /// abandon, as far as the installation was changed) as its hint.
    public func failure(stopping journal: Journal) -> Failure {
        let id = journal.id
        switch self {
        case .credentialsRefused(_, _, _, let fix):
            return Failure(
                message: description, hint: "\(fix); then carry on with `cwmigrate migrate --resume \(id)`",
                exitCode: ExitStatus.paused)
        case .declined:
            return Failure(
                message: description,
                hint:
                    "nothing of this step was done; carry on with `cwmigrate migrate --resume \(id)`, or go back with `cwmigrate rollback \(id)`",
                exitCode: ExitStatus.paused)
        case .restoreRefused:
            return Failure(
                message: description + "; the run stopped before anything more was changed",
                hint:
                    "go back to Connectware \(journal.plan.runningVersion) with `cwmigrate rollback \(id)`; the refusal is recorded, so a new `cwmigrate migrate` plans with it",
                exitCode: ExitStatus.restoreRefused)
        case .preconditionFailed, .postconditionFailed, .stepFailed, .stepNotImplemented:
            return Failure(
                message: description,
                hint: MigrationRun.changedInstallation(journal)
                    ? "fix the cause, then `cwmigrate migrate --resume \(id)`; or go back with `cwmigrate rollback \(id)`"
                    : "nothing of the installation was changed; fix the cause and `cwmigrate migrate --resume \(id)`, or end the run with `cwmigrate runs abandon \(id)`",
                exitCode: ExitStatus.unavailable)
        default:
            return failure
        }
    }
}
