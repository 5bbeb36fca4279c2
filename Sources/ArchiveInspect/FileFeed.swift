import Dispatch
import Foundation
import Vocabulary

/// Feeds an archive file to libarchive in large blocks and, when verifying, hashes
/// every block on a second thread so `--verify` reads the file once and the digest
/// costs no extra wall time.
final class FileFeed {
    /// Large blocks when every byte is read (fewer calls, the hasher keeps pace); smaller
    /// ones for a quick look, which usually needs only the archive's first entries.
    static func blockSize(hashing: Bool) -> Int { hashing ? 1 << 20 : 256 << 10 }

    let path: String
    private let fd: Int32
    private let slots: [UnsafeMutableRawBufferPointer]
    private let hashing: HashPipeline?
    /// Bytes of the file handed to libarchive (or skipped) so far.
    private(set) var consumed: Int64 = 0
    /// The errno of a failed read, kept because libarchive only learns "-1".
    private(set) var readFailure: Int32?
    /// Set when the feed itself decompresses gzip (to check its CRC); libarchive then sees plain tar.
    let gzip: GzipDecoder?
    /// Told the bytes of the file read so far, when someone watches a long read.
    var meter: ProgressMeter?

    init(path: String, hashing: Bool) throws(ArchiveInspectError) {
        self.path = path
        fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw ArchiveInspectError.opening(path, errno: errno) }
        // A slot may be reused only when the hasher is done with it and libarchive has
        // moved on (it may keep a block until its next read call), so hashing needs several.
        let count = hashing ? 4 : 1
        let size = Self.blockSize(hashing: hashing)
        slots = (0..<count).map { _ in UnsafeMutableRawBufferPointer.allocate(byteCount: size, alignment: 64) }
        self.hashing = hashing ? HashPipeline(slots: slots) : nil
        // Verification decompresses gzip here so that its CRC-32 is checked.
        var magic: [UInt8] = [0, 0]
        let isGzip = pread(fd, &magic, 2, 0) == 2 && magic == [0x1f, 0x8b]
        gzip = hashing && isGzip ? GzipDecoder() : nil
    }

    deinit {
        _ = hashing?.finish()
        close(fd)
        for slot in slots { slot.deallocate() }
    }

    /// The next block for libarchive: decompressed when the feed checks gzip itself.
    /// Nil at the end, or on error (see `failure`).
    func nextBlock() -> UnsafeRawBufferPointer? {
        guard let gzip else { return nextRawBlock() }
        return gzip.next { nextRawBlock() }
    }

    /// Why the last `nextBlock` returned nil early, if it did.
    var failure: String? {
        if let readFailure { return "reading the file failed: " + String(cString: strerror(readFailure)) }
        return gzip?.failure
    }

    /// Bytes of the file consumed by decoding, when the feed decodes; else nil.
    var decodedOffset: Int64? { gzip?.consumed }

    /// Reads the rest of the gzip data so its last CRC is checked even when the tar
    /// archive ended before it; nil when all is well.
    func finishDecoding() -> String? {
        guard gzip != nil else { return nil }
        while nextBlock() != nil {}
        return failure
    }

    private func nextRawBlock() -> UnsafeRawBufferPointer? {
        let index = hashing?.acquire() ?? 0
        let slot = slots[index]
        var n: Int
        repeat { n = read(fd, slot.baseAddress, slot.count) } while n < 0 && errno == EINTR
        if n < 0 { readFailure = errno }
        let length = max(n, 0)
        hashing?.submit(slot: index, length: length)
        guard n > 0 else { return nil }
        consumed += Int64(n)
        meter?.update(bytes: consumed)
        return UnsafeRawBufferPointer(rebasing: slot[0..<n])
    }

    /// Moves past `count` bytes without reading them; only when not hashing.
    func skip(_ count: Int64) -> Int64 {
        guard hashing == nil, count > 0 else { return 0 }
        guard lseek(fd, off_t(count), SEEK_CUR) >= 0 else { return 0 }
        consumed += count
        meter?.update(bytes: consumed)
        return count
    }

    var canSkip: Bool { hashing == nil }

    /// Reads what libarchive left after the end of the archive, then returns the file's SHA-256.
    func finishHashing() throws(ArchiveInspectError) -> String? {
        guard let hashing else { return nil }
        while nextRawBlock() != nil {}
        if let readFailure {
            throw ArchiveInspectError.unreadable(path, reason: String(cString: strerror(readFailure)))
        }
        return hashing.finish()
    }
}

/// Hashes blocks handed over by the reading thread, in order, on its own thread.
private final class HashPipeline: @unchecked Sendable {
    private let slots: [UnsafeMutableRawBufferPointer]
    // One length per slot, written before `filled` is signalled and read after it is waited on.
    private let lengths: UnsafeMutablePointer<Int>
    // Starts at zero and is signalled once per slot: libdispatch refuses to dispose of a
    // semaphore whose count is below the one it was created with.
    private let free = DispatchSemaphore(value: 0)
    private let filled = DispatchSemaphore(value: 0)
    private let done = DispatchSemaphore(value: 0)
    private var digest: String?
    private var finished = false

    init(slots: [UnsafeMutableRawBufferPointer]) {
        self.slots = slots
        lengths = .allocate(capacity: slots.count)
        lengths.initialize(repeating: 0, count: slots.count)
        for _ in slots { free.signal() }
        let thread = Thread { [self] in run() }
        thread.name = "cwmigrate-sha256"
        thread.start()
    }

    deinit { lengths.deallocate() }

    private var nextSlot = 0

    /// Waits until the hasher is done with the next slot in turn, and returns it.
    func acquire() -> Int {
        free.wait()
        defer { nextSlot = (nextSlot + 1) % slots.count }
        return nextSlot
    }

    func submit(slot: Int, length: Int) {
        lengths[slot] = length
        filled.signal()
    }

    /// Ends the hashing thread and returns the digest; safe to call more than once.
    func finish() -> String {
        if !finished {
            finished = true
            // A length of -1 in the next slot tells the thread to stop.
            submit(slot: acquire(), length: -1)
            done.wait()
        }
        return digest ?? ""
    }

    private func run() {
        let hasher = SHA256Hasher()
        var index = 0
        while true {
            filled.wait()
            let length = lengths[index]
            if length < 0 { break }
            hasher.update(UnsafeRawBufferPointer(rebasing: slots[index][0..<length]))
            index = (index + 1) % slots.count
            free.signal()
        }
        digest = hasher.finalize()
        done.signal()
    }
}
