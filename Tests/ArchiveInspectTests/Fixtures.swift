import Foundation
import TestSupport

/// A scratch directory where a test lays out a backup's files and archives them with
/// real tools (GNU tar, bsdtar, Python's tarfile).
struct Scratch {
    let root: URL

    init() throws { root = try TestSupport.temporaryDirectory("cwmigrate-inspect") }

    /// Writes files under `tree/` (directories are created as needed).
    func tree(_ files: [String: String]) throws {
        for (path, content) in files {
            let url = root.appendingPathComponent("tree").appendingPathComponent(path)
            try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            try Data(content.utf8).write(to: url)
        }
    }

    /// Runs a bash script in the scratch directory (`tree/` holds the files).
    @discardableResult
    func sh(_ script: String) throws -> String {
        try TestSupport.shell("set -euo pipefail\n" + script, in: root).stdout
    }

    func path(_ name: String) -> String { root.appendingPathComponent(name).path }

    func remove() { try? FileManager.default.removeItem(at: root) }

    /// Archives `tree/`'s entries in the order given (a directory is followed by its contents).
    func archive(_ name: String, with maker: Maker, _ compression: Compression, order: [String]) throws -> String {
        let members = order.map { "'\($0)'" }.joined(separator: " ")
        let plain = "\(name).plain.tar"
        switch maker {
        case .gnuTar(let format):
            // GNU tar's own compression flags, as operators would use them.
            try sh("cd tree && tar --format=\(format) --no-recursion \(compression.gnuTarFlag) -cf ../\(name) \(members)")
            return path(name)
        case .bsdtar(let format):
            try sh("cd tree && bsdtar --format \(format) -n -cf ../\(plain) \(members)")
        case .python(let format):
            try sh(
                """
                cd tree && python3 -c '
                import sys, tarfile
                with tarfile.open(sys.argv[1], "w", format=getattr(tarfile, sys.argv[2])) as t:
                    for m in sys.argv[3:]:
                        t.add(m, recursive=False)
                ' ../\(plain) \(format) \(members)
                """)
        }
        try sh("\(compression.pipe) < \(plain) > \(name) && rm \(plain)")
        return path(name)
    }
}

enum Maker: CustomStringConvertible, Sendable {
    case gnuTar(String), bsdtar(String), python(String)

    var description: String {
        switch self {
        case .gnuTar(let f): "GNU tar --format=\(f)"
        case .bsdtar(let f): "bsdtar --format \(f)"
        case .python(let f): "Python tarfile \(f)"
        }
    }

    /// The dialect libarchive reports for an archive this maker wrote.
    var expectedFormat: String {
        switch self {
        case .gnuTar("gnu"), .python("GNU_FORMAT"): "GNU tar format"
        case .gnuTar("pax"), .python("PAX_FORMAT"), .bsdtar("pax"): "POSIX pax interchange format"
        default: "POSIX ustar format"
        }
    }

    static let all: [Maker] = [
        .gnuTar("gnu"), .gnuTar("pax"), .gnuTar("ustar"), .bsdtar("ustar"), .bsdtar("pax"),
        .python("PAX_FORMAT"), .python("GNU_FORMAT"), .python("USTAR_FORMAT"),
    ]
}

enum Compression: String, CaseIterable, Sendable {
    case gzip, bzip2, xz, zstd, none

    var gnuTarFlag: String {
        switch self {
        case .gzip: "-z"
        case .bzip2: "-j"
        case .xz: "-J"
        case .zstd: "--zstd"
        case .none: ""
        }
    }

    var pipe: String {
        switch self {
        case .gzip: "gzip -c"
        case .bzip2: "bzip2 -c"
        case .xz: "xz -c"
        case .zstd: "zstd -q -c"
        case .none: "cat"
        }
    }
}

let backupID = "1.0.73_2022-02-16T15:37:19.242Z"
/// The same id as operators write it in file names, with `:` replaced by `-`.
let fileSafeID = "1.0.73_2022-02-16T15-37-19.242Z"
