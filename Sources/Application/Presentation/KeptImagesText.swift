import DockerOps
import Migration
import Vocabulary

// What `runs kept-images` and `runs abandon` say about the images cwmigrate keeps.

extension KeptImages {
    /// `runs kept-images`: each keep tag with its size, then what they hold, or (`released`)
    /// what releasing them freed.
    public func lines(released: Bool) -> [String] {
        guard let summary else { return ["No keep tags of cwmigrate on this Docker host."] }
        let rows = tags.map { "\($0.reference)  \(formatBytes($0.bytes))" }
        guard released else { return rows + [Self.sentence(summary)] }
        return rows + [
            "Released the \(Self.count(tags.count)); \(formatBytes(bytesHeld)) freed in the Docker data root."
        ]
    }

    /// After `runs abandon`: the keep tags no unfinished run needs any more are released, and
    /// those another unfinished run may need are only said. Nothing without Docker (the abandon
    /// itself needs none); `runs kept-images` says it later.
    public static func releaseAfterAbandon(store: JournalStore, host: ConnectwareHost?) -> [ConsoleLine] {
        guard let host, let found = try? find(on: host, store: store) else { return [] }
        return afterAbandon(found) { try release(on: host, store: store, force: false) }.map { [$0] } ?? []
    }

    /// What `runs abandon` says of the keep tags `found`: nothing when there are none; what they
    /// hold while a run may need them; else what `release` (which refuses by itself what is
    /// unsafe) freed, or why they stay.
    public static func afterAbandon(_ found: KeptImages, release: () throws -> KeptImages) -> ConsoleLine? {
        guard let summary = found.summary else { return nil }
        if found.mayBeNeeded { return .out(sentence(summary)) }
        do {
            let released = try release()
            return .out(
                "Released the \(count(released.tags.count)) of cwmigrate no unfinished run needs; \(formatBytes(released.bytesHeld)) freed in the Docker data root."
            )
        } catch {
            return .warning(
                "the keep tags of cwmigrate stay: \(error); `cwmigrate runs kept-images --release` releases them")
        }
    }

    private static func count(_ tags: Int) -> String { "\(tags) keep tag\(tags == 1 ? "" : "s")" }

    private static func sentence(_ text: String) -> String { text.prefix(1).uppercased() + text.dropFirst() + "." }
}
