import Foundation
import TestSupport
import Testing

/// A password no runbook, playbook or message may ever contain.
private let secret = "pw-Zq81!never-in-a-runbook"

/// Runs `cwmigrate runbook` with a private state directory and the given environment.
private func runbook(_ arguments: [String], environment: [String: String] = [:], in directory: URL? = nil) throws
    -> ProgramResult
{
    let state = try TestSupport.temporaryDirectory("cwmigrate-state")
    defer { try? FileManager.default.removeItem(at: state) }
    var env = ["XDG_STATE_HOME": state.path]
    for (k, v) in environment { env[k] = v }
    return try TestSupport.run(
        TestSupport.product("cwmigrate"), ["runbook"] + arguments, environment: env, currentDirectory: directory)
}

/// A backup shaped like Connectware's (an id directory with metadata and a dump), in a fresh directory.
private func exampleBackup(version: String = "1.0.73") throws -> (file: URL, directory: URL) {
    let dir = try TestSupport.temporaryDirectory("runbook-cli")
    let id = "\(version)_2022-02-16T15:37:19.242Z"
    let name = "connectware-\(version).tgz"
    try TestSupport.shell(
        """
        mkdir -p 'src/\(id)' && printf '{"version":"\(version)","id":"\(id)"}' > 'src/\(id)/metadata.json' \
        && printf 'PGDMP' > 'src/\(id)/cybus_connectware.dump' && tar -C src -czf '\(name)' '\(id)'
        """, in: dir)
    return (dir.appendingPathComponent(name), dir)
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

private func text(_ url: URL) throws -> String { try String(contentsOf: url, encoding: .utf8) }

/// The step headings of a Markdown runbook, without the `## ` mark.
private func stepHeadings(_ markdown: String) -> [String] {
    markdown.split(separator: "\n").filter { $0.hasPrefix("## Step ") }.map { String($0.dropFirst(3)) }
}

/// ansible-playbook from the venv scripts/setup makes (CWMIGRATE_ANSIBLE_VENV overrides where).
private func ansiblePlaybook() throws -> URL {
    let venv = ProcessInfo.processInfo.environment["CWMIGRATE_ANSIBLE_VENV"] ?? "/var/tmp/cwmigrate-venv"
    let url = URL(fileURLWithPath: venv + "/bin/ansible-playbook")
    guard FileManager.default.isExecutableFile(atPath: url.path) else {
        throw RunbookToolMissing(tool: url.path)
    }
    return url
}

struct RunbookToolMissing: Error, CustomStringConvertible {
    let tool: String
    var description: String {
        "\(tool) is missing: run scripts/setup (it installs chromium, poppler-utils, ansible-core)"
    }
}

@Suite("cwmigrate runbook")
struct RunbookCLITests {
    @Test func theMarkdownRunbookCarriesTheBackupsChecksumAndEveryStep() throws {
        let backup = try exampleBackup()
        defer { try? FileManager.default.removeItem(at: backup.directory) }
        let result = try runbook([
            "--backup", backup.file.path, "--running", "1.8.0", "--project", "plant7", "--compat",
            TestSupport.exampleCompat,
        ])
        #expect(result.status == 0)
        let sha = try TestSupport.shell("sha256sum '\(backup.file.path)' | cut -d' ' -f1").stdout
            .trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(result.stdout.contains("- **Backup SHA-256:** `\(sha)`"))
        #expect(result.stdout.contains("- **Backup id:** `1.0.73_2022-02-16T15:37:19.242Z`"))
        #expect(result.stdout.contains("- **Backup file:** `\(backup.file.path)`"))
        #expect(stepHeadings(result.stdout).count == 11)
        #expect(result.stdout.contains("docker volume rm plant7_postgresql\n"))
        #expect(result.stderr.contains("note: the runbook shows placeholders for <DIRECTORY>; give --directory"))
    }

    @Test func onAHostWithTheSystemdUnitTheRunbookStopsAndStartsThroughSystemctl() throws {
        let backup = try exampleBackup()
        defer { try? FileManager.default.removeItem(at: backup.directory) }
        let arguments = [
            "--backup", backup.file.path, "--running", "1.8.0", "--project", "connectware", "--directory",
            "/opt/connectware", "--compat", TestSupport.exampleCompat,
        ]
        let unit = backup.directory.appendingPathComponent("connectware.service").path
        let environment = ["CWMIGRATE_SYSTEMD_UNIT": unit]
        let without = try runbook(arguments, environment: environment)
        #expect(without.status == 0)
        #expect(!without.stdout.contains("systemctl"))
        try "[Service]\nType=oneshot\nExecStart=docker compose up -d\nExecStop=docker compose down\n".write(
            toFile: unit, atomically: true, encoding: .utf8)
        for format in ["markdown", "html"] {
            let result = try runbook(arguments + ["--format", format], environment: environment)
            #expect(result.status == 0, "\(result.stderr)")
            #expect(result.stdout.contains("systemctl stop connectware"), "\(format)")
            #expect(result.stdout.contains("systemctl start connectware"), "\(format)")
            #expect(result.stdout.contains("the installer restarts Connectware through systemd"), "\(format)")
            #expect(!result.stdout.contains("xargs -r docker stop"), "\(format)")
        }
        let markdown = try runbook(arguments, environment: environment).stdout
        #expect(!shellBlocks(markdown).flatMap { $0 }.contains { $0.hasSuffix("-p connectware up -d") })
    }

    @Test func theRunbookHoldsTheSameStepsAndCommandsAsPlan() throws {
        let backup = try exampleBackup()
        defer { try? FileManager.default.removeItem(at: backup.directory) }
        let arguments = ["--backup", backup.file.path, "--running", "1.8.0"]
        let plan = try TestSupport.run(TestSupport.product("cwmigrate"), ["plan", "--json"] + arguments)
        let json = try #require(JSONSerialization.jsonObject(with: Data(plan.stdout.utf8)) as? [String: Any])
        let steps = json["steps"] as? [[String: Any]] ?? []
        // The bundled playbook's defaults, given as names, so both name the same installation.
        let markdown = try runbook(arguments + ["--project", "connectware", "--directory", "/opt/connectware"]).stdout
        #expect(!steps.isEmpty)
        #expect(
            stepHeadings(markdown)
                == steps.enumerated().map { "Step \($0.offset + 1): \($0.element["title"] as? String ?? "")" })
        #expect(shellBlocks(markdown) == steps.map { $0["commands"] as? [String] ?? [] })
    }

    @Test func noPasswordAppearsInAnyFormatEvenWhenItIsInTheEnvironment() throws {
        let backup = try exampleBackup()
        defer { try? FileManager.default.removeItem(at: backup.directory) }
        let env = ["CWMIGRATE_PASSWORD": secret, "CWMIGRATE_USER": "admin"]
        let base = ["--backup", backup.file.path, "--running", "1.8.0"]
        for format in ["markdown", "html"] {
            let result = try runbook(base + ["--format", format], environment: env)
            #expect(result.status == 0)
            #expect(!result.stdout.contains(secret) && !result.stderr.contains(secret))
            #expect(result.stdout.contains("CWMIGRATE_PASSWORD"), "the runbook says where the password comes from")
        }
        let out = backup.directory.appendingPathComponent("fleet")
        let ansible = try runbook(base + ["--format", "ansible", "--output", out.path], environment: env)
        #expect(ansible.status == 0)
        for name in ["site.yml", "inventory.example.ini", "README.md"] {
            let content = try text(out.appendingPathComponent(name))
            #expect(!content.contains(secret), "\(name)")
        }
        #expect(try text(out.appendingPathComponent("site.yml")).contains("\"{{ vault_cwmigrate_password"))
    }

    @Test func anOutputFileIsWrittenWholeAndASymlinkThereIsReplacedNotFollowed() throws {
        let backup = try exampleBackup()
        defer { try? FileManager.default.removeItem(at: backup.directory) }
        let victim = backup.directory.appendingPathComponent("victim.txt")
        try "keep me\n".write(to: victim, atomically: true, encoding: .utf8)
        let output = backup.directory.appendingPathComponent("runbook.md")
        try FileManager.default.createSymbolicLink(at: output, withDestinationURL: victim)
        let result = try runbook([
            "--backup", backup.file.path, "--running", "1.8.0", "--output", output.path, "--force",
        ])
        #expect(result.status == 0)
        #expect(result.stdout.isEmpty)
        #expect(try text(victim) == "keep me\n")
        let attributes = try FileManager.default.attributesOfItem(atPath: output.path)
        #expect(attributes[.type] as? FileAttributeType == .typeRegular)
        #expect((attributes[.posixPermissions] as? Int) == 0o644)
        #expect(try text(output).hasPrefix("# Runbook: restore a Connectware 1.0.73 backup on Connectware 1.8.0\n"))
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: backup.directory.path)
            .filter { $0.contains(".tmp-") }
        #expect(leftovers.isEmpty)
    }

    @Test func anAnsibleOutputDirectoryThatIsASymlinkIsRefused() throws {
        let backup = try exampleBackup()
        defer { try? FileManager.default.removeItem(at: backup.directory) }
        let elsewhere = backup.directory.appendingPathComponent("elsewhere")
        try FileManager.default.createDirectory(at: elsewhere, withIntermediateDirectories: true)
        let link = backup.directory.appendingPathComponent("fleet")
        try FileManager.default.createSymbolicLink(at: link, withDestinationURL: elsewhere)
        let result = try runbook([
            "--backup", backup.file.path, "--running", "1.8.0", "--format", "ansible", "--output", link.path,
        ])
        #expect(result.status == 73)
        #expect(
            result.stderr.hasPrefix(
                "error: cannot write \(link.path): \(link.path) is not a directory (a symlink is not followed)"),
            "\(result.stderr)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: elsewhere.path).isEmpty)
    }

    @Test func wrongCombinationsAreUsageErrors() throws {
        let backup = try exampleBackup()
        defer { try? FileManager.default.removeItem(at: backup.directory) }
        let base = ["--backup", backup.file.path, "--running", "1.8.0"]
        let noDirectory = try runbook(base + ["--format", "ansible"])
        #expect(noDirectory.status == 64)
        #expect(noDirectory.stderr.contains("--format ansible writes several files: give --output DIR"))
        let release = try runbook(base + ["--release", "cw"])
        #expect(release.status == 64)
        #expect(release.stderr.contains("--release is for kubernetes installations"))
        let project = try runbook(base + ["--installation", "kubernetes", "--project", "x"])
        #expect(project.status == 64)
        // A name the commands would carry broken is refused before the backup is read.
        let spaced = try runbook(["--backup", "/nonexistent/backup.tgz", "--running", "1.8.0", "--directory", "/opt/my plant"])
        #expect(spaced.status == 64)
        #expect(
            spaced.stderr
                == "error: --directory '/opt/my plant': the commands use the directory unquoted, and it holds a space\n"
                + "hint: the runbook writes it into its commands as given; leave it out to show a placeholder with the command that finds it\n"
        )
        let namespace = try runbook(base + ["--installation", "kubernetes", "--namespace", "Plant 7"])
        #expect(namespace.status == 64)
        #expect(namespace.stderr.hasPrefix("error: --namespace 'Plant 7': it must be at most 63 lowercase letters"))
        #expect(namespace.stdout.isEmpty)
        let neither = try runbook(["--backup", backup.file.path], environment: ["CWMIGRATE_URL": ""])
        #expect(neither.status == 64)
        #expect(neither.stderr.contains("--running VERSION"))
    }

    @Test func aMissingTemplatesDirectoryIsOneErrorLine() throws {
        let backup = try exampleBackup()
        defer { try? FileManager.default.removeItem(at: backup.directory) }
        let result = try runbook([
            "--backup", backup.file.path, "--running", "1.8.0", "--templates", "/nonexistent/templates",
        ])
        #expect(result.status == 66)
        #expect(
            result.stderr.hasPrefix("error: the runbook templates directory /nonexistent/templates does not exist\n"))
    }

    @Test func aBrokenTemplateIsOneErrorLineWithItsFileAndLine() throws {
        let backup = try exampleBackup()
        defer { try? FileManager.default.removeItem(at: backup.directory) }
        let templates = backup.directory.appendingPathComponent("templates")
        try FileManager.default.createDirectory(at: templates, withIntermediateDirectories: true)
        try "# Runbook\n\n{{#steps}}\n## {{title}}\n".write(
            to: templates.appendingPathComponent("runbook.md.mustache"), atomically: true, encoding: .utf8)
        try "steps: {}\n".write(to: templates.appendingPathComponent("steps.yml"), atomically: true, encoding: .utf8)
        let result = try runbook(["--backup", backup.file.path, "--running", "1.8.0", "--templates", templates.path])
        #expect(result.status == 65)
        #expect(
            result.stderr == "error: \(templates.path)/runbook.md.mustache is not a valid Mustache template: "
                + "line 3: section `steps` is not closed with `{{/steps}}`\nhint: see README.md, section runbook\n")
    }

    @Test func aMissingTemplatesDirectoryIsSaidBeforeTheBackupIsRead() throws {
        // A damaged archive would be an error of its own (exit 65): the templates come first.
        let backup = try exampleBackup()
        defer { try? FileManager.default.removeItem(at: backup.directory) }
        try Data("not a gzip archive".utf8).write(to: backup.file)
        let result = try runbook([
            "--backup", backup.file.path, "--running", "1.8.0", "--templates", "/nonexistent/templates",
        ])
        #expect(result.status == 66)
        #expect(
            result.stderr == "error: the runbook templates directory /nonexistent/templates does not exist\n"
                + "hint: --templates DIR must name a directory of *.mustache files and steps.yml\n")
    }

    @Test func theKubernetesRunbookNamesWhatItWasGivenAndMarksTheRest() throws {
        let backup = try exampleBackup()
        defer { try? FileManager.default.removeItem(at: backup.directory) }
        let result = try runbook([
            "--backup", backup.file.path, "--running", "1.8.0", "--installation", "kubernetes", "--namespace", "iot",
            "--release", "cw", "--chart", "cybus/connectware", "--postgresql-claim", "pg-data", "--copy-image",
            "mirror.plant:5000/cybus/postgresql:1.8.0", "--compat", TestSupport.exampleCompat,
        ])
        #expect(result.status == 0)
        #expect(
            result.stdout.contains("kubectl -n iot scale sts,deploy -l app.kubernetes.io/instance=cw --replicas=0\n"))
        #expect(result.stdout.contains("kubectl -n iot delete pvc pg-data <SERVICE-MANAGER-CLAIM>\n"))
        #expect(result.stdout.contains("helm upgrade cw cybus/connectware --version 1.7.3 -n iot --reuse-values\n"))
        #expect(result.stdout.contains("--image=mirror.plant:5000/cybus/postgresql:1.8.0 "))
        #expect(result.stderr.contains("give --service-manager-claim to fill them in"))
    }

    @Test func everyStepHeadingIsInThePDFChromiumPrintsFromTheHTML() throws {
        let backup = try exampleBackup()
        defer { try? FileManager.default.removeItem(at: backup.directory) }
        let html = backup.directory.appendingPathComponent("runbook.html")
        let pdf = backup.directory.appendingPathComponent("runbook.pdf")
        let compat = ["--compat", TestSupport.exampleCompat]
        let markdown = try runbook(["--backup", backup.file.path, "--running", "1.8.0", "--project", "plant7"] + compat)
        let made = try runbook(
            [
                "--backup", backup.file.path, "--running", "1.8.0", "--project", "plant7", "--format", "html", "--output",
                html.path,
            ] + compat)
        #expect(made.status == 0)
        guard
            let chromium = ["/usr/bin/chromium", "/usr/bin/chromium-browser"].first(where: {
                FileManager.default.isExecutableFile(atPath: $0)
            })
        else { throw RunbookToolMissing(tool: "chromium") }
        let profile = backup.directory.appendingPathComponent("profile")
        let printed = try TestSupport.run(
            URL(fileURLWithPath: "/usr/bin/timeout"),
            [
                "-s", "KILL", "60", chromium, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
                "--user-data-dir=\(profile.path)", "--print-to-pdf=\(pdf.path)", html.path,
            ], environment: ["HOME": backup.directory.path])
        #expect(printed.status == 0, "\(printed.stderr)")
        let pdfText = try TestSupport.run(URL(fileURLWithPath: "/usr/bin/pdftotext"), [pdf.path, "-"])
        #expect(pdfText.status == 0)
        // pdftotext breaks long headings over lines; compare with all white space as single spaces.
        let flat = pdfText.stdout.split(whereSeparator: \.isWhitespace).joined(separator: " ")
        let headings = stepHeadings(markdown.stdout)
        #expect(headings.count == 11)
        for heading in headings {
            #expect(flat.contains(heading.split(whereSeparator: \.isWhitespace).joined(separator: " ")), "\(heading)")
        }
        #expect(flat.contains("DESTRUCTIVE"))
        let pages = try TestSupport.run(URL(fileURLWithPath: "/usr/bin/pdfinfo"), [pdf.path]).stdout
        let count =
            pages.split(separator: "\n").first { $0.hasPrefix("Pages:") }
            .flatMap { Int($0.split(separator: " ").last ?? "") } ?? 0
        #expect(count > headings.count, "a page per step, plus the header and the sign-off")
    }

    @Test func theGeneratedAnsiblePlaybookPassesAnsiblesSyntaxCheck() throws {
        let backup = try exampleBackup()
        defer { try? FileManager.default.removeItem(at: backup.directory) }
        let out = backup.directory.appendingPathComponent("fleet")
        let made = try runbook([
            "--backup", backup.file.path, "--running", "1.8.0", "--format", "ansible", "--output", out.path,
        ])
        #expect(made.status == 0)
        let check = try TestSupport.run(
            try ansiblePlaybook(),
            [
                "--syntax-check", "-i", out.appendingPathComponent("inventory.example.ini").path,
                out.appendingPathComponent("site.yml").path,
            ],
            environment: ["ANSIBLE_LOCAL_TEMP": backup.directory.path + "/ansible-tmp", "ANSIBLE_NOCOLOR": "1"])
        #expect(check.status == 0, "\(check.stdout)\(check.stderr)")
        #expect(check.stdout.contains("playbook: \(out.path)/site.yml"))
    }
}
