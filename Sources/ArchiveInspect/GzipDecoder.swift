import CArchive

/// Decompresses gzip with zlib, checking every member's CRC-32 and length.
///
/// libarchive's gzip reader does not verify the trailer (its source says "TODO"), so
/// bytes flipped inside incompressible data would pass `--verify` unnoticed. When
/// verifying a gzip backup, this decoder sits between the file and libarchive instead.
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

    init?() {
        // zlib keeps a pointer back to its z_stream, so it must never move.
        stream = .allocate(capacity: 1)
        stream.initialize(to: z_stream())
        output = .allocate(byteCount: 1 << 20, alignment: 64)
        // 16 + MAX_WBITS: expect a gzip header and check the trailer.
        guard inflateInit2_(stream, 16 + MAX_WBITS, zlibVersion(), Int32(MemoryLayout<z_stream>.size)) == Z_OK else {
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
                guard let block = raw() else {
                    if state == .inMember {
                        failure = "the gzip data ends early, inside a compressed member (the file is truncated)"
                    }
                    state = .done
                    return nil
                }
                stream.pointee.next_in = UnsafeMutablePointer(mutating: block.baseAddress!.assumingMemoryBound(to: Bytef.self))
                stream.pointee.avail_in = uInt(block.count)
            }
            if state == .betweenMembers {
                // Another member starts with the gzip magic; anything else is trailing data.
                guard stream.pointee.next_in[0] == 0x1f else {
                    trailingData = true
                    state = .done
                    return nil
                }
                inflateReset(stream)
                state = .inMember
            }
            stream.pointee.next_out = output.baseAddress!.assumingMemoryBound(to: Bytef.self)
            stream.pointee.avail_out = uInt(output.count)
            let before = stream.pointee.avail_in
            let status = inflate(stream, Z_NO_FLUSH)
            consumed += Int64(before - stream.pointee.avail_in)
            let produced = output.count - Int(stream.pointee.avail_out)
            switch status {
            case Z_STREAM_END:
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

    private static func explain(_ status: Int32, _ message: String?) -> String {
        switch message {
        case "incorrect data check"?: "gzip CRC-32 mismatch: the decompressed data is not what was compressed"
        case "incorrect length check"?: "gzip length mismatch: the decompressed size is not what was compressed"
        case let message?: "gzip data is corrupt: \(message)"
        case nil: "gzip data is corrupt (zlib status \(status))"
        }
    }
}
