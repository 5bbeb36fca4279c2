import CArchive
import CDeflate

/// Decompresses gzip with zlib, checking every member's CRC-32 and length.
///
/// libarchive's gzip reader does not verify the trailer (its source says "TODO"), so
/// bytes flipped inside incompressible data would pass `--verify` unnoticed. When
/// verifying a gzip backup, this decoder sits between the file and libarchive instead.
///
/// zlib parses each member's header and trailer but is told not to compute the CRC-32
/// (`inflateValidate`): zlib 1.2's CRC runs at about 2.5 GB/s, which on a 1 GiB backup cost
/// more than the inflating. The decoder computes it with libdeflate's (carry-less
/// multiplication, about 9 GB/s) and compares it and the length with the member's trailer.
final class GzipDecoder {
    private enum State { case inMember, betweenMembers, done }

    private let stream: UnsafeMutablePointer<z_stream>
    private let output: UnsafeMutableRawBufferPointer
    private var state = State.inMember
    /// Compressed bytes consumed so far: where the decoder has got to in the file.
    private(set) var consumed: Int64 = 0
    /// Why decoding stopped early, in words for the operator.
    private(set) var failure: String?
    /// Bytes that follow the last member and are not gzip data (gzip ignores them too).
    private(set) var trailingData = false

    /// The CRC-32 of the current member's output so far.
    private var crc: UInt32 = 0
    /// The compressed block zlib is reading, and the last 8 bytes of the blocks before it:
    /// a member's trailer may begin in one block and end in the next.
    private var block = UnsafeRawBufferPointer(start: nil, count: 0)
    private var earlier: [UInt8] = []

    /// Bytes of output per inflate call: small enough that the CRC reads them back from the
    /// CPU's cache, large enough that libarchive is called rarely.
    static let outputSize = 256 << 10

    init?() {
        // zlib keeps a pointer back to its z_stream, so it must never move.
        stream = .allocate(capacity: 1)
        stream.initialize(to: z_stream())
        output = .allocate(byteCount: Self.outputSize, alignment: 64)
        // 16 + MAX_WBITS: expect a gzip header (and a trailer, checked here, not by zlib).
        guard inflateInit2_(stream, 16 + MAX_WBITS, zlibVersion(), Int32(MemoryLayout<z_stream>.size)) == Z_OK,
            inflateValidate(stream, 0) == Z_OK
        else {
            stream.deallocate()
            output.deallocate()
            return nil
        }
    }

    deinit {
        inflateEnd(stream)
        stream.deallocate()
        output.deallocate()
    }

    /// The next piece of decompressed data, pulling compressed blocks from `raw` as
    /// needed; nil at the end, or when `failure` says why not.
    func next(_ raw: () -> UnsafeRawBufferPointer?) -> UnsafeRawBufferPointer? {
        while state != .done {
            if stream.pointee.avail_in == 0 {
                earlier = Array((earlier + block.suffix(8)).suffix(8))
                guard let next = raw() else {
                    if state == .inMember {
                        failure = "the gzip data ends early, inside a compressed member (the file is truncated)"
                    }
                    state = .done
                    return nil
                }
                block = next
                stream.pointee.next_in = UnsafeMutablePointer(mutating: next.baseAddress!.assumingMemoryBound(to: Bytef.self))
                stream.pointee.avail_in = uInt(next.count)
            }
            if state == .betweenMembers {
                // Another member starts with the gzip magic; anything else is trailing data.
                guard stream.pointee.next_in[0] == 0x1f else {
                    trailingData = true
                    state = .done
                    return nil
                }
                // inflateReset keeps the "do not compute the CRC" setting.
                inflateReset(stream)
                crc = 0
                state = .inMember
            }
            stream.pointee.next_out = output.baseAddress!.assumingMemoryBound(to: Bytef.self)
            stream.pointee.avail_out = uInt(output.count)
            let before = stream.pointee.avail_in
            let status = inflate(stream, Z_NO_FLUSH)
            consumed += Int64(before - stream.pointee.avail_in)
            let produced = output.count - Int(stream.pointee.avail_out)
            if produced > 0 { crc = libdeflate_crc32(crc, output.baseAddress, produced) }
            switch status {
            case Z_STREAM_END:
                if let mismatch = checkTrailer() {
                    failure = mismatch
                    state = .done
                    return nil
                }
                state = .betweenMembers
            case Z_OK:
                break
            case Z_BUF_ERROR where stream.pointee.avail_in == 0:
                break
            default:
                failure = Self.explain(status, stream.pointee.msg.map { String(cString: $0) })
                state = .done
                return nil
            }
            if produced > 0 { return UnsafeRawBufferPointer(rebasing: output[0..<produced]) }
        }
        return nil
    }

    /// Compares the member's trailer (CRC-32 and length modulo 2^32, little-endian), the
    /// last 8 bytes zlib consumed, with what was decompressed.
    private func checkTrailer() -> String? {
        let used = block.count - Int(stream.pointee.avail_in)
        let trailer = Array((earlier + block[max(0, used - 8)..<used]).suffix(8))
        guard trailer.count == 8 else { return "gzip data is corrupt: the member's trailer is missing" }
        func word(_ at: Int) -> UInt32 {
            trailer[at..<at + 4].reversed().reduce(0) { $0 << 8 | UInt32($1) }
        }
        if word(0) != crc { return Self.explain(Z_DATA_ERROR, "incorrect data check") }
        if word(4) != UInt32(truncatingIfNeeded: stream.pointee.total_out) {
            return Self.explain(Z_DATA_ERROR, "incorrect length check")
        }
        return nil
    }

    private static func explain(_ status: Int32, _ message: String?) -> String {
        switch message {
        case "incorrect data check"?: "gzip CRC-32 mismatch: the decompressed data is not what was compressed"
        case "incorrect length check"?: "gzip length mismatch: the decompressed size is not what was compressed"
        case let message?: "gzip data is corrupt: \(message)"
        case nil: "gzip data is corrupt (zlib status \(status))"
        }
    }
}
