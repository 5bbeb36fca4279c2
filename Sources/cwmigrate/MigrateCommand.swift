import ArchiveInspect
import ArgumentParser
import DockerOps
import Foundation
import Migration
import Planner

/// `cwmigrate migrate`: plan a migration against the installation found on this Docker
/// host, or check everything it needs. Executing the steps is not there yet, and says so.
struct MigrateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "migrate",
        abstract: "Check and plan a migration of a backup onto this host's Connectware.",
        discussion: """
            --dry-run inspects the backup, finds the installation through Docker, reads its
            version there and prints the plan (exit codes as for `plan`: 0, 3, 4, 5).
            --precheck-only runs every check a migration needs and changes nothing: exit 0
            when all pass, 69 when one fails. Executing a migration is not implemented yet:
            without one of these flags, migrate exits 69.
            """)

    @Option(help: "The backup archive (.tgz) to restore.")
    var backup: String

    @Flag(name: .customLong("dry-run"), help: "Print the plan for this installation and stop.")
    var dryRun = false

    @Flag(
        name: .customLong("precheck-only"), help: "Run every check that needs no change, print pass or fail for each.")
    var precheckOnly = false

    @Flag(help: "Print the plan (--dry-run) or the checks (--precheck-only) as JSON.")
    var json = false

    @OptionGroup var state: StateDirectoryOption

    @OptionGroup var connection: ConnectionOptions

    @OptionGroup var docker: DockerOptions

    @Option(
        name: .customLong("docker-host"),
        help: ArgumentHelp("The Docker Engine's socket, unix:///path (default: $DOCKER_HOST).", valueName: "url"))
    var dockerHost: String?

    @Option(
        name: .customLong("installer-dir"),
        help: ArgumentHelp(
            "Where the installers are, as DIR/VERSION/connectware-online-installer.sh (default: the playbook's installerDir).",
            valueName: "dir"))
    var installerDirectory: String?

    @Option(name: .customLong("compat"), help: "An operator's compat file, added to the bundled one (repeatable).")
    var compatFiles: [String] = []

    @Flag(name: .customLong("no-example-data"), help: "Ignore the example barriers shipped with cwmigrate.")
    var noExampleData = false

    @Option(help: "A playbook file to use instead of the bundled docker-compose one.")
    var playbook: String?

    @Option(
        name: .customLong("assume-version"),
        help: "Take this as the backup's version when its evidence is missing or disagrees.")
    var assumeVersion: String?

    func validate() throws {
        if dryRun && precheckOnly { throw ValidationError("give --dry-run or --precheck-only, not both") }
        if let assumeVersion { _ = try versionOption(assumeVersion, "--assume-version") }
        if let dockerHost, !dockerHost.hasPrefix("unix://") {
            throw ValidationError("--docker-host must be unix:///path/to/docker.sock, not \(dockerHost)")
        }
    }

    func run() throws {
        try guarded { terminal in
            guard dryRun || precheckOnly else {
                throw Failure(
                    message: "executing migrations is not implemented yet",
                    hint:
                        "check with `cwmigrate migrate --backup FILE --precheck-only` or `--dry-run`; print the steps with `cwmigrate plan --backup FILE --running VERSION` and carry them out by hand",
                    exitCode: ExitStatus.unavailable)
            }
            return dryRun ? try planOnly(terminal) : try precheck(terminal)
        }
    }

    var dockerEnvironment: [String: String] {
        var environment = ProcessInfo.processInfo.environment
        if let dockerHost { environment["DOCKER_HOST"] = dockerHost }
        return environment
    }

    var assumed: Version? {
        get throws { try assumeVersion.map { try versionOption($0, "--assume-version") } }
    }

    private func planOnly(_ terminal: Terminal) throws -> Int32 {
        let facts = try inspectBackup(at: backup, options: InspectOptions(verify: false, assumedVersion: assumed))
        let host = try ConnectwareHost(environment: dockerEnvironment)
        let installation = try host.discover(project: docker.project)
        guard let running = installation.version else {
            throw Failure(
                message:
                    "the installation \(installation.project) runs mixed or unknown versions: \(installation.versionText)",
                hint: "bring every service to one version first (cwmigrate host shows them)",
                exitCode: ExitStatus.unavailable)
        }
        let plan = try makePlan(facts: facts, running: running, installation: installation)
        if json {
            terminal.out(plan.renderJSON())
        } else {
            terminal.out(
                "Installation: project \(installation.project) in \(installation.workingDirectory ?? "an unknown directory"), Connectware \(running) (Docker Engine \(installation.engineVersion))"
            )
            terminal.out(plan.renderText(color: terminal.colorOnStdout))
        }
        notes(for: plan, terminal)
        return PlanCommand.exitCode(for: plan)
    }

    private func precheck(_ terminal: Terminal) throws -> Int32 {
        let store = state.store()
        var checks: [CheckResult] = []
        let (backupCheck, facts) = Prechecks.backupFile(backup, assumedVersion: try assumed)
        checks.append(backupCheck)
        let (dockerCheck, host) = Prechecks.docker(environment: dockerEnvironment)
        checks.append(dockerCheck)
        let (installationCheck, installation) = Prechecks.installation(host, project: docker.project)
        checks.append(installationCheck)

        var plan: Plan?
        if let facts, let installation, let running = installation.version {
            do {
                let made = try makePlan(facts: facts, running: running, installation: installation)
                plan = made
                checks.append(CheckResult("plan", .pass, "\(made.decision): \(made.reason)"))
            } catch let failure as Failure {
                checks.append(CheckResult("plan", .fail, failure.message))
            } catch let error as any OperatorFacing {
                checks.append(CheckResult("plan", .fail, error.failure.message))
            }
        } else {
            checks.append(CheckResult("plan", .skip, "needs the backup file and the installation"))
        }

        do {
            checks.append(Prechecks.api(try connection.client(terminal)))
        } catch let failure as Failure {
            checks.append(
                CheckResult("connectware api", .fail, failure.message + (failure.hint.map { " (\($0))" } ?? "")))
        } catch let error as any OperatorFacing {
            checks.append(CheckResult("connectware api", .fail, error.failure.message))
        }

        if let host, let installation, let plan {
            let installers = installerDirectory ?? plan.settings["installerDir"] ?? "/var/backups/cwmigrate/installers"
            checks.append(
                Prechecks.installStrategy(host, plan: plan, installation: installation, installerDirectory: installers))
            let bytes = (try? FileManager.default.attributesOfItem(atPath: backup)[.size] as? Int64) ?? 0
            checks.append(Prechecks.freeDisk(store, plan: plan, installation: installation, backupBytes: bytes))
        } else {
            checks.append(CheckResult("install strategy", .skip, "needs Docker, the installation and the plan"))
            checks.append(CheckResult("free disk", .skip, "needs the installation and the plan"))
        }
        checks.append(Prechecks.stateDirectory(store))
        if let installation {
            let reference = InstallationRef(installation)
            checks.append(Prechecks.lock(store, reference))
            checks.append(Prechecks.unfinishedRuns(store, reference))
        } else {
            checks.append(CheckResult("lock", .skip, "needs the installation"))
            checks.append(CheckResult("earlier runs", .skip, "needs the installation"))
        }

        let passed = checks.allSatisfy { $0.status == .pass }
        if json {
            struct Report: Encodable {
                let passed: Bool
                let checks: [CheckResult]
            }
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
            terminal.out(String(decoding: try encoder.encode(Report(passed: passed, checks: checks)), as: UTF8.self))
        } else {
            let width = (checks.map(\.name.count).max() ?? 0) + 2
            for check in checks {
                let word: String
                switch check.status {
                case .pass: word = terminal.paint("pass", .green, terminal.colorOnStdout)
                case .fail: word = terminal.paint("FAIL", .red, terminal.colorOnStdout)
                case .skip: word = terminal.paint("skip", .yellow, terminal.colorOnStdout)
                }
                terminal.out(
                    word + "  " + check.name.padding(toLength: width, withPad: " ", startingAt: 0) + check.detail)
            }
            let failed = checks.filter { $0.status != .pass }.count
            terminal.out(
                passed ? "All \(checks.count) checks passed." : "\(failed) of \(checks.count) checks did not pass.")
        }
        if let plan { notes(for: plan, terminal) }
        return passed ? ExitStatus.ok : ExitStatus.unavailable
    }

    /// The plan for this installation: the playbook's project and directory are the ones found.
    private func makePlan(facts: ArchiveFacts, running: Version, installation: Installation) throws -> Plan {
        let knowledge = try LocalKnowledge.load(compatFiles: compatFiles, ignoringExamples: noExampleData)
        var chosen = try LocalKnowledge.playbook(path: playbook, installation: .dockerCompose)
        chosen.settings["project"] = installation.project
        if let directory = installation.workingDirectory { chosen.settings["directory"] = directory }
        return Planner.makePlan(
            backup: facts.version, running: running, knowledge: knowledge, playbook: chosen, backupFile: backup)
    }

    private func notes(for plan: Plan, _ terminal: Terminal) {
        if plan.exampleData {
            terminal.note(
                "an EXAMPLE barrier shipped with cwmigrate decided this plan; it is illustration data, not a known Connectware barrier (--no-example-data ignores it)"
            )
        }
    }
}
