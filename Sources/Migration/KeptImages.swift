import DockerOps
import Vocabulary

/// The images cwmigrate keeps from the installers' pruning (`cwmigrate-keep/<image>:<version>`,
/// made by `fresh-backup`): the way back of a run that can still be resumed or rolled back, and
/// garbage once no such run is left. A completed run (its upgrade) and a rolled-back one remove
/// them; a run that stopped and was never finished leaves them, and they hold disk in the Docker
/// data root that nothing else frees. This says what they hold and releases them.
public struct KeptImages: Sendable, Equatable {
    /// Every keep tag on the host.
    public var tags: [ImageTag]
    /// The unfinished runs of the state directory: while one is left, the keep tags may be
    /// what its rollback or its upgrade needs.
    public var unfinishedRuns: [String]
    /// Journals that cannot be read: each may be an unfinished run.
    public var unreadableRuns: [String]

    public init(tags: [ImageTag], unfinishedRuns: [String], unreadableRuns: [String]) {
        self.tags = tags
        self.unfinishedRuns = unfinishedRuns
        self.unreadableRuns = unreadableRuns
    }

    /// The bytes releasing the tags frees: the images that only keep tags name (the others
    /// stay under their own names).
    public var bytesHeld: Int64 {
        var sizes: [String: Int64] = [:]
        for tag in tags where tag.tagsOfImage.allSatisfy({ $0.hasPrefix(ImagesBeforeShutdown.keepRepository + "/") }) {
            sizes[tag.imageID] = tag.bytes
        }
        return sizes.values.reduce(0, +)
    }

    /// Whether releasing them could take a run's way back.
    public var mayBeNeeded: Bool { !unfinishedRuns.isEmpty || !unreadableRuns.isEmpty }

    /// The keep tags on `host`, and the runs in `store` that may still need them.
    public static func find(on host: ConnectwareHost, store: JournalStore) throws(KeptImagesError) -> KeptImages {
        let tags: [ImageTag]
        do { tags = try host.imageTags(prefix: ImagesBeforeShutdown.keepRepository + "/") } catch {
            throw .docker(error)
        }
        var unfinished: [String] = []
        var unreadable: [String] = []
        do {
            let list = try store.list()
            unfinished = list.runs.filter { !$0.outcome.isFinal }.map(\.id)
            unreadable = list.unreadable.map(\.description)
        } catch {
            // No state directory: no run of this one can need them.
            if case .stateDirectory = error {} else { unreadable = [error.description] }
        }
        return KeptImages(tags: tags, unfinishedRuns: unfinished, unreadableRuns: unreadable)
    }

    /// Removes every keep tag (the images go with them unless another tag names them), and
    /// refuses while a run of `store` may still need them unless `force`. Returns what was there.
    @discardableResult
    public static func release(on host: ConnectwareHost, store: JournalStore, force: Bool) throws(KeptImagesError)
        -> KeptImages
    {
        let found = try find(on: host, store: store)
        guard !found.tags.isEmpty else { return found }
        if found.mayBeNeeded && !force {
            throw .mayBeNeeded(
                tags: found.tags.count, bytes: found.bytesHeld, runs: found.unfinishedRuns,
                unreadable: found.unreadableRuns, stateDirectory: store.directory)
        }
        for tag in found.tags {
            do { try host.untagImage(tag.reference) } catch { throw .docker(error) }
        }
        return found
    }

    /// One sentence for a precheck or a listing; nil when there are none.
    public var summary: String? {
        guard !tags.isEmpty else { return nil }
        let versions = Set(tags.compactMap { $0.reference.split(separator: ":").last.map(String.init) }).sorted()
        return
            "\(tags.count) keep tag\(tags.count == 1 ? "" : "s") of cwmigrate (\(ImagesBeforeShutdown.keepRepository)/…:\(versions.joined(separator: ", "))) hold \(formatBytes(bytesHeld)) in the Docker data root"
            + (mayBeNeeded
                ? " for the unfinished run\(unfinishedRuns.count == 1 ? "" : "s") \((unfinishedRuns + (unreadableRuns.isEmpty ? [] : ["(unreadable journals)"])).joined(separator: ", "))"
                : "; no unfinished run needs them: `cwmigrate runs kept-images --release` frees them")
    }
}

/// Releasing the keep tags was refused or failed.
public enum KeptImagesError: Error, Sendable, Equatable, CustomStringConvertible {
    /// A run that can still be resumed or rolled back may need them (or a journal cannot be read).
    case mayBeNeeded(tags: Int, bytes: Int64, runs: [String], unreadable: [String], stateDirectory: String)
    case docker(DockerOpsError)

    public var description: String {
        switch self {
        case .mayBeNeeded(let tags, let bytes, let runs, let unreadable, let stateDirectory):
            let whose =
                runs.isEmpty
                ? "a journal in \(stateDirectory) cannot be read (\(unreadable.joined(separator: "; "))), and it may be an unfinished run's"
                : "the unfinished run\(runs.count == 1 ? "" : "s") \(runs.joined(separator: ", ")) in \(stateDirectory) may need them to roll back or to upgrade again without the registry"
            return "the \(tags) keep tag\(tags == 1 ? "" : "s") of cwmigrate (\(formatBytes(bytes))) stay: \(whose)"
        case .docker(let error): return error.description
        }
    }
}
