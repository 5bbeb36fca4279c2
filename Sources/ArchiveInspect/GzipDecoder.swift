import CIsal

/// Decompresses gzip with ISA-L's igzip, checking every member's CRC-32 and length.
///
/// libarchive's gzip reader does not verify the trailer (its source says "TODO"), so
/// bytes flipped inside incompressible data would pass `--verify` unnoticed. When
/// verifying a gzip backup, this decoder sits between the file and libarchive instead.
///
/// igzip parses each member's header and trailer, computes the CRC-32 while it inflates
/// (carry-less multiplication) and compares it and the length with the trailer. It
/// inflated this project's benchmark backup in about half zlib's CPU time, which was the
/// bound of `--verify` on its thread.
final class GzipDecoder {
    private enum State { case inMember, betweenMembers, done }

    /// igzip's state (about 40 KiB, with its Huffman tables); it must never move.
    private let stream: UnsafeMutablePointer<inflate_state>
    private let output: UnsafeMutableRawBufferPointer
    private var state = State.inMember
    /// Compressed bytes consumed so far: where the decoder has got to in the file.
    private(set) var consumed: Int64 = 0
    /// Why decoding stopped early, in words for the operator.
    private(set) var failure: String?
    /// Bytes that follow the last member and are not gzip data (gzip ignores them too).
    private(set) var trailingData = false

    /// The compressed block igzip is reading, and the last 8 bytes of the blocks before it:
    /// a member's trailer may begin in one block and end in the next.
    private var block = UnsafeRawBufferPointer(start: nil, count: 0)
    private var earlier: [UInt8] = []

    /// Bytes of output per inflate call: large enough that libarchive is called rarely,
    /// small enough to stay in the CPU's cache until libarchive reads it.
    static let outputSize = 256 << 10

    init?() {
        stream = .allocate(capacity: 1)
        output = .allocate(byteCount: Self.outputSize, alignment: 64)
        isal_inflate_init(stream)
        stream.pointee.crc_flag = UInt32(ISAL_GZIP)
    }

    deinit {
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
                stream.pointee.next_in = UnsafeMutablePointer(mutating: next.baseAddress!.assumingMemoryBound(to: UInt8.self))
                stream.pointee.avail_in = UInt32(next.count)
            }
            if state == .betweenMembers {
                // Another member starts with the gzip magic; anything else is trailing data.
                guard stream.pointee.next_in[0] == 0x1f else {
                    trailingData = true
                    state = .done
                    return nil
                }
                // The reset forgets the input and the wrapper; both are set again.
                let (nextIn, availIn) = (stream.pointee.next_in, stream.pointee.avail_in)
                isal_inflate_reset(stream)
                stream.pointee.crc_flag = UInt32(ISAL_GZIP)
                stream.pointee.next_in = nextIn
                stream.pointee.avail_in = availIn
                state = .inMember
            }
            stream.pointee.next_out = output.baseAddress!.assumingMemoryBound(to: UInt8.self)
            stream.pointee.avail_out = UInt32(output.count)
            let before = stream.pointee.avail_in
            let status = isal_inflate(stream)
            // The counts are read only after success: igzip 2.30 returned ISAL_INVALID_LOOKBACK with
            // avail_in wrapped below zero (4294967294) for a 248-byte input the fuzzer made.
            if status == ISAL_INCORRECT_CHECKSUM {
                failure = mismatch()
                state = .done
                return nil
            }
            guard status >= 0 else {
                failure = Self.explain(status)
                state = .done
                return nil
            }
            consumed += Int64(before) - Int64(stream.pointee.avail_in)
            let produced = output.count - Int(stream.pointee.avail_out)
            if stream.pointee.block_state == ISAL_BLOCK_FINISH {
                state = .betweenMembers
            } else if produced == 0, stream.pointee.avail_in > 0, before == stream.pointee.avail_in {
                // Neither input taken nor output made: igzip cannot go on with these bytes.
                failure = "gzip data is corrupt: the decompressor made no progress"
                state = .done
                return nil
            }
            if produced > 0 { return UnsafeRawBufferPointer(rebasing: output[0..<produced]) }
        }
        return nil
    }

    /// Which of the member's trailer's two checks failed (CRC-32 and length modulo 2^32,
    /// little-endian, the last 8 bytes igzip consumed), in words for the operator.
    private func mismatch() -> String {
        let used = min(max(block.count - Int(stream.pointee.avail_in), 0), block.count)
        let trailer = Array((earlier + block[max(0, used - 8)..<used]).suffix(8))
        func word(_ at: Int) -> UInt32 {
            trailer[at..<at + 4].reversed().reduce(0) { $0 << 8 | UInt32($1) }
        }
        if trailer.count == 8, word(0) == stream.pointee.crc,
            word(4) != stream.pointee.total_out
        {
            return "gzip length mismatch: the decompressed size is not what was compressed"
        }
        return "gzip CRC-32 mismatch: the decompressed data is not what was compressed"
    }

    private static func explain(_ status: Int32) -> String {
        switch status {
        case ISAL_INVALID_WRAPPER: "gzip data is corrupt: incorrect header check"
        case ISAL_UNSUPPORTED_METHOD: "gzip data is corrupt: unknown compression method"
        case ISAL_INVALID_BLOCK: "gzip data is corrupt: invalid block type or lengths"
        case ISAL_INVALID_SYMBOL: "gzip data is corrupt: invalid code"
        case ISAL_INVALID_LOOKBACK: "gzip data is corrupt: invalid distance too far back"
        default: "gzip data is corrupt (igzip status \(status))"
        }
    }
}
