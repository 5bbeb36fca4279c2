#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif
import SafeFiles

#if canImport(Glibc)
    import Glibc
#endif

/// Where a runbook goes: stdout, one file, or (Ansible) a directory of files, each written
/// through SafeFiles (0644: a runbook holds no secret), never over a file the command reads.
public struct RunbookOutput: Sendable {
    /// `--output`: nil or `-` is stdout (not for Ansible, which needs a directory).
    public let path: String?
    public let format: RunbookFormat
    public let replacing: Bool
    /// Every file the command reads, so that none of them is ever the output.
    public let inputs: [String]

    public init(path: String?, format: RunbookFormat, replacing: Bool, inputs: [String]) {
        self.path = path
        self.format = format
        self.replacing = replacing
        self.inputs = inputs
    }

    /// Whether the runbook goes to stdout.
    public var toStandardOutput: Bool { path == nil || (path == "-" && format != .ansible) }

    /// Refuses an output that cannot be written, before the backup (which may be large) is read.
    public func check() throws(OutputFileError) {
        guard let path else { return }
        guard format == .ansible else {
            try OutputFile.check(path, replacing: replacing, inputs: inputs, standardOutputRefusal: nil)
            return
        }
        guard path != "-" else { throw .standardOutputRefused(what: "an Ansible playbook directory") }
        var info = stat()
        if lstat(path, &info) == 0 {
            guard (info.st_mode & S_IFMT) == S_IFDIR else {
                throw .unusableDirectory(
                    path: path, directory: path, reason: "is not a directory (a symlink is not followed)")
            }
            for name in format.fileNames {
                try OutputFile.check(path + "/" + name, replacing: replacing, inputs: inputs)
            }
        } else {
            try OutputFile.check(path, replacing: false, inputs: inputs)
        }
    }

    /// Writes `files` to the output (a directory made for Ansible); returns the paths written.
    public func write(_ files: [RunbookFile]) throws(OutputFileError) -> [String] {
        guard let path, !toStandardOutput else { return [] }
        if format == .ansible {
            try OutputFile.makeDirectory(path)
            for file in files {
                try OutputFile.write(
                    Array(file.text.utf8), to: path + "/" + file.name, mode: 0o644, replacing: replacing,
                    inputs: inputs)
            }
            return files.map { path + "/" + $0.name }
        }
        for file in files {
            try OutputFile.write(Array(file.text.utf8), to: path, mode: 0o644, replacing: replacing, inputs: inputs)
        }
        return [path]
    }
}
