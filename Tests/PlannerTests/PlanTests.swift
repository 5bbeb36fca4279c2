import Foundation
import Testing

@testable import Planner

private let example = knowledge(barrier("1.8.0", before: "1.1.0", last: "1.7.3"))

@Test func aDowngradePlanHasTheVendorsStepsInOrder() throws {
    let plan = makePlan(backup: v("1.0.73"), running: v("1.8.0"), knowledge: example, playbook: try bundledPlaybook())
    #expect(plan.decision == .downgradeRequired)
    #expect(plan.restoreVersion == v("1.7.3"))
    #expect(
        plan.steps.map(\.id.rawValue) == [
            "fresh-backup", "shutdown", "snapshot-volumes", "remove-volumes", "install-older", "wait-healthy",
            "restore", "verify-restore", "upgrade", "wait-healthy", "re-backup",
        ])
    #expect(plan.steps.filter(\.destructive).map(\.id.rawValue) == ["remove-volumes", "restore"])
    #expect(plan.steps.allSatisfy { !$0.title.isEmpty && !$0.commands.isEmpty })
}

@Test func theBundledComposePlaybookGivesConcreteCommands() throws {
    let plan = makePlan(
        backup: v("1.0.73"), running: v("1.8.0"), knowledge: example, playbook: try bundledPlaybook(),
        backupFile: "/srv/backups/connectware-1.0.73.tgz")
    let commands = plan.steps.flatMap(\.commands)
    // Containers by their labels, never by a name of one Compose generation.
    #expect(
        commands.contains(
            "docker ps -q --filter label=io.cybus.connectware=core --filter label=com.docker.compose.project=connectware | xargs -r docker stop"
        ))
    #expect(commands.contains("cd /opt/connectware && $COMPOSE -p connectware up -d"))
    #expect(!commands.contains { $0.contains("busybox") || $0.contains("admin-web-app-1") })
    #expect(commands.contains("docker volume rm connectware_postgresql"))
    #expect(
        commands.contains(
            "bash /var/backups/cwmigrate/installers/1.7.3/connectware-online-installer.sh -s -d /opt/connectware"))
    // Uploaded as the initial admin of the fresh install, read back with the backup's password.
    #expect(
        commands.contains(
            #"CWMIGRATE_BACKUP_PASSWORD="$CWMIGRATE_PASSWORD" CWMIGRATE_PASSWORD="$CWMIGRATE_INITIAL_PASSWORD" cwmigrate restore /srv/backups/connectware-1.0.73.tgz"#
        ))
    #expect(commands.contains { $0.hasPrefix("cwmigrate backup --output ") })
    #expect(!commands.joined().contains("{{"), "no placeholder left unfilled")
}

@Test func removeVolumesNamesExactlyThePlaybooksVolumesAndNeverCerts() throws {
    let onlyPostgres = try Playbook(yaml: playbookText(volumes: ["postgresql"]), source: "p.yml")
    let plan = makePlan(backup: v("1.0.73"), running: v("1.8.0"), knowledge: example, playbook: onlyPostgres)
    let remove = try #require(plan.steps.first { $0.id == .removeVolumes })
    #expect(remove.commands == ["remove-volumes connectware"])
    #expect(plan.volumes == ["postgresql"])

    let bundledPlan = makePlan(
        backup: v("1.0.73"), running: v("1.8.0"), knowledge: example, playbook: try bundledPlaybook())
    let removeBoth = try #require(bundledPlan.steps.first { $0.id == .removeVolumes })
    #expect(
        removeBoth.commands == [
            "docker volume rm connectware_postgresql", "docker volume rm connectware_service-manager",
        ])
    #expect(!bundledPlan.steps.flatMap(\.commands).contains { $0.contains("rm") && $0.contains("certs") })
}

@Test func aPlaybookThatWouldRemoveCertsIsRejectedAtItsLine() {
    do throws(PlannerError) {
        _ = try Playbook(yaml: playbookText(volumes: ["postgresql", "certs"]), source: "p.yml")
        Issue.record("a playbook removing certs was accepted")
    } catch {
        guard case .invalidDataFile(_, let problems) = error else { return }
        #expect(problems.count == 1)
        #expect(problems.first?.line == 6)
        #expect(problems.first?.message.contains("certs") == true)
    }
}

