import Foundation

/// A unix socket server that accepts every connection and never answers: a daemon that hangs.
/// The thing under test is the client's deadline; Python's socket module is the stand-in.
public final class SilentSocketServer: @unchecked Sendable {
    private let program: RunningProgram

    public init(socket: String, log: URL) throws {
        let script = """
            import socket, sys
            server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            server.bind(sys.argv[1])
            server.listen(16)
            print("listening", flush=True)
            held = []
            while True:
                connection, _ = server.accept()
                held.append(connection)
            """
        program = try RunningProgram(
            URL(fileURLWithPath: "/usr/bin/python3"), ["-c", script, socket], readyPrefix: "listening", logFile: log)
    }

    public func stop() { program.stop() }
}
