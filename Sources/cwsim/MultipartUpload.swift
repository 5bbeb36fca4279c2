import Foundation

/// Why an upload is not a usable multipart form with a `file` field.
enum UploadError: Error, CustomStringConvertible {
    case notMultipart(contentType: String?)
    case malformed(String)
    case missingFileField
    case cannotWrite(path: String, reason: String)

    var description: String {
        switch self {
        case .notMultipart(let type):
            return "expected a multipart/form-data upload with a boundary, got Content-Type \(type ?? "(none)")"
        case .malformed(let reason): return "the multipart body is malformed: \(reason)"
        case .missingFileField: return "the upload has no form field named 'file'"
        case .cannotWrite(let path, let reason): return "cannot store the upload at \(path): \(reason)"
        }
    }
}

/// Streams a multipart/form-data body to disk, keeping only the field `file`. Memory
/// stays bounded by one incoming chunk plus the boundary, whatever the file's size.
struct MultipartUpload {
    private enum State {
        case preamble
        case afterDelimiter
        case headers
        case content(isFile: Bool)
        case finished
    }

    private let delimiter: Data
    private let output: FileHandle
    private let outputPath: String
    private var state = State.preamble
    // A CRLF in front lets the first boundary match the same "\r\n--boundary" pattern.
    private var buffer = Data("\r\n".utf8)
    private(set) var fileBytes = 0
    private var sawFile = false
    private static let headerLimit = 64 * 1024

    /// Reads the boundary from `contentType` and opens `destination` for the file part.
    init(contentType: String?, destination: URL) throws(UploadError) {
        guard let contentType, contentType.lowercased().hasPrefix("multipart/form-data"),
            let boundary = Self.boundary(in: contentType), !boundary.isEmpty
        else { throw .notMultipart(contentType: contentType) }
        delimiter = Data("\r\n--\(boundary)".utf8)
        guard
            FileManager.default.createFile(
                atPath: destination.path, contents: nil, attributes: [.posixPermissions: 0o600]),
            let handle = try? FileHandle(forWritingTo: destination)
        else { throw .cannotWrite(path: destination.path, reason: "cannot create the file") }
        output = handle
        outputPath = destination.path
    }

    mutating func consume(_ chunk: Data) throws(UploadError) {
        buffer.append(chunk)
        while try step() {}
    }

    /// Closes the file; the upload is complete only when the closing boundary was seen.
    mutating func finish() throws(UploadError) {
        try? output.close()
        guard case .finished = state else {
            if sawFile { throw .malformed("the body ended before the closing boundary (interrupted upload?)") }
            throw .missingFileField
        }
        guard sawFile else { throw .missingFileField }
    }

    /// Advances the state machine once; false when more input is needed.
    private mutating func step() throws(UploadError) -> Bool {
        switch state {
        case .preamble:
            guard let range = find(delimiter) else {
                keepTail(delimiter.count - 1)
                return false
            }
            drop(through: range.upperBound)
            state = .afterDelimiter
            return true
        case .afterDelimiter:
            guard buffer.count >= 2 else { return false }
            let start = buffer.startIndex
            if buffer[start] == UInt8(ascii: "-") && buffer[start + 1] == UInt8(ascii: "-") {
                state = .finished
                buffer.removeAll()
                return false
            }
            // Transport padding after the boundary is allowed before its CRLF.
            guard let lineEnd = find(Data("\r\n".utf8)) else { return false }
            drop(through: lineEnd.upperBound)
            state = .headers
            return true
        case .headers:
            guard let end = find(Data("\r\n\r\n".utf8)) else {
                if buffer.count > Self.headerLimit { throw .malformed("part headers longer than 64 KiB") }
                return false
            }
            let headerText = String(decoding: buffer[buffer.startIndex..<end.lowerBound], as: UTF8.self)
            drop(through: end.upperBound)
            let isFile = Self.fieldName(in: headerText) == "file"
            if isFile {
                if sawFile { throw .malformed("more than one field named 'file'") }
                sawFile = true
            }
            state = .content(isFile: isFile)
            return true
        case .content(let isFile):
            if let range = find(delimiter) {
                if isFile { try write(buffer[buffer.startIndex..<range.lowerBound]) }
                drop(through: range.upperBound)
                state = .afterDelimiter
                return true
            }
            // Everything but a possible partial delimiter at the end is content.
            let safe = buffer.count - (delimiter.count - 1)
            if safe > 0 {
                if isFile { try write(buffer[buffer.startIndex..<(buffer.startIndex + safe)]) }
                drop(through: buffer.startIndex + safe)
            }
            return false
        case .finished:
            buffer.removeAll()
            return false
        }
    }

    private mutating func write(_ bytes: Data) throws(UploadError) {
        do { try output.write(contentsOf: bytes) } catch {
            throw .cannotWrite(path: outputPath, reason: error.localizedDescription)
        }
        fileBytes += bytes.count
    }

    private func find(_ pattern: Data) -> Range<Int>? {
        buffer.withUnsafeBytes { haystack -> Range<Int>? in
            pattern.withUnsafeBytes { needle -> Range<Int>? in
                guard let base = haystack.baseAddress, let first = needle.first,
                    let needleBase = needle.baseAddress, haystack.count >= needle.count
                else { return nil }
                // memchr finds candidates at memory speed; memcmp confirms them.
                var offset = 0
                let lastStart = haystack.count - needle.count
                while offset <= lastStart {
                    guard let hit = memchr(base + offset, Int32(first), lastStart - offset + 1) else { return nil }
                    let position = base.distance(to: UnsafeRawPointer(hit))
                    if memcmp(hit, needleBase, needle.count) == 0 {
                        return (buffer.startIndex + position)..<(buffer.startIndex + position + needle.count)
                    }
                    offset = position + 1
                }
                return nil
            }
        }
    }

    private mutating func drop(through index: Int) {
        buffer = Data(buffer[index...])
    }

    private mutating func keepTail(_ count: Int) {
        if buffer.count > count { buffer = Data(buffer.suffix(count)) }
    }

    private static func boundary(in contentType: String) -> String? {
        for parameter in contentType.split(separator: ";").dropFirst() {
            let pair = parameter.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
            if pair.count == 2, pair[0].lowercased() == "boundary" {
                return pair[1].trimmingCharacters(in: CharacterSet(charactersIn: "\""))
            }
        }
        return nil
    }

    private static func fieldName(in headers: String) -> String? {
        for line in headers.split(separator: "\r\n") where line.lowercased().hasPrefix("content-disposition:") {
            for parameter in line.split(separator: ";").dropFirst() {
                let pair = parameter.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
                if pair.count == 2, pair[0].lowercased() == "name" {
                    return pair[1].trimmingCharacters(in: CharacterSet(charactersIn: "\""))
                }
            }
        }
        return nil
    }
}
