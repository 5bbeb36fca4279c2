import Application
import ArgumentParser
import DockerOps
import Migration

/// `cwmigrate runs kept-images [--release [--force]]`: the keep tags of unfinished runs.
struct RunsKeptImages: ConsoleCommand {
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

    func run(on console: Console) throws -> Int32 {
        let store = state.store()
        let host = try ConnectwareHost()
        let kept =
            release
            ? try KeptImages.release(on: host, store: store, force: force)
            : try KeptImages.find(on: host, store: store)
        console.out(lines: kept.lines(released: release))
        return ExitStatus.ok
    }
}
