import Foundation
import Planner
import Runbook
import TestSupport
import Testing

private let barrierYAML = """
    schema: 1
    barriers:
      - since: 1.8.0
        refusesBackupsBefore: 1.7.4
        lastRestoringVersion: 1.7.3
    upgradeStops: []
    """

private func version(_ text: String) throws -> Version { try Version(parsing: text) }

private func bundledPlaybook(_ kind: InstallationKind) throws -> Playbook {
    let path = TestSupport.packageRoot.appendingPathComponent("playbooks/\(kind.rawValue).yml").path
    return try Playbook(yaml: String(contentsOfFile: path, encoding: .utf8), source: path)
}

private let templatesDirectory = TestSupport.packageRoot.appendingPathComponent("playbooks/runbook").path

/// A downgrade (1.7.3 backup on 1.8.0) runbook in `format`, with the names in `given`.
private func render(
    _ format: RunbookFormat, installation: InstallationKind = .dockerCompose, given: [String: String] = [:],
    templates: String = templatesDirectory, backupFile: String = "/srv/backups/connectware-1.7.3.tgz"
) throws -> (plan: Plan, files: [RunbookFile]) {
    let (playbook, names) = resolveSiteNames(
        try bundledPlaybook(installation), given: given, trustPlaybookValues: false)
    let plan = makePlan(
        backup: try version("1.7.3"), running: try version("1.8.0"),
        knowledge: try CompatibilityKnowledge(yaml: barrierYAML, source: "test.yml"), playbook: playbook,
        backupFile: backupFile)
    let subject = RunbookSubject(
        instanceURL: "https://connectware.plant.example", backupFile: backupFile,
        backupID: "1.7.3_2026-11-20T10:00:00.000Z", backupSHA256: String(repeating: "ab", count: 32),
        generatedAt: Date(timeIntervalSince1970: 1_795_000_000), names: names,
        cwmigrateBinary: "/usr/local/bin/cwmigrate")
    return (
        plan,
        try renderRunbook(plan, subject: subject, format: format, templates: RunbookTemplates(directory: templates))
    )
}

/// The text between the heading of step `number` and the next step heading.
private func section(of number: Int, in markdown: String) -> String {
    guard let start = markdown.range(of: "\n## Step \(number): ") else { return "" }
    let rest = markdown[start.upperBound...]
    let end = rest.range(of: "\n## ")?.lowerBound ?? rest.endIndex
    return String(rest[..<end])
}

/// The ```sh blocks of a Markdown runbook, in order, each as its lines.
func shellBlocks(_ markdown: String) -> [[String]] {
    var blocks: [[String]] = []
    var current: [String]?
    for line in markdown.split(separator: "\n", omittingEmptySubsequences: false).map(String.init) {
        if current == nil, line == "```sh" {
            current = []
        } else if current != nil, line == "```" {
            blocks.append(current ?? [])
            current = nil
        } else if current != nil {
            current?.append(line)
        }
    }
    return blocks
}

@Suite("Runbook rendering")
struct RunbookRenderingTests {
    @Test func everyStepOfTheDowngradeHasItsHeadingInTheMarkdown() throws {
        let (plan, files) = try render(.markdown)
        #expect(files.map(\.name) == ["runbook.md"])
        let markdown = files[0].text
        #expect(plan.steps.count == 11)
        for (index, step) in plan.steps.enumerated() {
            #expect(markdown.contains("\n## Step \(index + 1): \(step.title)\n"), "step \(step.id)")
        }
    }

    @Test func theHeaderNamesInstanceVersionsDecisionAndTheBackupsIdAndChecksum() throws {
        let markdown = try render(.markdown).files[0].text
        #expect(markdown.contains("- **Instance:** https://connectware.plant.example\n"))
        #expect(markdown.contains("- **Decision:** downgrade-required\n"))
        #expect(markdown.contains("- **Restored on:** 1.7.3 (then upgraded: 1.8.0)\n"))
        #expect(markdown.contains("- **Backup id:** `1.7.3_2026-11-20T10:00:00.000Z`\n"))
        #expect(markdown.contains("- **Backup SHA-256:** `\(String(repeating: "ab", count: 32))`\n"))
        #expect(markdown.contains("- **Generated:** 2026-11-18 "))
        #expect(markdown.contains("`cwmigrate migrate --backup /srv/backups/connectware-1.7.3.tgz --precheck-only`"))
    }

