import Foundation
import TestSupport
import Testing

/// The lab's images come from its registry (127.0.0.1:PORT, user `license` with the license
/// key), and its installer prunes the other versions' images in silent mode, as the vendor's
/// does. These runs use the lab of MigrateLabTests.
extension MigrateLabTests {
    var registry: String { ProcessInfo.processInfo.environment["CWMIGRATE_LAB_REGISTRY"] ?? "" }

    /// The tags of the lab's daemon, `<registry>/cybus/<image>:<version>`.
    func imageTags() throws -> Set<String> {
        Set(
            try TestSupport.shell("docker images --format '{{.Repository}}:{{.Tag}}'").stdout
                .split(separator: "\n").map(String.init))
    }

    /// Every container of the lab's project with its state and image, one line each, sorted.
    func containerStates() throws -> [String] {
        try TestSupport.shell(
            "docker ps -a --filter label=io.cybus.connectware=core --format '{{.Names}} {{.State}} {{.Image}}' | LC_ALL=C sort"
        ).stdout.split(separator: "\n").map(String.init)
    }

    /// The lab's registry stopped for the body, and started again after it.
    func withRegistryStopped(_ body: () throws -> Void) throws {
        try labScript(["registry", "stop"])
        defer { _ = try? labScript(["registry", "start"]) }
        try body()
    }

    /// One line of `.env` set to `value` for the body, and the file put back afterwards.
    func withEnvSetting(_ name: String, _ value: String, _ body: () throws -> Void) throws {
        let env = lab + "/connectware/.env"
        let original = try String(contentsOfFile: env, encoding: .utf8)
        defer { try? original.write(toFile: env, atomically: true, encoding: .utf8) }
        let lines = original.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
            .map { $0.hasPrefix(name + "=") ? name + "=" + value : $0 }
        try lines.joined(separator: "\n").write(toFile: env, atomically: true, encoding: .utf8)
        try body()
    }

