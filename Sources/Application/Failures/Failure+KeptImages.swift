import Migration

extension KeptImagesError: OperatorFacing {
    public var failure: Failure {
        switch self {
        case .mayBeNeeded(_, _, let runs, _, _):
            Failure(
                message: description,
                hint: runs.isEmpty
                    ? "look at the journal; `cwmigrate runs kept-images --release --force` releases them anyway"
                    : "finish the run first (`cwmigrate migrate --resume \(runs[0])`, `cwmigrate rollback \(runs[0])` or `cwmigrate runs abandon \(runs[0])`), or give --force to release them anyway: its rollback then needs the saved images or the registry",
                exitCode: ExitStatus.tempFailure)
        case .docker(let error): error.failure
        }
    }
}