    @Test func exactlyTheDestructiveStepsAreMarkedDestructive() throws {
        let (plan, files) = try render(.markdown)
        for (index, step) in plan.steps.enumerated() {
            let marked = section(of: index + 1, in: files[0].text).contains("**⚠ DESTRUCTIVE**")
            #expect(marked == step.destructive, "step \(step.id)")
        }
        #expect(plan.steps.filter(\.destructive).map(\.id.rawValue) == ["remove-volumes", "restore"])
    }

    @Test func eachStepHasPurposeCommandsCheckFailureRollbackAndAnInitialsLine() throws {
        let (plan, files) = try render(.markdown)
        for index in plan.steps.indices {
            let text = section(of: index + 1, in: files[0].text)
            #expect(text.contains("**Purpose.** "))
            #expect(text.contains("**Commands:**\n\n```sh\n"))
            #expect(text.contains("**If it fails.** "))
            #expect(text.contains("**Roll back:**"))
            #expect(text.contains("- [ ] Step \(index + 1) done — initials: ________ time (UTC): ________"))
        }
    }

    @Test func theShellBlocksAreThePlansCommandsInOrder() throws {
        let (plan, files) = try render(.markdown, given: ["project": "plant7", "directory": "/srv/plant7"])
        #expect(shellBlocks(files[0].text) == plan.steps.map(\.commands))
    }

