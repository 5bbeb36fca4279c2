#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// What the bytes are doing: a transfer's direction, or long local work on a file.
public enum TransferDirection: String, Sendable {
    case download
    case upload
    /// An archive read to its end and hashed (inspect --verify, runbook, a snapshot read back).
    case verify
    /// An archive read for its version evidence, stopping at the first (plan, inspect).
    case read
    /// A volume's files written into a snapshot.
    case snapshot
    /// A snapshot's files written back into a volume.
    case restoreVolume = "restore-volume"
}

/// A transfer's (or long local work's) state at one moment.
public struct TransferProgress: Sendable, Equatable {
    public var direction: TransferDirection
    public var bytes: Int64
    /// Unknown when the server sent no Content-Length.
    public var total: Int64?
    public var bytesPerSecond: Double
    public var secondsLeft: Double?

    public init(
        direction: TransferDirection, bytes: Int64, total: Int64?, bytesPerSecond: Double, secondsLeft: Double?
    ) {
        self.direction = direction
        self.bytes = bytes
        self.total = total
        self.bytesPerSecond = bytesPerSecond
        self.secondsLeft = secondsLeft
    }

    var fraction: Double? {
        guard let total, total > 0 else { return nil }
        return min(1, Double(bytes) / Double(total))
    }
}

/// Receives a transfer's progress, at most about ten times a second, and once at its end.
public protocol TransferProgressReporter: AnyObject {
    func report(_ progress: TransferProgress)
    /// The transfer ended (successfully or not) with these figures; local work (verifying,
    /// snapshotting, restoring a volume) ends so only when it succeeded, else with its error.
    func finish(_ progress: TransferProgress)
    /// Whether local work that ended before its first report is still told with `finish`:
    /// a machine wants every end; a person's log does not need `verify: 256 B`.
    var wantsQuickLocalWork: Bool { get }
}

extension TransferProgressReporter {
    public var wantsQuickLocalWork: Bool { false }
}

extension TransferDirection {
    /// Work on local files, as against a transfer over the network.
    public var isLocal: Bool { self != .download && self != .upload }
}

/// Turns a running count of bytes into reports: at most ten a second, the rate over the
/// last few seconds (so it follows changes without jumping at every block), the time left
/// when the total is known, and at the end the whole run's average rate.
public final class ProgressMeter {
    public let direction: TransferDirection
    private let reporter: any TransferProgressReporter
    private var started = ContinuousClock.now
    private var lastReport: ContinuousClock.Instant
    private var samples: [(time: ContinuousClock.Instant, bytes: Int64)] = []
    private var latest: (bytes: Int64, total: Int64?) = (0, nil)
    private var finished = false
    private var reported = false
    private let silentWhenQuick: Bool

    /// A `silentWhenQuick` meter says nothing in the work's first second, and nothing at all
    /// about work that ended within it (a quick look at an archive's first entries is no news).
    public init(
        direction: TransferDirection, total: Int64? = nil, reporter: any TransferProgressReporter,
        silentWhenQuick: Bool = false
    ) {
        self.direction = direction
        self.reporter = reporter
        self.silentWhenQuick = silentWhenQuick
        lastReport = started
        latest = (0, total)
        samples = [(started, 0)]
    }

    /// Starts counting afresh (a new attempt of the same transfer).
    public func restart(total: Int64? = nil) {
        started = ContinuousClock.now
        lastReport = started
        samples = [(started, 0)]
        latest = (0, total)
        finished = false
    }

    /// The bytes done so far (and the total, when it becomes known); reports when due.
    public func update(bytes: Int64, total: Int64?? = .none) {
        if case .some(let known) = total { latest.total = known }
        latest.bytes = bytes
        let now = ContinuousClock.now
        guard now - lastReport >= .milliseconds(100) else { return }
        if silentWhenQuick, now - started < .seconds(1) { return }
        lastReport = now
        samples.append((now, bytes))
        while samples.count > 2, now - samples[0].time > .seconds(5) { samples.removeFirst() }
        let first = samples[0]
        let elapsed = Self.seconds(now - first.time)
        reported = true
        reporter.report(progress(rate: elapsed > 0 ? Double(bytes - first.bytes) / elapsed : 0))
    }

