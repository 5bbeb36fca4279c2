import Application
import ArgumentParser
import DockerOps
import Migration
import Vocabulary

/// `cwmigrate runs kept-images [--release [--force]]`: the keep tags of unfinished runs.
struct RunsKeptImages: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "kept-images",
        abstract:
            "List cwmigrate's keep tags (cwmigrate-keep/<image>:<version>) and the disk they hold, or release them.",
        discussion: """
            A run keeps the running version's images under tags of its own before an installer \
            prunes them, for its upgrade back and its rollback. A completed or rolled-back run \
            removes them; one that stopped and was never finished leaves them. --release removes \
            them, and refuses (exit 75) while a run in the state directory is unfinished, unless \
            --force is given.
            """)

    @Flag(help: "Remove the keep tags (the images go unless another tag names them).")
    var release = false

    @Flag(help: "With --release: release them even while a run is unfinished.")
    var force = false

    @OptionGroup var state: StateDirectoryOption

    @OptionGroup var global: GlobalOptions

    func validate() throws {
        if force && !release { throw ValidationError("--force only goes with --release") }
    }

    func run() throws {
        try guarded(global) { console in
            let store = state.store()
            let host = try ConnectwareHost()
            let kept =
                release
                ? try KeptImages.release(on: host, store: store, force: force)
                : try KeptImages.find(on: host, store: store)
            guard let summary = kept.summary else {
                console.out("No keep tags of cwmigrate on this Docker host.")
                return ExitStatus.ok
            }
            for tag in kept.tags { console.out("\(tag.reference)  \(formatBytes(tag.bytes))") }
            if release {
                console.out(
                    "Released the \(kept.tags.count) keep tag\(kept.tags.count == 1 ? "" : "s"); \(formatBytes(kept.bytesHeld)) freed in the Docker data root."
                )
            } else {
                console.out(summary.prefix(1).uppercased() + summary.dropFirst() + ".")
            }
            return ExitStatus.ok
        }
    }
}

extension RunsKeptImages {
    /// After `runs abandon`: the keep tags no unfinished run needs any more are released, and
    /// those another unfinished run may need are said. Nothing when Docker cannot be reached
    /// (the abandon itself needs no Docker); `runs kept-images` says it later.
    static func releaseAfterAbandon(_ store: JournalStore, _ console: Console) {
        guard let host = try? ConnectwareHost(), let found = try? KeptImages.find(on: host, store: store),
            !found.tags.isEmpty
        else { return }
        if found.mayBeNeeded {
            console.out(found.summary.map { $0.prefix(1).uppercased() + $0.dropFirst() + "." } ?? "")
            return
        }
        do {
            let released = try KeptImages.release(on: host, store: store, force: false)
            console.out(
                "Released the \(released.tags.count) keep tag\(released.tags.count == 1 ? "" : "s") of cwmigrate no unfinished run needs; \(formatBytes(released.bytesHeld)) freed in the Docker data root."
            )
        } catch {
            console.warning(
                "the keep tags of cwmigrate stay: \(error.description); `cwmigrate runs kept-images --release` releases them"
            )
        }
    }
}
