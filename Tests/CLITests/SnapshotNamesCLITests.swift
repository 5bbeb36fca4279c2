import Foundation
import TestSupport
import Testing

/// A snapshot keeps every file name as the bytes it is, whatever the locale cwmigrate runs
/// in: read back by bsdtar (a real, independent reader), the tree is the same in names,
/// bytes, owners, modes and times. No Docker needed (`--directory` snapshots a directory
/// the way a volume's mount point is snapshotted).
struct SnapshotNamesCLITests {
    static let locales: [String: [String]] = [
        "LANG=C": ["LANG=C", "LC_ALL=C"],
        "no locale variables": ["-u", "LANG", "-u", "LC_ALL", "-u", "LC_CTYPE"],
        "C.UTF-8": ["LC_ALL=C.UTF-8"],
    ]

    @Test(arguments: ["LANG=C", "no locale variables", "C.UTF-8"])
    func namesThatAreUTF8OrNotSurviveASnapshotByteForByte(locale: String) throws {
        let root = try TestSupport.temporaryDirectory("cwmigrate-names")
        defer { try? FileManager.default.removeItem(at: root) }
        try TestSupport.shell(
            """
            set -e
            mkdir -p src/ü-dir out
            printf 'umlaut' > 'src/name with space ü.txt'
            printf 'not utf-8' > src/$'bad\\xff\\xfename'
            ln src/$'bad\\xff\\xfename' src/ü-dir/$'hard\\xfe'
            ln -s $'bad\\xff\\xfename' src/$'link\\xff'
            chown -R 999:998 src/ü-dir && chmod 750 src/ü-dir && chmod 640 'src/name with space ü.txt'
            touch -h -d 2021-03-04T05:06:07 src/* src/ü-dir/*
            """, in: root)
        let environment = ["/usr/bin/env"] + Self.locales[locale, default: []]
        let result = try TestSupport.run(
            URL(fileURLWithPath: environment[0]),
            Array(environment.dropFirst()) + [
                TestSupport.product("cwmigrate").path, "volumes", "snapshot", "postgresql", "--directory", "src",
                "--output", "snap.tar.zst", "--connectware-version", "1.8.0",
            ], currentDirectory: root)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.contains("files:     2 files, 2 directories, 1 symlinks"), "\(result.stdout)")
        try TestSupport.shell(
            "LC_ALL=C bsdtar -x --numeric-owner -p -f snap.tar.zst -C out", in: root)
        #expect(
            try Self.tree(root.appendingPathComponent("out/volume").path)
                == Self.tree(root.appendingPathComponent("src").path))
        let names = try TestSupport.shell("cd out/volume && find . | LC_ALL=C sort | od -An -c", in: root).stdout
        #expect(names.contains("377 376"), "\(names)")
    }

    /// Names (as bytes), kinds, modes, owners, sizes, link targets, times and contents.
    static func tree(_ directory: String) throws -> String {
        try TestSupport.shell(
            """
            cd '\(directory)' && { find . -printf '%p %y %m %U %G %s %l %n\\n' | LC_ALL=C sort; \
            find . ! -type d -printf '%p %Ts\\n' | LC_ALL=C sort; \
            find . -type f -print0 | LC_ALL=C sort -z | xargs -0r sha256sum; } | od -An -c
            """
        ).stdout
    }
}