    /// The last report, once: the whole run's average rate.
    public func finish(bytes: Int64? = nil) {
        guard !finished else { return }
        finished = true
        if silentWhenQuick, !reported { return }
        if direction.isLocal, !reported, !reporter.wantsQuickLocalWork { return }
        if let bytes { latest.bytes = bytes }
        let elapsed = Self.seconds(ContinuousClock.now - started)
        reporter.finish(progress(rate: elapsed > 0 ? Double(latest.bytes) / elapsed : 0))
    }

    private func progress(rate: Double) -> TransferProgress {
        var left: Double?
        if let total = latest.total, rate > 0 { left = Double(max(0, total - latest.bytes)) / rate }
        return TransferProgress(
            direction: direction, bytes: latest.bytes, total: latest.total, bytesPerSecond: rate, secondsLeft: left)
    }

    private static func seconds(_ duration: Duration) -> Double {
        Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
    }
}

/// A one-line bar redrawn in place, for a terminal.
public final class TerminalProgressBar: TransferProgressReporter {
    private let output: Int32
    private let width: Int
    private var lastDraw: ContinuousClock.Instant?

    public init(fileDescriptor: Int32 = STDERR_FILENO, width: Int = 30) {
        self.output = fileDescriptor
        self.width = width
    }

    public func report(_ progress: TransferProgress) {
        let now = ContinuousClock.now
        if let lastDraw, now - lastDraw < .milliseconds(100) { return }
        lastDraw = now
        writeAll(output, "\r" + line(progress) + "\u{1B}[K")
    }

    public func finish(_ progress: TransferProgress) {
        writeAll(output, "\r" + line(progress, finished: true) + "\u{1B}[K\n")
    }

    func line(_ p: TransferProgress, finished: Bool = false) -> String {
        var parts: [String] = []
        if let fraction = p.fraction {
            let filled = Int(fraction * Double(width))
            parts.append(
                "\(String(Int(fraction * 100)).leftPadded(to: 3))% ["
                    + String(repeating: "#", count: filled) + String(repeating: ".", count: width - filled) + "]")
            parts.append("\(formatBytes(p.bytes)) / \(formatBytes(p.total ?? 0))")
        } else {
            parts.append(formatBytes(p.bytes))
        }
        parts.append("\(formatBytes(Int64(p.bytesPerSecond)))/s")
        if !finished, let left = p.secondsLeft { parts.append("\(formatDuration(left)) left") }
        return parts.joined(separator: "  ")
    }
}

/// An occasional plain line (every `interval` or every 10 %), for logs and pipes.
public final class PlainProgressLines: TransferProgressReporter {
    private let output: Int32
    private let interval: Duration
    private var lastLine: ContinuousClock.Instant?
    private var lastTenth = 0

    public init(fileDescriptor: Int32 = STDERR_FILENO, interval: Duration = .seconds(10)) {
        self.output = fileDescriptor
        self.interval = interval
    }

    public func report(_ progress: TransferProgress) {
        let now = ContinuousClock.now
        let tenth = progress.fraction.map { Int($0 * 10) } ?? 0
        let due = lastLine.map { now - $0 >= interval } ?? (interval == .zero)
        guard due || tenth > lastTenth else { return }
        lastLine = now
        lastTenth = tenth
        writeAll(output, Self.line(progress) + "\n")
    }

    public func finish(_ progress: TransferProgress) {
        writeAll(
            output,
            "\(progress.direction.rawValue): \(formatBytes(progress.bytes)) at "
                + "\(formatBytes(Int64(progress.bytesPerSecond)))/s\n")
    }

    static func line(_ p: TransferProgress) -> String {
        var text = "\(p.direction.rawValue): \(formatBytes(p.bytes))"
        if let total = p.total, let fraction = p.fraction {
            text += " of \(formatBytes(total)) (\(Int(fraction * 100))%)"
        }
        text += ", \(formatBytes(Int64(p.bytesPerSecond)))/s"
        if let left = p.secondsLeft { text += ", about \(formatDuration(left)) left" }
        return text
    }
}