    @Test func unknownComposeNamesAreMarkedPlaceholdersWithTheCommandThatFindsThem() throws {
        let markdown = try render(.markdown).files[0].text
        #expect(markdown.contains("docker volume rm <PROJECT>_postgresql\n"))
        #expect(
            markdown.contains(
                "bash /var/backups/cwmigrate/installers/1.7.3/connectware-online-installer.sh -s -d <DIRECTORY>"))
        #expect(
            markdown.contains(
                "- **Compose project:** `<PROJECT>` ⚠ **PLACEHOLDER** — find it with `docker ps --filter label=io.cybus.connectware=core"
            ))
        #expect(!markdown.contains("connectware_postgresql"), "the vendor default is never assumed")
    }

    @Test func givenComposeNamesAppearInTheCommands() throws {
        let markdown = try render(.markdown, given: ["project": "plant7", "directory": "/srv/plant7"]).files[0].text
        #expect(markdown.contains("docker volume rm plant7_postgresql\n"))
        #expect(markdown.contains("docker volume rm plant7_service-manager\n"))
        #expect(markdown.contains("cd /srv/plant7 && $COMPOSE -p plant7 up -d\n"))
        #expect(markdown.contains("--filter label=com.docker.compose.project=plant7 | xargs -r docker stop\n"))
        #expect(!markdown.contains("<PROJECT>") && !markdown.contains("<DIRECTORY>"))
        #expect(!markdown.contains("PLACEHOLDER"))
    }

    @Test func theKubernetesRunbookScalesDownCopiesDeletesClaimsAndUsesHelm() throws {
        let given = [
            "namespace": "iot", "release": "cw", "chart": "cybus/connectware",
            "postgresqlClaim": "data-cw-postgresql-0",
            "serviceManagerClaim": "data-cw-service-manager-0", "copyImage": "registry.cybus.io/cybus/postgresql:1.8.0",
        ]
        let (plan, files) = try render(.markdown, installation: .kubernetes, given: given)
        let markdown = files[0].text
        for (index, step) in plan.steps.enumerated() {
            #expect(markdown.contains("\n## Step \(index + 1): \(step.title)\n"))
        }
        #expect(markdown.contains("kubectl -n iot scale sts,deploy -l app.kubernetes.io/instance=cw --replicas=0\n"))
        #expect(markdown.contains("\"claimName\":\"data-cw-postgresql-0\""))
        #expect(markdown.contains("kubectl -n iot delete pvc data-cw-postgresql-0 data-cw-service-manager-0\n"))
        // The copy pods run the image given, one the cluster has; nothing from the internet.
        #expect(
            markdown.contains(
                "run cwmigrate-copy-postgresql --image=registry.cybus.io/cybus/postgresql:1.8.0 --image-pull-policy=IfNotPresent "
            ))
        #expect(markdown.contains(#""image":"registry.cybus.io/cybus/postgresql:1.8.0","imagePullPolicy":"IfNotPresent""#))
        #expect(!markdown.contains("busybox"))
        #expect(markdown.contains("helm upgrade cw cybus/connectware --version 1.7.3 -n iot --reuse-values\n"))
        #expect(markdown.contains("helm upgrade cw cybus/connectware --version 1.8.0 -n iot --reuse-values\n"))
        #expect(
            markdown.contains(
                "cwmigrate backup --output /var/backups/cwmigrate/connectware-after-migration-1.8.0.tgz\n"))
        #expect(!markdown.contains("PLACEHOLDER"))
    }

    @Test func theKubernetesRunbookLogsInAsTheInitialAdminOfTheHelmValuesUntilTheRestoreHasFinished() throws {
        let given = ["namespace": "iot", "release": "cw", "chart": "cybus/connectware"]
        let markdown = try render(.markdown, installation: .kubernetes, given: given).files[0].text
        // After the claims are deleted the fresh install knows only the initial admin, whose
        // password is a Base64 Helm value, as `.env` holds it on Compose.
        #expect(
            markdown.contains(
                #"CWMIGRATE_INITIAL_PASSWORD="$(helm get values cw -n iot --all -o json | jq -r '.global.userManagement.adminUser.initialPassword' | base64 -d)" && export CWMIGRATE_INITIAL_PASSWORD"#
                    + "\n"), "\(markdown)")
        #expect(
            markdown.contains(
                #"until cwmigrate status 2>/dev/null || CWMIGRATE_PASSWORD="$CWMIGRATE_INITIAL_PASSWORD" cwmigrate status 2>/dev/null"#
            ))
        #expect(
            markdown.contains(
                #"CWMIGRATE_BACKUP_PASSWORD="$CWMIGRATE_PASSWORD" CWMIGRATE_PASSWORD="$CWMIGRATE_INITIAL_PASSWORD" cwmigrate restore "#
            ))
    }

    @Test func unknownKubernetesNamesArePlaceholdersNeverAssumed() throws {
        let markdown = try render(.markdown, installation: .kubernetes, given: ["namespace": "iot"]).files[0].text
        #expect(markdown.contains("helm upgrade <RELEASE> <CHART> --version 1.7.3 -n iot --reuse-values\n"))
        #expect(markdown.contains("kubectl -n iot delete pvc <POSTGRESQL-CLAIM> <SERVICE-MANAGER-CLAIM>\n"))
        #expect(
            markdown.contains("- **Helm release:** `<RELEASE>` ⚠ **PLACEHOLDER** — find it with `helm list -n iot`"))
        #expect(markdown.contains("find it with `kubectl get pvc,sts -n iot -l app.kubernetes.io/instance=<RELEASE>`"))
        #expect(markdown.contains("--image=<COPY-IMAGE> "))
        #expect(
            markdown.contains(
                "- **Image for the copy pods (the PostgreSQL StatefulSet's):** `<COPY-IMAGE>` ⚠ **PLACEHOLDER** — find it with `kubectl get sts -n iot -l app.kubernetes.io/instance=<RELEASE> -o wide`"
            ), "\(markdown)")
        #expect(!markdown.contains("busybox"), "no image a plant's cluster would have to pull from the internet")
        #expect(!markdown.contains(" connectware "), "no release or namespace named after the vendor default")
    }

    @Test(arguments: [
        // (setting, installation, value, accepted)
        ("project", InstallationKind.dockerCompose, "connectware", true),
        ("project", .dockerCompose, "plant_7-a", true),
        ("project", .dockerCompose, "Connectware", false),
        ("project", .dockerCompose, "-x", false),
        ("project", .dockerCompose, "line`code`", false),
        ("directory", .dockerCompose, "/opt/connectware", true),
        ("directory", .dockerCompose, "/opt/my plant", false),
        ("directory", .dockerCompose, "opt/connectware", false),
        ("directory", .dockerCompose, "/opt/$(rm -rf ~)", false),
        ("namespace", .kubernetes, "iot", true),
        ("namespace", .kubernetes, "plant-7", true),
        ("namespace", .kubernetes, "plant-", false),
        ("namespace", .kubernetes, "Plant", false),
        ("namespace", .kubernetes, String(repeating: "a", count: 63), true),
        ("namespace", .kubernetes, String(repeating: "a", count: 64), false),
        ("release", .kubernetes, String(repeating: "a", count: 53), true),
        ("release", .kubernetes, String(repeating: "a", count: 54), false),
        ("postgresqlClaim", .kubernetes, "data-cw-postgresql-0", true),
        ("postgresqlClaim", .kubernetes, "a.b-c.d", true),
        ("postgresqlClaim", .kubernetes, "a..b", false),
        ("postgresqlClaim", .kubernetes, "pg data", false),
        ("chart", .kubernetes, "cybus/connectware", true),
        ("chart", .kubernetes, "oci://registry.plant:5000/charts/connectware", true),
        ("chart", .kubernetes, "cybus/connectware;reboot", false),
        ("copyImage", .kubernetes, "registry.cybus.io/cybus/postgresql:1.8.0", true),
        ("copyImage", .kubernetes, "mirror:5000/pg@sha256:abc", true),
        ("copyImage", .kubernetes, "pg' --privileged '", false),
        ("project", .dockerCompose, "", false),
        ("directory", .dockerCompose, "", false),
        ("directory", .dockerCompose, "/opt/cw\nrm -rf /", false),
        ("namespace", .kubernetes, "", false),
        ("release", .kubernetes, "cw\n", false),
        ("chart", .kubernetes, "", false),
        ("anyOtherSetting", .kubernetes, "any thing; at all", true),
    ])
    func aSiteNameIsTakenOnlyInItsKindsSyntax(
        setting: String, installation: InstallationKind, value: String, accepted: Bool
    ) {
        let problem = siteNameProblem(setting, value, installation: installation)
        #expect((problem == nil) == accepted, "\(setting) \(value): \(problem ?? "accepted")")
    }

    @Test func aHostileProjectNameIsEscapedInTheHTML() throws {
        let hostile = "<script>alert('x')</script>&"
        let html = try render(.html, given: ["project": hostile, "directory": "/srv/a\"b"]).files[0].text
        #expect(!html.contains("<script>"))
        #expect(
            html.contains("&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;&amp;_postgresql")
                || html.contains("&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;&amp;_postgresql"))
        #expect(!html.contains("/srv/a\"b"))
    }

    @Test func theHTMLIsSelfContainedAndBreaksPagesBetweenSteps() throws {
        let (plan, files) = try render(.html)
        let html = files[0].text
        #expect(files.map(\.name) == ["runbook.html"])
        #expect(
            !html.contains("<link") && !html.contains("src=") && !html.contains("@import") && !html.contains("url("))
        #expect(html.contains("page-break-before: always"))
        #expect(html.contains("One archive per volume; <code>tar -tzf</code> lists its files"), "wording code as code")
        #expect(html.components(separatedBy: "<section class=\"step\" id=\"step-").count - 1 == plan.steps.count)
        #expect(html.components(separatedBy: "class=\"destructive\"").count - 1 == 2)
    }

    @Test func aTemplateDirectoryOverrideChangesTheWording() throws {
        let directory = try TestSupport.temporaryDirectory("runbook-templates")
        defer { try? FileManager.default.removeItem(at: directory) }
        for name in try FileManager.default.contentsOfDirectory(atPath: templatesDirectory) {
            try FileManager.default.copyItem(
                atPath: templatesDirectory + "/" + name, toPath: directory.appendingPathComponent(name).path)
        }
        let wording = directory.appendingPathComponent("steps.yml")
        let text = try String(contentsOf: wording, encoding: .utf8)
        try text.replacingOccurrences(
            of: "  restart:\n    purpose: The vendor recommends restarting Connectware after a restore.",
            with: "  restart:\n    purpose: Werk 7 restarts after every restore (change board rule 12).",
            options: [], range: nil
        ).write(to: wording, atomically: true, encoding: .utf8)
        let template = directory.appendingPathComponent("runbook.md.mustache")
        try (try String(contentsOf: template, encoding: .utf8))
            .replacingOccurrences(of: "# Runbook: restore", with: "# Änderungsantrag: restore")
            .write(to: template, atomically: true, encoding: .utf8)

        let (playbook, names) = resolveSiteNames(
            try bundledPlaybook(.dockerCompose), given: [:], trustPlaybookValues: false)
        let plan = makePlan(
            backup: try version("1.8.0"), running: try version("1.8.0"), knowledge: .empty, playbook: playbook)
        let subject = RunbookSubject(
            instanceURL: nil, backupFile: "/b.tgz", backupID: nil, backupSHA256: nil, generatedAt: Date(), names: names)
        let changed = try renderRunbook(
            plan, subject: subject, format: .markdown, templates: RunbookTemplates(directory: directory.path))[0].text
        let original = try renderRunbook(
            plan, subject: subject, format: .markdown, templates: RunbookTemplates(directory: templatesDirectory))[0]
            .text
        #expect(changed.hasPrefix("# Änderungsantrag: restore a Connectware 1.8.0 backup"))
        #expect(changed.contains("**Purpose.** Werk 7 restarts after every restore (change board rule 12)."))
        #expect(!original.contains("Werk 7"))
        #expect(original.contains("- **Instance:** (not given)\n"))
    }

    @Test func aBrokenTemplateIsReportedWithItsPath() throws {
        let directory = try TestSupport.temporaryDirectory("runbook-templates")
        defer { try? FileManager.default.removeItem(at: directory) }
        try "{{#steps}} unclosed".write(
            to: directory.appendingPathComponent("runbook.md.mustache"), atomically: true, encoding: .utf8)
        try "steps: {}\n".write(to: directory.appendingPathComponent("steps.yml"), atomically: true, encoding: .utf8)
        #expect {
            _ = try RunbookTemplates(directory: directory.path)
        } throws: { error in
            guard case .invalidTemplate(let path, _)? = error as? RunbookError else { return false }
            return path == directory.appendingPathComponent("runbook.md.mustache").path
        }
    }

    @Test func anUnknownStepInTheWordingFileIsRejected() throws {
        let directory = try TestSupport.temporaryDirectory("runbook-templates")
        defer { try? FileManager.default.removeItem(at: directory) }
        try "x".write(to: directory.appendingPathComponent("runbook.md.mustache"), atomically: true, encoding: .utf8)
        try "steps:\n  reboot-the-plant:\n    purpose: no\n".write(
            to: directory.appendingPathComponent("steps.yml"), atomically: true, encoding: .utf8)
        let plan = makePlan(
            backup: try version("1.8.0"), running: try version("1.8.0"), knowledge: .empty,
            playbook: try bundledPlaybook(.dockerCompose))
        let subject = RunbookSubject(
            instanceURL: nil, backupFile: "/b.tgz", backupID: nil, backupSHA256: nil, generatedAt: Date(), names: [])
        #expect {
            _ = try renderRunbook(
                plan, subject: subject, format: .markdown, templates: RunbookTemplates(directory: directory.path))
        } throws: { error in
            (error as? RunbookError)?.description.contains("unknown step `reboot-the-plant`") ?? false
        }
    }

    @Test func theAnsibleFilesNameTheBackupAndKeepCredentialsOut() throws {
        let (_, files) = try render(.ansible, backupFile: "/srv/backups/odd \"{{ name }}\".tgz")
        #expect(files.map(\.name) == ["site.yml", "inventory.example.ini", "README.md", "plan.json"])
        let site = files[0].text
        #expect(site.contains("runbook_backup: !unsafe \"/srv/backups/odd \\\"{{ name }}\\\".tgz\"\n"))
        #expect(site.contains("CWMIGRATE_PASSWORD: \"{{ vault_cwmigrate_password"))
        #expect(site.contains("any_errors_fatal: true"))
        #expect(site.contains("'--precheck-only'"))
        #expect(site.contains("serial: \"{{ cwmigrate_serial | default(1) }}\""))
        // The rollout stops by its own end_play, not by Ansible's max_fail_percentage, which
        // would end the playbook before the summary.
        #expect(site.contains("ansible.builtin.meta: end_play"))
        #expect(!site.contains("\n  max_fail_percentage:"))
        #expect(site.contains("'--resume', cwm_resume_run"))
        #expect(site.components(separatedBy: "no_log: true").count - 1 == 4)
        #expect(site.contains("runbook_backup_sha256: !unsafe \"\(String(repeating: "ab", count: 32))\""))
    }
}

@Test func anAnsiblePlaybookNeedsADirectoryComposeHostsAndTheWholeArchiveWhereTheDocumentsNeedNone() throws {
    #expect(throws: RunbookError.ansibleWithoutDirectory) {
        try RunbookFormat.ansible.check(output: nil, installation: nil, quick: false)
    }
    #expect(throws: RunbookError.ansibleForKubernetes) {
        try RunbookFormat.ansible.check(output: "fleet", installation: .kubernetes, quick: false)
    }
    #expect(throws: RunbookError.ansibleFromPartialRead) {
        try RunbookFormat.ansible.check(output: "fleet", installation: .dockerCompose, quick: true)
    }
    try RunbookFormat.ansible.check(output: "fleet", installation: nil, quick: false)
    for format in [RunbookFormat.markdown, .html] {
        try format.check(output: nil, installation: .kubernetes, quick: true)
    }
}
