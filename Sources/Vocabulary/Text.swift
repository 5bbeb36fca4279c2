#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

// What the libraries took from Foundation alone (CharacterSet trimming, NSString's path
// helpers, Thread.sleep), written once here so that they can import FoundationEssentials,
// which brings no ICU.

extension StringProtocol {
    /// Without leading and trailing blanks (spaces, tabs and other Unicode spaces, not line
    /// breaks), as `trimmingCharacters(in: .whitespaces)` did.
    public var trimmingBlanks: String { trimming { $0.isWhitespace && !$0.isNewline } }

    /// Without leading and trailing white space and line breaks, as
    /// `trimmingCharacters(in: .whitespacesAndNewlines)` did.
    public var trimmingWhitespace: String { trimming(where: \.isWhitespace) }

    /// Without leading and trailing characters for which `drop` is true.
    public func trimming(where drop: (Character) -> Bool) -> String {
        guard let first = firstIndex(where: { !drop($0) }) else { return "" }
        let last = lastIndex(where: { !drop($0) })!
        return String(self[first...last])
    }
}

/// The last part of a slash-separated path, as NSString's `lastPathComponent`: trailing
/// slashes are ignored, `/` stays `/`, the empty path stays empty.
public func lastPathComponent(_ path: String) -> String {
    let stripped = path.trimmingTrailingSlashes
    if stripped.isEmpty { return path.isEmpty ? "" : "/" }
    guard let slash = stripped.lastIndex(of: "/") else { return stripped }
    return String(stripped[stripped.index(after: slash)...])
}

/// The path without its last part, as NSString's `deletingLastPathComponent`: `/a/b` → `/a`,
/// `/a` → `/`, `a` → ``, `/` → `/`, `` → ``.
public func deletingLastPathComponent(_ path: String) -> String {
    let stripped = path.trimmingTrailingSlashes
    if stripped.isEmpty { return path.isEmpty ? "" : "/" }
    guard let slash = stripped.lastIndex(of: "/") else { return "" }
    let parent = String(stripped[..<slash]).trimmingTrailingSlashes
    return parent.isEmpty ? "/" : parent
}

extension String {
    fileprivate var trimmingTrailingSlashes: String {
        var end = endIndex
        while end > startIndex, self[index(before: end)] == "/" { end = index(before: end) }
        return String(self[..<end])
    }
}

/// Sleeps the calling thread for `duration`, resuming after signals (`Thread.sleep` without Foundation).
public func pause(_ duration: Duration) {
    guard duration > .zero else { return }
    let (seconds, attoseconds) = duration.components
    var request = timespec(tv_sec: Int(seconds), tv_nsec: Int(attoseconds / 1_000_000_000))
    var remaining = timespec()
    while nanosleep(&request, &remaining) != 0, errno == EINTR { request = remaining }
}

/// `format` filled in as C's printf does (`%.1f`, `%02d`, …; numbers only, no `%@`): what
/// `String(format:)` did, without Foundation.
public func cFormat(_ format: String, _ arguments: any CVarArg...) -> String {
    var capacity = 128
    while true {
        var buffer = [CChar](repeating: 0, count: capacity)
        let needed = withVaList(arguments) { vsnprintf(&buffer, capacity, format, $0) }
        guard needed >= 0 else { return "" }
        if Int(needed) < capacity { return String(decoding: buffer[0..<Int(needed)].map { UInt8(bitPattern: $0) }, as: UTF8.self) }
        capacity = Int(needed) + 1
    }
}

/// Up to `limit` bytes from the start of the file at `path`; nil when it cannot be opened or read
/// (`FileHandle(forReadingAtPath:)` and `read(upToCount:)` without Foundation).
/// Everything behind the open descriptor `fd`, or nil on a read error or when it holds more than
/// `limit` bytes (a state file past its limit is not one of ours).
public func readAll(_ fd: Int32, limit: Int) -> [UInt8]? {
    var bytes: [UInt8] = []
    var chunk = [UInt8](repeating: 0, count: 65536)
    while true {
        let count = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
        if count < 0 {
            if errno == EINTR { continue }
            return nil
        }
        if count == 0 { return bytes }
        bytes.append(contentsOf: chunk[0..<count])
        if bytes.count > limit { return nil }
    }
}

public func readFile(_ path: String, upTo limit: Int) -> [UInt8]? {
    let fd = open(path, O_RDONLY | O_CLOEXEC)
    guard fd >= 0 else { return nil }
    defer { close(fd) }
    var bytes: [UInt8] = []
    var chunk = [UInt8](repeating: 0, count: 65536)
    while bytes.count < limit {
        let want = min(chunk.count, limit - bytes.count)
        let count = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, want) }
        if count > 0 {
            bytes.append(contentsOf: chunk[0..<count])
        } else if count == 0 {
            break
        } else if errno != EINTR {
            return nil
        }
    }
    return bytes
}