/// One JSON object per line, for machines: `{"event":"progress",...}` and finally `{"event":"done",...}`.
public final class JSONLinesProgress: TransferProgressReporter {
    private let output: Int32
    private let interval: Duration
    private var lastLine: ContinuousClock.Instant?

    public init(fileDescriptor: Int32 = STDERR_FILENO, interval: Duration = .seconds(1)) {
        self.output = fileDescriptor
        self.interval = interval
    }

    public func report(_ progress: TransferProgress) {
        let now = ContinuousClock.now
        if let lastLine, now - lastLine < interval { return }
        lastLine = now
        writeAll(output, Self.line(event: "progress", progress) + "\n")
    }

    public func finish(_ progress: TransferProgress) {
        writeAll(output, Self.line(event: "done", progress) + "\n")
    }

    public var wantsQuickLocalWork: Bool { true }

    static func line(event: String, _ p: TransferProgress) -> String {
        let total = p.total.map(String.init) ?? "null"
        let left = p.secondsLeft.map { String(Int($0.rounded())) } ?? "null"
        return "{\"event\":\"\(event)\",\"direction\":\"\(p.direction.rawValue)\",\"bytes\":\(p.bytes),"
            + "\"total\":\(total),\"bytesPerSecond\":\(Int(p.bytesPerSecond.rounded())),\"secondsLeft\":\(left)}"
    }
}

/// Binary units with one decimal, as operators read sizes: `1.5 GiB`.
public func formatBytes(_ bytes: Int64) -> String {
    let units = ["B", "KiB", "MiB", "GiB", "TiB"]
    var unit = 0
    var scaled = Double(max(0, bytes))
    while scaled >= 1024, unit < units.count - 1 {
        scaled /= 1024
        unit += 1
    }
    if unit == 0 { return "\(bytes) B" }
    let tenths = Int((scaled * 10).rounded())
    return "\(tenths / 10).\(tenths % 10) \(units[unit])"
}

func formatDuration(_ seconds: Double) -> String {
    let total = Int(seconds.rounded())
    if total < 60 { return "\(total) s" }
    let (hours, minutes, secs) = (total / 3600, total / 60 % 60, total % 60)
    let mmss = "\(minutes):" + String(secs).leftPadded(to: 2, with: "0")
    return hours > 0 ? "\(hours):" + mmss.leftPadded(to: 5, with: "0") : mmss
}

extension String {
    func leftPadded(to width: Int, with pad: Character = " ") -> String {
        count >= width ? self : String(repeating: pad, count: width - count) + self
    }
}

func writeAll(_ fd: Int32, _ text: String) {
    var text = text
    text.withUTF8 { buffer in
        var offset = 0
        while offset < buffer.count {
            let n = write(fd, buffer.baseAddress! + offset, buffer.count - offset)
            if n < 0 {
                if errno == EINTR { continue }
                return
            }
            offset += n
        }
    }
}

/// How a command shows transfer progress (`--progress`): `auto` is a bar on a terminal and
/// occasional plain lines otherwise, so logs stay readable.
public enum ProgressFormat: String, Sendable, CaseIterable {
    case auto, bar, plain, json, none

    /// The reporter for this format writing to `fileDescriptor`, or nil for `none`.
    public func reporter(fileDescriptor: Int32 = STDERR_FILENO) -> (any TransferProgressReporter)? {
        switch self {
        case .auto:
            isatty(fileDescriptor) == 1
                ? TerminalProgressBar(fileDescriptor: fileDescriptor)
                : PlainProgressLines(fileDescriptor: fileDescriptor)
        case .bar: TerminalProgressBar(fileDescriptor: fileDescriptor)
        case .plain: PlainProgressLines(fileDescriptor: fileDescriptor)
        case .json: JSONLinesProgress(fileDescriptor: fileDescriptor)
        case .none: nil
        }
    }
}
