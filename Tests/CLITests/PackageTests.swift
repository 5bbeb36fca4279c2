import Foundation
import TestSupport
import Testing

// The shipped artifact, tested the way an operator meets it: unpacked and installed by its
// install.sh into a root file system that holds busybox and the C libraries the binary
// loads, and nothing of Swift. The artifact is the one scripts/package built when
// CWMIGRATE_ARTIFACT names it (scripts/test builds it once), else built here.

/// The artifact's .tar.gz, built at most once per test run.
private let artifact: Result<URL, PackagingFailed> = {
    if let given = ProcessInfo.processInfo.environment["CWMIGRATE_ARTIFACT"], !given.isEmpty {
        return .success(URL(fileURLWithPath: given))
    }
    do {
        // scripts/package's own output directory (.build/dist), so no test run leaves a copy behind.
        let result = try TestSupport.shell("scripts/package", in: TestSupport.packageRoot)
        let path = result.stdout.split(separator: "\n").last.map(String.init) ?? ""
        return .success(URL(fileURLWithPath: path))
    } catch {
        return .failure(PackagingFailed(description: "scripts/package failed: \(error)"))
    }
}()

private struct PackagingFailed: Error, CustomStringConvertible {
    let description: String
}

/// The artifact unpacked into a fresh directory; returns that directory and the top folder inside.
private func unpacked() throws -> (directory: URL, top: URL) {
    let tarball = try artifact.get()
    let dir = try TestSupport.temporaryDirectory("cwmigrate-unpacked")
    try TestSupport.shell("tar -xzf '\(tarball.path)'", in: dir)
    let top = dir.appendingPathComponent(tarball.lastPathComponent.replacingOccurrences(of: ".tar.gz", with: ""))
    return (dir, top)
}

/// A root file system of busybox and the shared libraries `binary` loads (all but those
/// matching `leavingOut`), with the example backup in /tmp and the unpacked artifact in /tmp/artifact.
private func makeRoot(artifactTop top: URL, leavingOut: String? = nil) throws -> URL {
    let root = try TestSupport.temporaryDirectory("cwmigrate-root")
    let example = TestSupport.packageRoot
        .appendingPathComponent("examples/connectware-1.0.73_2022-02-16T15-37-19.242Z.tgz")
    try TestSupport.shell(
        """
        set -euo pipefail
        busybox="$(command -v busybox)"
        ldd "$busybox" >/dev/null 2>&1 && { echo "busybox is not static" >&2; exit 1; }
        mkdir -p bin tmp dev etc root proc
        mknod -m 666 dev/null c 1 3 2>/dev/null || : > dev/null
        cp "$busybox" bin/busybox
        # What the binary loads at start-up, and what it opens on first use with what that loads.
        libraries="$(ldd '\(top.path)/bin/cwmigrate'
          while read -r soname; do
            path="$(ldconfig -p | awk -v s="$soname" '$1 == s { print $NF; exit }')"
            echo "$path"; ldd "$path"
          done < '\(top.path)/share/cwmigrate/opened-libraries')"
        for lib in $(printf '%s\n' "$libraries" | grep -o '/[^ ]*' | sort -u); do
          \(leavingOut.map { "case \"$lib\" in *\($0)*) continue ;; esac" } ?? "")
          mkdir -p ".$(dirname "$lib")"
          cp -L "$lib" ".$lib"
        done
        cp -R '\(top.path)' tmp/artifact
        cp '\(example.path)' tmp/
        echo 'root:x:0:0:root:/root:/bin/sh' > etc/passwd
        """, in: root)
    _ = try inRoot(root, "/bin/busybox --install -s /bin")
    return root
}

/// Runs `script` with busybox sh inside `root`, with a bare environment and its own /proc
/// (the Swift runtime reads its arguments there), mounted in a mount namespace that ends with it.
private func inRoot(_ root: URL, _ script: String) throws -> ProgramResult {
    var command = ["unshare", "--mount", "--pid", "--fork", "--mount-proc=\(root.path)/proc"]
    // Without root, a user namespace maps the test's user to root for chroot.
    if getuid() != 0 { command.append("--map-root-user") }
    command += [
        "/usr/sbin/chroot", root.path, "/bin/busybox", "env", "-i", "PATH=/opt/cw/bin:/bin", "HOME=/root",
        "NO_COLOR=1", "/bin/busybox", "sh", "-c", script,
    ]
    return try TestSupport.run(URL(fileURLWithPath: "/usr/bin/env"), command)
}