    @Test func aRollbackAfterAPruningInstallOlderLoadsTheSavedImagesWhenTheRegistryIsDown() async throws {
        try await scenario { stage in
            try #require(!registry.isEmpty, "the lab's env lines name its registry (CWMIGRATE_LAB_REGISTRY)")
            let state = try reset(stage)
            let certs = try certsDigest()
            let arguments = migrateArguments(stage.oldBackup, extra: ["--compat", stage.compat, "--no-example-data"])
            let stopped = try run(
                arguments, state: state, label: "rollback-pruned",
                killWhen: { steps in steps.contains { $0.kind == "install-older" && $0.state == "done" } })
            #expect(stopped.status == 137, "\(stopped.output)")
            // The installer of 1.7.3 deleted 1.8.0's images, all but admin-web-app's.
            let pruned = try imageTags()
            #expect(!pruned.contains("\(registry)/cybus/postgresql:1.8.0"), "\(pruned)")
            #expect(!pruned.contains("\(registry)/cybus/system-control-server:1.8.0"), "\(pruned)")
            #expect(pruned.contains("\(registry)/cybus/admin-web-app:1.8.0"), "\(pruned)")
            #expect(pruned.contains("\(registry)/cybus/postgresql:1.7.3"), "\(pruned)")
            let saved = try #require(
                (journal(state)?["artifacts"] as? [[String: Any]] ?? []).first {
                    $0["kind"] as? String == "saved-images"
                })
            #expect((saved["detail"] as? String ?? "").contains("\(registry)/cybus/postgresql:1.8.0"))
            try withRegistryStopped {
                let rolled = try cwmigrate(
                    ["rollback", "--yes", "--installer-dir", lab + "/installers", "--healthy-timeout", "120"],
                    state: state)
                #expect(rolled.status == 0, "\(rolled.stdout)\n\(rolled.stderr)")
                #expect(rolled.stdout.contains("loaded the saved images of Connectware 1.8.0"), "\(rolled.stdout)")
                #expect(rolled.stdout.contains("rolled back: Connectware 1.8.0 runs with the data the run found"))
            }
            #expect(try check() == stage.startCheck)
            let found = try labVersion()
            #expect(found.version == "1.8.0" && found.allRunning)
            #expect(try certsDigest() == certs)
            // No installer ran to prune what the run pulled: the rollback removed 1.7.3's tags itself.
            let after = try imageTags()
            #expect(after.contains("\(registry)/cybus/postgresql:1.8.0"))
            #expect(after.filter { $0.hasSuffix(":1.7.3") }.isEmpty, "\(after.sorted())")
            #expect(after.filter { $0.hasPrefix("cwmigrate-keep/") }.isEmpty, "\(after.sorted())")
            #expect(try report(state)["outcome"] as? String == "rolled-back")
        }
    }

    @Test func theImagesAreSavedPulledAndKeptBeforeTheShutdownAndTheReportSaysWhatWasDoneBeforeTheDowntime()
        async throws
    {
        try await scenario { stage in
            try #require(!registry.isEmpty, "the lab's env lines name its registry (CWMIGRATE_LAB_REGISTRY)")
            let state = try reset(stage)
            // 1.7.3 is not on the host before the run: the run has to pull it.
            for tag in try imageTags() where tag.hasSuffix(":1.7.3") { try TestSupport.shell("docker rmi \(tag)") }
            let result = try cwmigrate(
                migrateArguments(stage.oldBackup, extra: ["--compat", stage.compat, "--no-example-data"]), state: state)
            #expect(result.status == 0, "\(result.stdout)\n\(result.stderr)")
            #expect(try check() == stage.oldCheck)
            let recorded = journal(state)
            let steps = recorded?["steps"] as? [[String: Any]] ?? []
            let shutdown = steps.first(where: { $0["kind"] as? String == "shutdown" })
            let shutdownBegan = try #require(shutdown?["startedAt"] as? String)
            let fresh = try #require(steps.first(where: { $0["kind"] as? String == "fresh-backup" }))
            // The images were saved by fresh-backup, which ended before the shutdown began.
            let artifacts = recorded?["artifacts"] as? [[String: Any]] ?? []
            let saved = try #require(artifacts.first(where: { $0["kind"] as? String == "saved-images" }))
            #expect((saved["detail"] as? String ?? "").contains("\(registry)/cybus/postgresql:1.8.0"))
            let freshEnded = try #require(fresh["endedAt"] as? String)
            #expect(freshEnded <= shutdownBegan, "\(freshEnded) \(shutdownBegan)")
            let message = fresh["message"] as? String ?? ""
            #expect(message.contains("saved the images of Connectware 1.8.0"), "\(message)")
            #expect(message.contains("pulled the 6 images of Connectware 1.7.3"), "\(message)")
            #expect(message.contains("kept the 5 images of Connectware 1.8.0 from pruning"), "\(message)")
            // The report and its JSON say what was done before the window.
            let summary = try report(state)
            let before = summary["beforeDowntime"] as? [String] ?? []
            #expect(before.count == 1 && before[0].hasPrefix("fresh-backup: "), "\(before)")
            #expect(before.first?.contains("pulled the 6 images of Connectware 1.7.3") == true, "\(before)")
            #expect((summary["downtimeSeconds"] as? Double ?? 0) > 0)
            let runs = state + "/runs"
            let markdown = try #require(
                try FileManager.default.contentsOfDirectory(atPath: runs).first { $0.hasSuffix(".report.md") })
            #expect(
                try String(contentsOfFile: runs + "/" + markdown, encoding: .utf8).contains(
                    "| Before the downtime | fresh-backup: "))
            // Back at 1.8.0 the keep tags are gone; 1.8.0's own tags are there, 1.7.3's pruned by the upgrade.
            let tags = try imageTags()
            #expect(tags.filter { $0.hasPrefix("cwmigrate-keep/") }.isEmpty, "\(tags.sorted())")
            #expect(tags.contains("\(registry)/cybus/postgresql:1.8.0"))
            #expect(!tags.contains("\(registry)/cybus/postgresql:1.7.3"), "\(tags.sorted())")
        }
    }

    @Test func aRegistryDownRefusedCredentialsOrAMissingTagStopTheRunInThePrechecksWithNothingChanged() async throws {
        try await scenario { stage in
            try #require(!registry.isEmpty, "the lab's env lines name its registry (CWMIGRATE_LAB_REGISTRY)")
            let state = try reset(stage)
            let certs = try certsDigest()
            let volumes = try TestSupport.shell(
                "docker volume inspect connectware_postgresql connectware_service-manager --format '{{.CreatedAt}}'"
            ).stdout
            let cases: [(label: String, expected: String, setUp: (() throws -> Void) throws -> Void)] = [
                ("registry down", "the registry \(registry) cannot be reached", { try withRegistryStopped($0) }),
                (
                    "credentials refused", "refused the credentials of user license",
                    { try withEnvSetting("CYBUS_REGISTRY_PASS", "not-the-license-key", $0) }
                ),
                (
                    "tag missing", "the registry has no \(registry)/cybus/postgresql:1.7.3",
                    { body in
                        try labScript(["registry", "drop", "postgresql:1.7.3"])
                        defer { _ = try? labScript(["registry", "undrop"]) }
                        try body()
                    }
                ),
            ]
            for (label, expected, setUp) in cases {
                let runState = state + "-" + label.replacingOccurrences(of: " ", with: "-")
                try setUp {
                    let result = try cwmigrate(
                        migrateArguments(stage.oldBackup, extra: ["--compat", stage.compat, "--no-example-data"]),
                        state: runState)
                    #expect(result.status == 69, "\(label): \(result.stdout)\n\(result.stderr)")
                    #expect(
                        result.stdout.split(separator: "\n").contains {
                            $0.hasPrefix("FAIL  registry") && $0.contains(expected)
                        }, "\(label): \(result.stdout)")
                    #expect(!(result.stdout + result.stderr).contains("not-the-license-key"), "\(label)")
                    let begun = (journal(runState)?["steps"] as? [[String: Any]] ?? [])
                        .filter { ($0["attempts"] as? Int ?? 0) > 0 }.map { $0["kind"] as? String ?? "" }
                    #expect(
                        begun.allSatisfy { !["shutdown", "remove-volumes", "install-older"].contains($0) },
                        "\(label): \(begun)")
                }
                // Nothing changed: the same volumes (not made anew), the same rows, 1.8.0 running.
                #expect(
                    try TestSupport.shell(
                        "docker volume inspect connectware_postgresql connectware_service-manager --format '{{.CreatedAt}}'"
                    ).stdout == volumes, "\(label)")
                #expect(try check() == stage.startCheck, "\(label)")
                let found = try labVersion()
                #expect(found.version == "1.8.0" && found.allRunning, "\(label)")
                #expect(try certsDigest() == certs, "\(label)")
            }
        }
    }

    @Test func theKeepTagsOfAStoppedRunAreShownRefusedToReleaseWhileItIsUnfinishedAndGoWhenItIsAbandoned() async throws {
        try await scenario { stage in
            let state = try reset(stage)
            let arguments = migrateArguments(stage.oldBackup, extra: ["--compat", stage.compat, "--no-example-data"])
            // Killed once fresh-backup has kept 1.8.0's images. The kill races the next step, the
            // shutdown, which may have stopped a container by the time it lands: what runs then is
            // taken as it is, and nothing below may change it.
            let stopped = try run(
                arguments, state: state, label: "kept-images",
                killWhen: { steps in steps.contains { $0.kind == "fresh-backup" && $0.state == "done" } })
            #expect(stopped.status == 137, "\(stopped.output)")
            let atKill = try containerStates()
            #expect(atKill.count >= 5, "\(atKill)")
            let kept = try imageTags().filter { $0.hasPrefix("cwmigrate-keep/") }
            #expect(kept.contains("cwmigrate-keep/postgresql:1.8.0"), "\(kept.sorted())")
            let id = try #require(journal(state)?["id"] as? String)

            let listed = try cwmigrate(["runs", "kept-images"], state: state)
            #expect(listed.status == 0, "\(listed.stderr)")
            #expect(listed.stdout.contains("cwmigrate-keep/postgresql:1.8.0  "), "\(listed.stdout)")
            #expect(listed.stdout.contains("for the unfinished run \(id)"), "\(listed.stdout)")
            // The precheck of a new run says so too, beside the room the run's own saved images need.
            let prechecked = try cwmigrate(arguments + ["--precheck-only"], state: state + "-other")
            let freeDisk = prechecked.stdout.split(separator: "\n").first { $0.contains("free disk") } ?? ""
            #expect(freeDisk.contains("\(kept.count) keep tags of cwmigrate"), "\(prechecked.stdout)")
            #expect(freeDisk.contains("the saved images of 1.8.0 "), "\(freeDisk)")

            // While the run can be resumed or rolled back, they are its way back.
            let refused = try cwmigrate(["runs", "kept-images", "--release"], state: state)
            #expect(refused.status == 75, "\(refused.stdout)\n\(refused.stderr)")
            #expect(refused.stderr.contains("error: the \(kept.count) keep tags of cwmigrate"), "\(refused.stderr)")
            #expect(refused.stderr.contains("hint: finish the run first (`cwmigrate migrate --resume \(id)`"))
            #expect(try imageTags().filter { $0.hasPrefix("cwmigrate-keep/") } == kept)

            // Abandoned, the run is finished: no unfinished run is left to need them, and they go.
            let abandoned = try cwmigrate(["runs", "abandon", id], state: state)
            #expect(abandoned.status == 0, "\(abandoned.stderr)")
            #expect(
                abandoned.stdout.contains("Released the \(kept.count) keep tags of cwmigrate no unfinished run needs"),
                "\(abandoned.stdout)")
            let after = try imageTags()
            #expect(after.filter { $0.hasPrefix("cwmigrate-keep/") }.isEmpty, "\(after.sorted())")
            // 1.8.0's own tags stay, and every container is as the kill left it, on the same images.
            #expect(after.contains("\(registry)/cybus/postgresql:1.8.0"))
            #expect(try labVersion().version == "1.8.0")
            #expect(try containerStates() == atKill)
            let none = try cwmigrate(["runs", "kept-images"], state: state)
            #expect(none.stdout == "No keep tags of cwmigrate on this Docker host.\n", "\(none.stdout)")
        }
    }

    @Test func theKeepTagsOfAnUnfinishedRunAreReleasedWithForce() async throws {
        try await scenario { stage in
            let state = try reset(stage)
            let stopped = try run(
                migrateArguments(stage.oldBackup, extra: ["--compat", stage.compat, "--no-example-data"]), state: state,
                label: "kept-images-force",
                killWhen: { steps in steps.contains { $0.kind == "fresh-backup" && $0.state == "done" } })
            #expect(stopped.status == 137, "\(stopped.output)")
            #expect(!(try imageTags().filter { $0.hasPrefix("cwmigrate-keep/") }.isEmpty))
            let released = try cwmigrate(["runs", "kept-images", "--release", "--force"], state: state)
            #expect(released.status == 0, "\(released.stdout)\n\(released.stderr)")
            #expect(released.stdout.contains("Released the "), "\(released.stdout)")
            #expect(try imageTags().filter { $0.hasPrefix("cwmigrate-keep/") }.isEmpty)
            let id = try #require(journal(state)?["id"] as? String)
            #expect(try cwmigrate(["runs", "abandon", id], state: state).status == 0)
        }
    }
}
