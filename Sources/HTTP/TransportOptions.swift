/// How a client reaches servers: trust, socket, timeouts, retries, identity.
public struct TransportOptions: Sendable {
    /// A PEM file of CA certificates to trust instead of the system's (a Connectware's self-signed CA).
    public var caCertificatePath: String?
    /// Skip certificate and host name verification. Callers warn the operator when they set it
    /// (`TransportOptions.insecureWarning`).
    public var insecure: Bool
    /// Connect to this unix socket instead of the URL's host (Docker Engine API); URLs then look
    /// like `http://localhost/v1.41/version`.
    public var unixSocketPath: String?
    public var connectTimeout: Duration
    /// A transfer slower than `lowSpeedLimit` bytes per second for `lowSpeedTime` is abandoned.
    /// There is deliberately no total timeout: a 4 GiB upload may take long while it moves.
    public var lowSpeedLimit: Int
    public var lowSpeedTime: Duration
    public var retry: RetryPolicy
    /// The User-Agent header; the CLI sets `cwmigrate/<version>`.
    public var userAgent: String
    /// The largest body `send` keeps in memory; larger answers fail with `responseTooLarge`.
    public var maximumResponseBytes: Int
    /// The largest error body a download keeps when the server answers non-2xx.
    public var maximumErrorBodyBytes: Int

    /// The warning an operator sees whenever `insecure` is on.
    public static let insecureWarning =
        "TLS certificate verification is off (--insecure): the server's identity is not checked, "
        + "and credentials could reach an impostor"

    public init(
        caCertificatePath: String? = nil, insecure: Bool = false, unixSocketPath: String? = nil,
        connectTimeout: Duration = .seconds(15), lowSpeedLimit: Int = 1, lowSpeedTime: Duration = .seconds(60),
        retry: RetryPolicy = RetryPolicy(), userAgent: String = "cwmigrate",
        maximumResponseBytes: Int = 16 << 20, maximumErrorBodyBytes: Int = 64 << 10
    ) {
        self.caCertificatePath = caCertificatePath
        self.insecure = insecure
        self.unixSocketPath = unixSocketPath
        self.connectTimeout = connectTimeout
        self.lowSpeedLimit = lowSpeedLimit
        self.lowSpeedTime = lowSpeedTime
        self.retry = retry
        self.userAgent = userAgent
        self.maximumResponseBytes = maximumResponseBytes
        self.maximumErrorBodyBytes = maximumErrorBodyBytes
    }
}

/// How often a retryable request is tried (connection errors, 502/503/504) and how long to wait between tries.
public struct RetryPolicy: Sendable, Equatable {
    /// Total number of attempts, the first one included; 1 means no retry.
    public var attempts: Int
    public var backoffBase: Duration
    public var backoffMax: Duration

    public init(attempts: Int = 4, backoffBase: Duration = .milliseconds(500), backoffMax: Duration = .seconds(8)) {
        self.attempts = max(1, attempts)
        self.backoffBase = backoffBase
        self.backoffMax = backoffMax
    }

    public static let never = RetryPolicy(attempts: 1)

    /// The pause before attempt `attempt + 1`: doubling from the base, capped.
    public func delay(after attempt: Int) -> Duration {
        var delay = backoffBase
        for _ in 1..<max(1, attempt) where delay < backoffMax { delay = delay * 2 }
        return min(delay, backoffMax)
    }
}

extension Duration {
    var milliseconds: Int64 {
        let (seconds, attoseconds) = components
        return seconds * 1000 + attoseconds / 1_000_000_000_000_000
    }
}
