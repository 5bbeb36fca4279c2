import ArchiveInspect
import Foundation

/// The service-manager's files that a backup carries beside the database dump, as
/// `ID/service-manager/...`: regular files and directories with their modes. Symlinks
/// and other special files are skipped with a log line, in both directions.
struct ServiceFiles: Sendable {
    /// The directory whose contents are backed up and replaced by a restore (a volume's
    /// mount point, so the directory itself stays and only its contents change).
    let directory: URL

    static let archiveDirectory = "service-manager"

    private struct Item {
        let relativePath: String
        let url: URL
        let isDirectory: Bool
        let mode: Int32
    }

    /// Adds `prefix/service-manager/` and everything under the directory to `writer`.
    func write(into writer: ArchiveWriter, prefix: String) throws {
        let base = "\(prefix)/\(Self.archiveDirectory)"
        try writer.addDirectory(base)
        for item in try Self.walk(directory) {
            if item.isDirectory {
                try writer.addDirectory("\(base)/\(item.relativePath)")
            } else {
                try writer.addFile("\(base)/\(item.relativePath)", from: item.url, mode: item.mode)
            }
        }
    }

    /// Replaces the directory's contents with the tree at `source` (an unpacked
    /// `service-manager/`). The new tree is staged inside the directory first, so the
    /// old files go only once the new ones are complete on the same file system.
    func replace(with source: URL) throws {
        let fileManager = FileManager.default
        let staging = directory.appendingPathComponent(".cwsim-restore-\(UUID().uuidString)", isDirectory: true)
        do {
            try fileManager.createDirectory(at: staging, withIntermediateDirectories: false)
            for item in try Self.walk(source) {
                let target = staging.appendingPathComponent(item.relativePath)
                if item.isDirectory {
                    try fileManager.createDirectory(at: target, withIntermediateDirectories: true)
                } else {
                    try fileManager.copyItem(at: item.url, to: target)
                }
                try fileManager.setAttributes([.posixPermissions: item.mode], ofItemAtPath: target.path)
            }
        } catch {
            try? fileManager.removeItem(at: staging)
            throw error
        }
        for old in try fileManager.contentsOfDirectory(atPath: directory.path) where old != staging.lastPathComponent {
            try fileManager.removeItem(at: directory.appendingPathComponent(old))
        }
        for new in try fileManager.contentsOfDirectory(atPath: staging.path) {
            try fileManager.moveItem(
                at: staging.appendingPathComponent(new), to: directory.appendingPathComponent(new))
        }
        try fileManager.removeItem(at: staging)
    }

    /// Every directory and regular file under `root`, parents before children, sorted by
    /// path so archives come out the same for the same files.
    private static func walk(_ root: URL) throws -> [Item] {
        var items: [Item] = []
        func visit(_ url: URL, _ relative: String) throws {
            let names = try FileManager.default.contentsOfDirectory(atPath: url.path).sorted()
            for name in names {
                let child = url.appendingPathComponent(name)
                let path = relative.isEmpty ? name : "\(relative)/\(name)"
                var info = stat()
                guard lstat(child.path, &info) == 0 else {
                    throw SimulatorError.unreadableFile(path: child.path, reason: String(cString: strerror(errno)))
                }
                let mode = Int32(info.st_mode & 0o7777)
                switch info.st_mode & S_IFMT {
                case S_IFDIR:
                    items.append(Item(relativePath: path, url: child, isDirectory: true, mode: mode))
                    try visit(child, path)
                case S_IFREG:
                    items.append(Item(relativePath: path, url: child, isDirectory: false, mode: mode))
                case S_IFLNK:
                    log("service files: skipping the symlink \(child.path)")
                default:
                    log("service files: skipping \(child.path), neither a regular file nor a directory")
                }
            }
        }
        try visit(root, "")
        return items
    }
}