@Test(arguments: [
    (playbookText(restoreCommand: "restore {{backupFiel}}"), "unknown placeholder {{backupFiel}}", "{{backupFiel}}"),
    (
        playbookText().replacingOccurrences(of: "installation: docker-compose", with: "installation: swarm"),
        "installation 'swarm'", "swarm"
    ),
    (
        playbookText().replacingOccurrences(of: "  project: connectware", with: "  project: connectware\n  version: 1"),
        "built-in placeholder", "version: 1"
    ),
    (
        playbookText().replacingOccurrences(
            of: "installation: docker-compose", with: "installation: docker-compose\ninstallStrategy: rsync"),
        "installStrategy 'rsync'", "rsync"
    ),
    (
        playbookText().replacingOccurrences(
            of: "    title: upgrade title", with: "    title: upgrade title\n    rollback: []"),
        "unknown key 'rollback'", "rollback"
    ),
])
func aPlaybookMistakeIsReportedWithItsLine(text: String, message: String, marker: String) throws {
    // The line the mistake is on, found by its text so the fixture can change freely.
    let expectedLine =
        try #require(text.split(separator: "\n", omittingEmptySubsequences: false).firstIndex { $0.contains(marker) })
        + 1
    do throws(PlannerError) {
        _ = try Playbook(yaml: text, source: "site.yml")
        Issue.record("accepted")
    } catch {
        guard case .invalidDataFile(let source, let problems) = error else { return }
        #expect(source == "site.yml")
        #expect(problems.first?.message.contains(message) == true, "\(problems)")
        #expect(problems.first?.line == expectedLine)
    }
}

@Test func aPlaybookMissingAStepIsRejected() {
    let text = playbookText().replacingOccurrences(
        of: "  re-backup:\n    title: re-backup title\n    commands:\n      - re-backup {{project}}\n", with: "")
    #expect(throws: PlannerError.self) { try Playbook(yaml: text, source: "p.yml") }
}

@Test func theBundledKubernetesPlaybookLoadsAndUsesHelm() throws {
    let plan = makePlan(
        backup: v("1.0.73"), running: v("1.8.0"), knowledge: example, playbook: try bundledPlaybook(.kubernetes))
    #expect(plan.installation == .kubernetes)
    let commands = plan.steps.flatMap(\.commands)
    // Release, namespace, chart and claims are never assumed: they stay marked placeholders.
    #expect(commands.contains("helm upgrade <RELEASE> <CHART> --version 1.7.3 -n <NAMESPACE> --reuse-values"))
    #expect(commands.contains("kubectl -n <NAMESPACE> delete pvc <POSTGRESQL-CLAIM> <SERVICE-MANAGER-CLAIM>"))
}

@Test func theUpgradeStepPassesEachStop() throws {
    let known = knowledge(barrier("1.10.0", before: "1.1.0", last: "1.7.3"), stops: ["1.8.0", "1.9.0"])
    let plan = makePlan(backup: v("1.0.73"), running: v("1.10.2"), knowledge: known, playbook: try bundledPlaybook())
    let upgrade = try #require(plan.steps.first { $0.id == .upgrade })
    let installs = upgrade.commands.filter { $0.hasPrefix("bash ") }
    #expect(installs.map { $0.contains("/1.8.0/") } == [true, false, false])
    #expect(installs.map { $0.contains("/1.10.2/") } == [false, false, true])
}

@Test func directUnknownAndUpgradeFirstPlansHaveTheirOwnShortSteps() throws {
    let playbook = try bundledPlaybook()
    let direct = makePlan(backup: v("1.8.0"), running: v("1.8.0"), knowledge: example, playbook: playbook)
    #expect(direct.decision == .directRestore)
    #expect(direct.restoreVersion == v("1.8.0"))
    #expect(direct.steps.map(\.id.rawValue) == ["fresh-backup", "restore", "verify-restore", "restart"])

    let unknown = makePlan(backup: v("1.0.73"), running: v("1.8.0"), knowledge: .empty, playbook: playbook)
    #expect(unknown.decision == .compatibilityUnknown)
    #expect(unknown.steps.map(\.id.rawValue) == ["fresh-backup", "restore", "retry-if-refused", "verify-restore", "restart"])
    #expect(unknown.steps.flatMap(\.commands).contains { $0.hasPrefix("cwmigrate plan ") && $0.contains("--refusal") })

    let upgrade = makePlan(backup: v("1.9.0"), running: v("1.8.0"), knowledge: example, playbook: playbook)
    #expect(upgrade.decision == .upgradeFirst)
    #expect(upgrade.restoreVersion == v("1.9.0"))
    #expect(
        upgrade.steps.map(\.id.rawValue) == [
            "fresh-backup", "shutdown", "snapshot-volumes", "upgrade", "wait-healthy", "restore", "verify-restore",
            "restart",
        ])
}

@Test func anUpgradeFirstPlanCopiesTheVolumesBeforeItUpgradesTheLiveDatabase() throws {
    let plan = makePlan(backup: v("1.9.0"), running: v("1.8.0"), knowledge: example, playbook: try bundledPlaybook())
    let ids = plan.steps.map(\.id.rawValue)
    let snapshot = try #require(ids.firstIndex(of: "snapshot-volumes"))
    let shutdown = try #require(ids.firstIndex(of: "shutdown"))
    let upgrade = try #require(ids.firstIndex(of: "upgrade"))
    #expect(shutdown < snapshot && snapshot < upgrade)
    #expect(!ids.contains("remove-volumes"))
}