/// The artifact and the package graph: `scripts/test` runs this suite on its own, once
/// `scripts/package` (built beside the other tests) has made the artifact.
@Suite("the release artifact and the package graph")
struct PackageTests {
    @Test func theArtifactHoldsTheBinaryPlaybooksCompletionsManPageReadmeAndChecksums() throws {
        let (dir, top) = try unpacked()
        defer { try? FileManager.default.removeItem(at: dir) }
        let name = top.lastPathComponent
        #expect(name.hasPrefix("cwmigrate-"))
        #expect(
            name.hasSuffix(
                "-linux-\(try TestSupport.shell("uname -m").stdout.trimmingCharacters(in: .whitespacesAndNewlines))"))
        for file in [
            "bin/cwmigrate", "install.sh", "README.md", "SHA256SUMS", "share/cwmigrate/playbooks/compat.yml",
            "share/cwmigrate/playbooks/docker-compose.yml", "share/cwmigrate/playbooks/kubernetes.yml",
            "share/man/man1/cwmigrate.1", "share/bash-completion/completions/cwmigrate",
            "share/zsh/site-functions/_cwmigrate", "share/fish/vendor_completions.d/cwmigrate.fish",
        ] {
            #expect(FileManager.default.fileExists(atPath: top.appendingPathComponent(file).path), "\(file) is missing")
        }
        let sums = try TestSupport.run(
            URL(fileURLWithPath: "/usr/bin/sha256sum"), ["-c", "SHA256SUMS"], currentDirectory: top)
        #expect(sums.status == 0)
        #expect(sums.stdout.contains("bin/cwmigrate: OK"))
        let libraries = try TestSupport.shell("ldd bin/cwmigrate", in: top).stdout
        #expect(!libraries.contains("libswift"))
        #expect(!libraries.contains("libFoundation"))
        // libarchive and libcurl are opened on first use, not at start-up; the artifact names them
        // for install.sh.
        #expect(!libraries.contains("libarchive.so"))
        #expect(!libraries.contains("libcurl.so"))
        let opened = try String(
            contentsOf: top.appendingPathComponent("share/cwmigrate/opened-libraries"), encoding: .utf8)
        #expect(opened == "libarchive.so.13\nlibcurl.so.4\n")
        let man = try String(contentsOf: top.appendingPathComponent("share/man/man1/cwmigrate.1"), encoding: .utf8)
        for subcommand in ["inspect", "plan", "status", "backup", "restore", "version"] {
            #expect(man.contains(subcommand), "the man page does not mention \(subcommand)")
        }
        // scripts/package bakes the version into a copy of the sources, never into the work tree.
        let buildInfo = try String(
            contentsOf: TestSupport.packageRoot.appendingPathComponent("Sources/cwmigrate/BuildInfo.swift"), encoding: .utf8
        )
        #expect(buildInfo.contains("static let version = \"0.1.0-dev\""))
        let bash = try String(
            contentsOf: top.appendingPathComponent("share/bash-completion/completions/cwmigrate"), encoding: .utf8)
        #expect(bash.contains("--playbooks"))
    }

    @Test func installedIntoARootWithoutSwiftItRunsVersionInspectAndPlan() throws {
        let (dir, top) = try unpacked()
        defer { try? FileManager.default.removeItem(at: dir) }
        let root = try makeRoot(artifactTop: top)
        defer { try? FileManager.default.removeItem(at: root) }
        let swiftLeft = try TestSupport.shell("find . -name 'libswift*' -o -name 'swift*' -type f | head -1", in: root)
        #expect(swiftLeft.stdout.isEmpty, "the root holds Swift: \(swiftLeft.stdout)")

        let expectedVersion = top.lastPathComponent
            .replacingOccurrences(of: "cwmigrate-", with: "")
            .replacing(#/-linux-[^-]+$/#, with: "")
        let install = try inRoot(root, "/tmp/artifact/install.sh --prefix /opt/cw")
        #expect(install.status == 0, "\(install.stderr)")
        #expect(install.stdout.contains("installed cwmigrate \(expectedVersion) to /opt/cw/bin/cwmigrate"))
        #expect(!install.stderr.contains("not checked"))
        #expect(
            FileManager.default.fileExists(
                atPath: root.appendingPathComponent("opt/cw/share/cwmigrate/playbooks/compat.yml").path))
        #expect(
            FileManager.default.fileExists(atPath: root.appendingPathComponent("opt/cw/share/man/man1/cwmigrate.1").path))

        let version = try inRoot(root, "cwmigrate --version")
        #expect(version.status == 0, "\(version.stderr)")
        #expect(version.stdout == expectedVersion + "\n")

        let json = try inRoot(root, "cwmigrate version --json")
        #expect(json.status == 0, "\(json.stderr)")
        let report = try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any]
        #expect(report?["version"] as? String == expectedVersion)
        let curl = report?["libcurl"] as? [String: Any]
        #expect((curl?["version"] as? String)?.first?.isNumber == true)
        let archive = report?["libarchive"] as? [String: Any]
        let compressions = archive?["compressions"] as? [[String: Any]] ?? []
        #expect(compressions.contains { $0["name"] as? String == "gzip" && $0["read"] as? String == "built-in" })

        let inspect = try inRoot(root, "cwmigrate inspect /tmp/connectware-1.0.73_2022-02-16T15-37-19.242Z.tgz")
        #expect(inspect.status == 0, "\(inspect.stderr)")
        #expect(inspect.stdout.contains("version:   1.0.73"))

        let plan = try inRoot(
            root, "cwmigrate plan --backup /tmp/connectware-1.0.73_2022-02-16T15-37-19.242Z.tgz --running 1.8.0")
        // The installed data knows no barrier: the example is not shipped as knowledge.
        #expect(plan.status == 4, "\(plan.stderr)")
        #expect(plan.stdout.hasPrefix("Decision: compatibility-unknown\n"))
    }

    @Test func installShNamesThePackagesForAMissingLibraryAndInstallsNothing() throws {
        let (dir, top) = try unpacked()
        defer { try? FileManager.default.removeItem(at: dir) }
        let root = try makeRoot(artifactTop: top, leavingOut: "libarchive.so")
        defer { try? FileManager.default.removeItem(at: root) }

        let install = try inRoot(root, "/tmp/artifact/install.sh --prefix /opt/cw")
        #expect(install.status == 69)
        #expect(install.stderr.contains("libarchive.so.13"))
        #expect(install.stderr.contains("apt-get install libarchive13"))
        #expect(install.stderr.contains("dnf install libarchive"))
        #expect(!install.stderr.contains("libcurl4"))
        #expect(!FileManager.default.fileExists(atPath: root.appendingPathComponent("opt/cw/bin/cwmigrate").path))
    }

    @Test func withoutLibarchiveTheBinaryStartsAndAnArchiveCommandSaysWhatIsMissing() throws {
        let (dir, top) = try unpacked()
        defer { try? FileManager.default.removeItem(at: dir) }
        let root = try makeRoot(artifactTop: top, leavingOut: "libarchive.so")
        defer { try? FileManager.default.removeItem(at: root) }

        let version = try inRoot(root, "/tmp/artifact/bin/cwmigrate --version")
        #expect(version.status == 0, "\(version.stderr)")
        let json = try inRoot(root, "/tmp/artifact/bin/cwmigrate version --json")
        #expect(json.status == 0, "\(json.stderr)")
        #expect(json.stdout.contains(#""version":"not loaded""#))
        #expect(json.stdout.contains("libarchive.so.13"))

        let inspect = try inRoot(
            root, "/tmp/artifact/bin/cwmigrate inspect /tmp/connectware-1.0.73_2022-02-16T15-37-19.242Z.tgz")
        #expect(inspect.status == 69, "\(inspect.stderr)")
        let lines = inspect.stderr.split(separator: "\n")
        #expect(lines.first?.hasPrefix("error: ") == true, "\(inspect.stderr)")
        #expect(lines.first?.contains("libarchive cannot be loaded: libarchive.so.13") == true, "\(inspect.stderr)")
        #expect(lines.count == 2 && lines.last?.hasPrefix("hint: install libarchive13") == true)
        #expect(!inspect.stderr.contains("internal error"))
    }

    @Test func withoutLibcurlInspectRunsAndAConnectwareCommandSaysWhatIsMissing() throws {
        let (dir, top) = try unpacked()
        defer { try? FileManager.default.removeItem(at: dir) }
        let root = try makeRoot(artifactTop: top, leavingOut: "libcurl.so")
        defer { try? FileManager.default.removeItem(at: root) }

        let install = try inRoot(root, "/tmp/artifact/install.sh --prefix /opt/cw")
        #expect(install.status == 69)
        #expect(install.stderr.contains("libcurl.so.4"))
        #expect(install.stderr.contains("apt-get install libcurl4"))

        let inspect = try inRoot(
            root, "/tmp/artifact/bin/cwmigrate inspect /tmp/connectware-1.0.73_2022-02-16T15-37-19.242Z.tgz")
        #expect(inspect.status == 0, "\(inspect.stderr)")
        #expect(inspect.stdout.contains("version:   1.0.73"))

        let status = try inRoot(
            root, "CWMIGRATE_PASSWORD=unused /tmp/artifact/bin/cwmigrate status --url https://127.0.0.1:9")
        #expect(status.status == 69, "\(status.stderr)")
        let lines = status.stderr.split(separator: "\n")
        #expect(lines.first?.hasPrefix("error: libcurl cannot be loaded: libcurl.so.4") == true, "\(status.stderr)")
        #expect(lines.count == 2 && lines.last?.hasPrefix("hint: install libcurl4") == true)
        #expect(!status.stderr.contains("internal error"))
    }

    @Test func installShRefusesFilesThatDoNotMatchTheirChecksums() throws {
        let (dir, top) = try unpacked()
        defer { try? FileManager.default.removeItem(at: dir) }
        try TestSupport.shell("echo '# edited' >> share/cwmigrate/playbooks/compat.yml", in: top)
        let prefix = dir.appendingPathComponent("prefix")
        let install = try TestSupport.run(top.appendingPathComponent("install.sh"), ["--prefix", prefix.path])
        #expect(install.status == 65)
        #expect(install.stderr.contains("share/cwmigrate/playbooks/compat.yml: FAILED"))
        #expect(!FileManager.default.fileExists(atPath: prefix.path))
    }

    // What the development build says about itself and where it looks for playbooks.

    @Test func versionJSONNamesTheLibcurlAndLibarchiveThisHostLoads() throws {
        let result = try TestSupport.run(TestSupport.product("cwmigrate"), ["version", "--json"])
        #expect(result.status == 0)
        let report = try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any]
        #expect(report?["version"] as? String == "0.1.0-dev")
        // The command-line tools load the same shared libraries and print their versions.
        let curlLine = try TestSupport.shell("curl --version | head -1").stdout
        let curlVersion = (report?["libcurl"] as? [String: Any])?["version"] as? String ?? "?"
        #expect(curlLine.contains("libcurl/\(curlVersion) "))
        let bsdtarLine = try TestSupport.shell("bsdtar --version").stdout
        let archiveVersion = (report?["libarchive"] as? [String: Any])?["version"] as? String ?? "?"
        #expect(bsdtarLine.contains("libarchive \(archiveVersion) "))
        let compressions = (report?["libarchive"] as? [String: Any])?["compressions"] as? [[String: String]] ?? []
        #expect(compressions.map { $0["name"] ?? "" }.contains("zstd"))
        #expect(compressions.allSatisfy { ["built-in", "external-program", "unsupported"].contains($0["read"] ?? "") })
    }

    @Test func planReadsThePlaybooksFromTheDirectoryPlaybooksNames() throws {
        let dir = try TestSupport.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        // A copy whose compat.yml holds the example barrier, where the bundled data knows none.
        try TestSupport.shell(
            """
            mkdir mine && cp '\(TestSupport.packageRoot.path)'/playbooks/*.yml mine/
            cp '\(TestSupport.exampleCompat)' mine/compat.yml
            """, in: dir)
        let state = ["XDG_STATE_HOME": dir.appendingPathComponent("state").path]
        let bundled = try TestSupport.run(
            TestSupport.product("cwmigrate"), ["plan", "--backup-version", "1.0.73", "--running", "1.8.0"],
            environment: state)
        let mine = try TestSupport.run(
            TestSupport.product("cwmigrate"),
            [
                "plan", "--backup-version", "1.0.73", "--running", "1.8.0", "--playbooks",
                dir.appendingPathComponent("mine").path,
            ],
            environment: state)
        #expect(bundled.status == 4)
        #expect(bundled.stdout.hasPrefix("Decision: compatibility-unknown\n"))
        #expect(mine.status == 3, "\(mine.stderr)")
        #expect(mine.stdout.contains("Restore on: 1.7.3\n"))
    }

    @Test func aPlaybooksDirectoryWithoutCompatYmlIsAMissingInputNamingTheOption() throws {
        let dir = try TestSupport.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let result = try TestSupport.run(
            TestSupport.product("cwmigrate"),
            ["plan", "--backup-version", "1.0.73", "--running", "1.8.0", "--playbooks", dir.path])
        #expect(result.status == 66)
        #expect(result.stderr.contains("error: cannot find cwmigrate's playbooks directory (looked in \(dir.path)"))
        #expect(result.stderr.contains("hint: --playbooks must name a directory holding compat.yml"))
    }

    @Test func installingAgainReplacesThePlaybooksWhole() throws {
        let (dir, top) = try unpacked()
        defer { try? FileManager.default.removeItem(at: dir) }
        let prefix = dir.appendingPathComponent("prefix")
        let first = try TestSupport.run(top.appendingPathComponent("install.sh"), ["--prefix", prefix.path])
        #expect(first.status == 0, "\(first.stderr)")
        let stale = prefix.appendingPathComponent("share/cwmigrate/playbooks/removed-in-this-release.yml")
        try Data("old".utf8).write(to: stale)
        let second = try TestSupport.run(top.appendingPathComponent("install.sh"), ["--prefix", prefix.path])
        #expect(second.status == 0, "\(second.stderr)")
        #expect(!FileManager.default.fileExists(atPath: stale.path))
        #expect(
            FileManager.default.fileExists(
                atPath: prefix.appendingPathComponent("share/cwmigrate/playbooks/compat.yml").path))
        let leftovers = try FileManager.default.contentsOfDirectory(
            atPath: prefix.appendingPathComponent("share/cwmigrate").path)
        #expect(leftovers == ["playbooks"])
    }

    @Test func aPrefixThatCannotBeWrittenExitsSeventyThreeWithAHint() throws {
        let (dir, top) = try unpacked()
        defer { try? FileManager.default.removeItem(at: dir) }
        let blocker = dir.appendingPathComponent("a-file")
        try Data().write(to: blocker)
        let install = try TestSupport.run(
            top.appendingPathComponent("install.sh"), ["--prefix", blocker.appendingPathComponent("prefix").path])
        #expect(install.status == 73)
        #expect(install.stderr.contains("error: cannot write \(blocker.path)/prefix/bin/cwmigrate"))
        #expect(install.stderr.contains("hint: run as root, or choose a directory you own with --prefix"))
    }

    // The target graph in the README: docs/targets.svg, made by scripts/graph from Package.swift.

    @Test func theCommittedTargetGraphIsTheOnePackageSwiftMakesAndNoArrowRunsUpward() throws {
        let result = try TestSupport.run(
            URL(fileURLWithPath: "/bin/bash"), ["scripts/graph", "--check"], currentDirectory: TestSupport.packageRoot)
        #expect(result.status == 0, "\(result.stderr)")
    }

    @Test func anArrowThatRunsUpwardOrAStalePictureFailsTheGraphCheck() throws {
        let directory = try TestSupport.temporaryDirectory("graph")
        defer { try? FileManager.default.removeItem(at: directory) }
        let dump = try TestSupport.shell(
            "swift package --scratch-path '\(directory.path)/scratch' dump-package", in: TestSupport.packageRoot)
        // The Planner made to depend on Migration, a floor above it.
        var package = try #require(try JSONSerialization.jsonObject(with: Data(dump.stdout.utf8)) as? [String: Any])
        var targets = try #require(package["targets"] as? [[String: Any]])
        let planner = try #require(targets.firstIndex { $0["name"] as? String == "Planner" })
        var dependencies = try #require(targets[planner]["dependencies"] as? [Any])
        dependencies.append(["byName": ["Migration", NSNull()]])
        targets[planner]["dependencies"] = dependencies
        package["targets"] = targets
        let file = directory.appendingPathComponent("dump.json")
        try JSONSerialization.data(withJSONObject: package).write(to: file)
        let result = try TestSupport.run(
            URL(fileURLWithPath: "/bin/bash"), ["scripts/graph", "--check"],
            environment: ["CWMIGRATE_GRAPH_DUMP": file.path], currentDirectory: TestSupport.packageRoot)
        #expect(result.status == 1)
        // The floors are numbered bottom first; a floor added below moves both numbers.
        #expect(result.stderr.contains("error: the arrow Planner -> Migration runs upward or sideways (floor "))
        #expect(result.stderr.contains("error: docs/targets.dot is not the picture Package.swift makes now"))
    }
}