@Test func aBackupFileWithSpacesIsQuotedForTheShell() throws {
    let plan = makePlan(
        backup: v("1.0.73"), running: v("1.8.0"), knowledge: example, playbook: try bundledPlaybook(),
        backupFile: "/tmp/my backup's.tgz")
    #expect(plan.steps.flatMap(\.commands).contains { $0.hasSuffix("cwmigrate restore '/tmp/my backup'\\''s.tgz'") })
}

@Test func theJSONRenderingRoundTrips() throws {
    let refusal = RestoreRefusal(statusMessage: "last version 1.7.3", lastRestoringVersion: v("1.7.3"))
    let plan = makePlan(
        backup: v("1.0.73"), running: v("1.8.0"), knowledge: .empty, playbook: try bundledPlaybook(), refusal: refusal)
    let json = plan.renderJSON()
    let back = try JSONDecoder().decode(Plan.self, from: Data(json.utf8))
    #expect(back == plan)
    let object = try #require(try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any])
    #expect(object["decision"] as? String == "downgrade-required")
    #expect(object["restoreVersion"] as? String == "1.7.3")
    #expect(object["refusalMessage"] as? String == "last version 1.7.3")
    let steps = try #require(object["steps"] as? [[String: Any]])
    #expect(Set(steps[0].keys).isSuperset(of: ["id", "title", "destructive", "commands"]))
}

@Test func aPlanWithoutARestoreVersionHasANullKey() throws {
    let plan = makePlan(backup: v("1.0.73"), running: v("1.8.0"), knowledge: .empty, playbook: try bundledPlaybook())
    #expect(plan.renderJSON().contains("\"restoreVersion\" : null"))
}

@Test func theTextRenderingNumbersStepsAndMarksDestructiveOnes() throws {
    let plan = makePlan(backup: v("1.0.73"), running: v("1.8.0"), knowledge: example, playbook: try bundledPlaybook())
    let text = plan.renderText(color: false)
    let lines = text.split(separator: "\n").map(String.init)
    #expect(lines.first == "Decision: downgrade-required")
    #expect(
        lines.contains { $0.hasPrefix("4. ") && $0.contains("[remove-volumes]") && $0.hasSuffix("[DESTROYS DATA]") })
    #expect(lines.contains { $0.hasPrefix("11. ") && $0.contains("[re-backup]") })
    #expect(lines.contains("     docker volume rm connectware_postgresql"))
    #expect(!text.contains("\u{1B}["))
    #expect(plan.renderText(color: true).contains("\u{1B}[31;1m[DESTROYS DATA]"))
}

@Test func onASystemdManagedHostThePlanStopsAndStartsThroughSystemctl() throws {
    let playbook = try bundledPlaybook()
    let plan = makePlan(
        backup: v("1.0.73"), running: v("1.8.0"), knowledge: example, playbook: playbook.managedBySystemd(),
        backupFile: "/srv/backups/connectware-1.0.73.tgz")
    func step(_ kind: StepKind) throws -> Step { try #require(plan.steps.first { $0.id == kind }) }
    #expect(try step(.shutdown).commands == ["systemctl stop connectware"])
    #expect(try step(.shutdown).undo == ["systemctl start connectware"])
    // The installer restarts the unit itself: no compose run after it.
    for kind in [StepKind.installOlder, .upgrade] {
        let commands = try step(kind).commands
        #expect(commands.contains { $0.hasSuffix("connectware-online-installer.sh -s -d /opt/connectware") })
        #expect(commands.last == "# the installer restarts Connectware through systemd: systemctl restart connectware")
        #expect(!commands.contains { $0.contains("up -d") })
    }
    // Steps without a systemd variant are the same as on any other host.
    let plain = makePlan(
        backup: v("1.0.73"), running: v("1.8.0"), knowledge: example, playbook: playbook,
        backupFile: "/srv/backups/connectware-1.0.73.tgz")
    #expect(try step(.removeVolumes) == plain.steps.first { $0.id == .removeVolumes })
    #expect(plain.steps.first { $0.id == .shutdown }?.commands.contains("systemctl stop connectware") == false)
}

@Test func aSystemdVariantWithAnUnknownKeyOrPlaceholderIsReportedWithItsLine() throws {
    var text = try bundled("docker-compose.yml")
    text = text.replacingOccurrences(
        of: "        - systemctl stop connectware\n", with: "        - systemctl stop {{unitName}}\n      colour: red\n")
    #expect {
        try Playbook(yaml: text, source: "bad.yml")
    } throws: { error in
        guard case .invalidDataFile(_, let problems) = error as? PlannerError else { return false }
        let messages = problems.map(\.message)
        return messages.contains { $0.contains("unknown placeholder {{unitName}}") }
            && messages.contains { $0.contains("colour") }
    }
}
